//! The 連絡票 form laid out for the page: sections of fields, each with its
//! label, what was typed, and its message when it is wrong. The template
//! draws every field the same way (label, input, message tied to it by
//! `aria-describedby`), so no field can be left without them.

use crate::i18n::Lang;
use crate::protocol::referral::{
    ConsentStatus, FieldError, ReferralReason, ReferralTiming, SupportRequested,
};
use crate::protocol::{InfoCategory, Urgency};

use super::form::{ComposeForm, epds_item};

/// How a field is drawn.
pub enum Kind {
    Text,
    Date,
    Number,
    Area,
    /// One of several (radio buttons).
    Radios,
    /// Any of several (checkboxes).
    Checks,
    /// One of several, in a list (EPDS scores, the case).
    Select,
    /// Files to attach.
    Files,
}

/// One choice of a radio, checkbox or select field.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub checked: bool,
    /// A sentence under the choice (what a legal basis means).
    pub hint: Option<String>,
}

/// One field as drawn.
pub struct Field {
    pub name: String,
    /// The element id: the name with every character HTML ids and CSS
    /// selectors dislike replaced.
    pub id: String,
    pub label: String,
    pub kind: Kind,
    pub value: String,
    pub choices: Vec<Choice>,
    pub required: bool,
    pub hint: Option<String>,
    pub error: Option<String>,
    /// `autocomplete="off"` and the like are not needed; inputmode helps
    /// phones and tablets bring up digits.
    pub numeric: bool,
}

impl Field {
    /// The id of the field's message element.
    pub fn error_id(&self) -> String {
        format!("{}-error", self.id)
    }

    /// The id of the field's hint element.
    pub fn hint_id(&self) -> String {
        format!("{}-hint", self.id)
    }

    /// What `aria-describedby` names: the hint and the message, if any.
    pub fn described_by(&self) -> String {
        let mut ids = Vec::new();
        if self.hint.is_some() {
            ids.push(self.hint_id());
        }
        if self.error.is_some() {
            ids.push(self.error_id());
        }
        ids.join(" ")
    }

    pub fn is_group(&self) -> bool {
        matches!(self.kind, Kind::Radios | Kind::Checks)
    }

    pub fn is_area(&self) -> bool {
        matches!(self.kind, Kind::Area)
    }

    pub fn is_select(&self) -> bool {
        matches!(self.kind, Kind::Select)
    }

    pub fn is_files(&self) -> bool {
        matches!(self.kind, Kind::Files)
    }

    /// The `type` of its `<input>`.
    pub fn input_type(&self) -> &'static str {
        match self.kind {
            Kind::Date => "date",
            Kind::Radios => "radio",
            Kind::Checks => "checkbox",
            Kind::Files => "file",
            // Digits with inputmode: type=number would take "1e3" and wheel
            // scrolls, and it refuses to show what was typed when wrong.
            _ => "text",
        }
    }

    /// The id of choice `n` of a group.
    pub fn choice_id(&self, n: &usize) -> String {
        format!("{}-{n}", self.id)
    }
}

/// The element id for a field name.
pub fn field_id(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!("f-{}", cleaned.trim_end_matches('-'))
}

/// The form field a protocol error belongs to (`reasons[2]` is the reasons
/// box; `pregnancy`, a missing section, its first field).
pub fn anchor(field: &str) -> String {
    match field {
        "pregnancy" => "pregnancy.gestational_weeks".into(),
        "child" => "child.birth_date".into(),
        "epds" | "epds.total" | "epds.item10" => epds_item(0),
        f if f.starts_with("reasons[") => "reasons".into(),
        f if f.starts_with("attachments") => "attachments".into(),
        f => f.to_owned(),
    }
}

/// A fieldset of the form.
pub struct Section {
    pub legend: String,
    pub fields: Vec<Field>,
    /// The EPDS section shows its computed total.
    pub epds_total: Option<String>,
    /// An extra class for the fieldset (`scores`: the EPDS lists side by side).
    pub class: &'static str,
}

/// Builds fields from the form and its errors.
pub struct Layout<'a> {
    pub form: &'a ComposeForm,
    pub errors: &'a [FieldError],
    pub lang: Lang,
}

impl Layout<'_> {
    fn t(&self, ja: &str, en: &str) -> String {
        self.lang.pick(ja, en).to_owned()
    }

    /// The first message for `name`.
    fn error(&self, name: &str) -> Option<String> {
        self.errors
            .iter()
            .find(|e| anchor(&e.field) == name)
            .map(|e| e.message(self.lang).to_owned())
    }

    pub fn field(&self, name: &str, label: String, kind: Kind) -> Field {
        Field {
            name: name.to_owned(),
            id: field_id(name),
            label,
            value: self.form.value(name).to_owned(),
            numeric: matches!(kind, Kind::Number),
            kind,
            choices: Vec::new(),
            required: false,
            hint: None,
            error: self.error(name),
        }
    }

    pub fn required(&self, name: &str, label: String, kind: Kind) -> Field {
        Field {
            required: true,
            ..self.field(name, label, kind)
        }
    }

    /// A group whose choices are (wire value, label); ticked as typed.
    pub fn choices(
        &self,
        mut field: Field,
        options: Vec<(String, String)>,
        ticked: &[String],
    ) -> Field {
        let single = [field.value.clone()];
        let ticked = match field.kind {
            Kind::Checks => ticked,
            _ => &single[..],
        };
        field.choices = options
            .into_iter()
            .map(|(value, label)| Choice {
                checked: ticked.contains(&value),
                value,
                label,
                hint: None,
            })
            .collect();
        field
    }

    fn hint(mut field: Field, hint: String) -> Field {
        field.hint = Some(hint);
        field
    }

    /// The 連絡票 itself, section by section.
    pub fn referral_sections(&self) -> Vec<Section> {
        vec![
            self.mother(),
            self.pregnancy(),
            self.child(),
            self.reasons(),
            self.epds(),
            self.situation(),
        ]
    }

    fn section(&self, ja: &str, en: &str, fields: Vec<Field>) -> Section {
        Section {
            legend: self.t(ja, en),
            fields,
            epds_total: None,
            class: "",
        }
    }

    fn mother(&self) -> Section {
        let l = |ja, en| self.t(ja, en);
        let timing = self.choices(
            self.required("timing", l("時期", "Timing"), Kind::Radios),
            [ReferralTiming::Pregnancy, ReferralTiming::Postpartum]
                .iter()
                .map(|t| (wire(t), t.label(self.lang).to_owned()))
                .collect(),
            &[],
        );
        let fields = vec![
            timing,
            self.required("mother.name", l("氏名", "Name"), Kind::Text),
            Self::hint(
                self.required("mother.furigana", l("ふりがな", "Furigana"), Kind::Text),
                l("ひらがなかカタカナで", "In hiragana or katakana"),
            ),
            self.required(
                "mother.birth_date",
                l("生年月日", "Date of birth"),
                Kind::Date,
            ),
            self.required("mother.address", l("住所", "Address"), Kind::Text),
            Self::hint(
                self.required("mother.phone", l("電話", "Phone"), Kind::Text),
                l(
                    "市外局番から。本人がいないときは家族の番号に続柄を添えて（例: 090-1234-5678（実母））",
                    "With the area code; a family member's number with who they are, if she has none",
                ),
            ),
            self.field(
                "mother.return_home_address",
                l("里帰り先", "Where she stays for the birth"),
                Kind::Text,
            ),
            self.field(
                "mother.nationality",
                l("国籍（日本以外のとき）", "Nationality (if not Japanese)"),
                Kind::Text,
            ),
            self.field(
                "mother.language",
                l(
                    "言語・通訳（日本語以外のとき）",
                    "Language, interpreter (if not Japanese)",
                ),
                Kind::Text,
            ),
        ];
        self.section("妊産婦", "The mother", fields)
    }

    fn pregnancy(&self) -> Section {
        let l = |ja, en| self.t(ja, en);
        let multiple = self.choices(
            self.field(
                "pregnancy.multiple",
                l("多胎", "Twins or more"),
                Kind::Checks,
            ),
            vec![("true".into(), l("多胎妊娠", "Twins or more"))],
            &[self.form.value("pregnancy.multiple").to_owned()],
        );
        let fields = vec![
            self.field(
                "pregnancy.gestational_weeks",
                l("妊娠週数", "Weeks of pregnancy"),
                Kind::Number,
            ),
            self.field(
                "pregnancy.due_date",
                l("分娩予定日", "Due date"),
                Kind::Date,
            ),
            Self::hint(
                self.field("pregnancy.gravida", l("妊娠回数", "Gravida"), Kind::Number),
                l("今回の妊娠を含めて", "Counting this pregnancy"),
            ),
            self.field("pregnancy.para", l("出産回数", "Para"), Kind::Number),
            multiple,
            self.field(
                "pregnancy.planned_birth_facility",
                l("出産予定医療機関", "Planned place of birth"),
                Kind::Text,
            ),
        ];
        self.section(
            "妊娠の状況（妊娠中は必須）",
            "Pregnancy (required during pregnancy)",
            fields,
        )
    }

    fn child(&self) -> Section {
        let l = |ja, en| self.t(ja, en);
        let nicu = self.choices(
            self.field("child.nicu", l("NICU入院", "NICU"), Kind::Checks),
            vec![("true".into(), l("NICUに入院した", "Admitted to the NICU"))],
            &[self.form.value("child.nicu").to_owned()],
        );
        let fields = vec![
            self.field("child.birth_date", l("出生日", "Date of birth"), Kind::Date),
            Self::hint(
                self.field(
                    "child.birth_weight_g",
                    l("出生体重（g）", "Birth weight (g)"),
                    Kind::Number,
                ),
                l("グラムで（例: 2300）", "In grams (e.g. 2300)"),
            ),
            self.field(
                "child.gestational_weeks_at_birth",
                l("在胎週数", "Weeks at birth"),
                Kind::Number,
            ),
            nicu,
        ];
        self.section(
            "出生児（出産後は必須）",
            "The baby (required after birth)",
            fields,
        )
    }

    fn reasons(&self) -> Section {
        let l = |ja, en| self.t(ja, en);
        let mut options: Vec<(String, String)> = ReferralReason::LISTED
            .iter()
            .map(|r| (wire(r), r.label(self.lang).to_owned()))
            .collect();
        options.push(("other".into(), l("その他", "Other")));
        let reasons = self.choices(
            self.required(
                "reasons",
                l(
                    "支援が必要な理由（1つ以上）",
                    "Why support is needed (one or more)",
                ),
                Kind::Checks,
            ),
            options,
            &self.form.reasons,
        );
        let fields = vec![
            reasons,
            self.field(
                "reason_other",
                l(
                    "その他の理由（「その他」を選んだとき）",
                    "Other reason (when “Other” is ticked)",
                ),
                Kind::Text,
            ),
        ];
        self.section("支援が必要な理由", "Reasons", fields)
    }

    fn epds(&self) -> Section {
        let scores: Vec<(String, String)> = std::iter::once((String::new(), "—".to_owned()))
            .chain((0..=3).map(|s| (s.to_string(), s.to_string())))
            .collect();
        let mut fields: Vec<Field> = (0..10)
            .map(|i| {
                let label = match (i, self.lang) {
                    (9, Lang::Ja) => "項目10（自傷の考え）".to_owned(),
                    (9, Lang::En) => "Item 10 (thoughts of self-harm)".to_owned(),
                    (_, Lang::Ja) => format!("項目{}", i + 1),
                    (_, Lang::En) => format!("Item {}", i + 1),
                };
                self.choices(
                    self.field(&epds_item(i), label, Kind::Select),
                    scores.clone(),
                    &[],
                )
            })
            .collect();
        // First, so a keyboard reaches it before the ten lists it fills.
        fields.insert(
            0,
            Field {
                hint: Some(self.t(
                    "採点した用紙を見ながら、項目1から10の点数を続けて入力できます（例: 2121111110）。入力すると下の各項目より優先します。",
                    "Type the ten scores from the scored sheet in one go (e.g. 2121111110); they take precedence over the lists below.",
                )),
                numeric: true,
                ..self.field(
                    "epds.quick",
                    self.t("点数をまとめて入力", "All ten scores at once"),
                    Kind::Text,
                )
            },
        );
        fields.push(self.field(
            "epds.taken_on",
            self.t("実施日（空欄なら今日）", "Taken on (today if empty)"),
            Kind::Date,
        ));
        let total = self
            .form
            .epds_total()
            .map_or_else(|| "—".to_owned(), |t| t.to_string());
        Section {
            epds_total: Some(total),
            class: "scores",
            ..self.section("EPDS（実施したとき）", "EPDS (when taken)", fields)
        }
    }

    fn situation(&self) -> Section {
        let l = |ja, en| self.t(ja, en);
        let support = self.choices(
            self.required(
                "support_requested",
                l("依頼内容", "What you ask"),
                Kind::Radios,
            ),
            [
                SupportRequested::Visit,
                SupportRequested::Contact,
                SupportRequested::InformationOnly,
            ]
            .iter()
            .map(|s| (wire(s), s.label(self.lang).to_owned()))
            .collect(),
            &[],
        );
        let consent = self.choices(
            self.required(
                "consent",
                l("本人への説明・同意", "Told and agreed"),
                Kind::Radios,
            ),
            [
                ConsentStatus::Agreed,
                ConsentStatus::Refused,
                ConsentStatus::NotTold,
            ]
            .iter()
            .map(|s| (wire(s), s.label(self.lang).to_owned()))
            .collect(),
            &[],
        );
        let known = self.choices(
            self.field(
                "already_known_to_municipality",
                l("市町村での把握", "Known to the municipality"),
                Kind::Checks,
            ),
            vec![(
                "true".into(),
                l(
                    "市町村はすでに把握している",
                    "The municipality already knows her",
                ),
            )],
            &[self.form.value("already_known_to_municipality").to_owned()],
        );
        let extra = self.choices(
            Self::hint(
                self.field("extra_categories", l("自由記述に含まれる情報", "What the free text discloses"), Kind::Checks),
                l(
                    "所見などに書いた内容が含む情報の種類（選んだ項目から自動で決まるもの以外）。同意の範囲と照らし合わせます。",
                    "Kinds of information the free text holds beyond what the ticked fields imply; checked against the consent.",
                ),
            ),
            InfoCategory::ALL
                .iter()
                .map(|c| (wire(c), c.label(self.lang).to_owned()))
                .collect(),
            &self.form.extra_categories,
        );
        let fields = vec![
            self.required(
                "findings",
                l("状況・所見", "Situation and findings"),
                Kind::Area,
            ),
            self.field("household", l("家族構成", "Household"), Kind::Area),
            self.field("key_person", l("キーパーソン", "Key person"), Kind::Text),
            support,
            consent,
            known,
            extra,
        ];
        self.section("状況と依頼", "Situation and request", fields)
    }

    /// The urgency, as radio buttons.
    pub fn urgency(&self) -> Field {
        self.choices(
            self.required("urgency", self.t("緊急度", "Urgency"), Kind::Radios),
            [Urgency::Emergency, Urgency::Early, Urgency::Normal]
                .iter()
                .map(|u| (u.as_str().to_owned(), u.label(self.lang).to_owned()))
                .collect(),
            &[],
        )
    }
}

/// The wire name of a unit enum variant (its serde name).
fn wire<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}
