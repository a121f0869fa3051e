//! The 連絡票 form as typed: every field kept as text (so a page shown
//! again holds exactly what was typed, and a draft can be saved half
//! done), and turned into a [`Referral`] with every problem named at its
//! field. Field names are the referral's own paths (`mother.name`,
//! `pregnancy.due_date`), so the protocol's checks point at form fields.

use serde::{Deserialize, Serialize};
use time::Date;
use time::macros::format_description;

use crate::protocol::referral::{
    Child, ConsentStatus, Epds, FieldError, Mother, Pregnancy, Referral, ReferralReason,
    ReferralTiming, SupportRequested,
};
use crate::protocol::{InfoCategory, Urgency};

/// Everything the form holds, as typed. Saved as a draft's JSON.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ComposeForm {
    /// `new`, or the id of a case this node holds.
    pub case: String,
    pub urgency: String,
    /// Agency ids ticked.
    pub recipients: Vec<String>,
    /// `consent:<id>` or a statutory basis's wire name.
    pub basis: String,
    pub justification: String,
    pub timing: String,
    pub mother: [String; 8],
    pub pregnancy: [String; 6],
    pub child: [String; 4],
    pub reasons: Vec<String>,
    pub reason_other: String,
    pub epds_items: [String; 10],
    /// The ten scores typed in one go (`2121111110`), as a midwife reads
    /// them off the scored sheet; when given, they stand for the lists.
    pub epds_quick: String,
    pub epds_taken_on: String,
    pub findings: String,
    pub household: String,
    pub key_person: String,
    pub support: String,
    pub already_known: String,
    pub consent: String,
    pub extra_categories: Vec<String>,
}

/// The field names of `mother`, `pregnancy` and `child`, in array order.
pub const MOTHER: [&str; 8] = [
    "mother.name",
    "mother.furigana",
    "mother.birth_date",
    "mother.address",
    "mother.phone",
    "mother.return_home_address",
    "mother.nationality",
    "mother.language",
];
pub const PREGNANCY: [&str; 6] = [
    "pregnancy.gestational_weeks",
    "pregnancy.due_date",
    "pregnancy.gravida",
    "pregnancy.para",
    "pregnancy.multiple",
    "pregnancy.planned_birth_facility",
];
pub const CHILD: [&str; 4] = [
    "child.birth_date",
    "child.birth_weight_g",
    "child.gestational_weeks_at_birth",
    "child.nicu",
];

/// The name of EPDS item `i` (0-based).
pub fn epds_item(i: usize) -> String {
    format!("epds.items[{i}]")
}

impl ComposeForm {
    /// Take one submitted field; unknown names are ignored.
    pub fn set(&mut self, name: &str, value: String) {
        let slot = |names: &[&str], n: &str| names.iter().position(|x| *x == n);
        if let Some(i) = slot(&MOTHER, name) {
            self.mother[i] = value;
        } else if let Some(i) = slot(&PREGNANCY, name) {
            self.pregnancy[i] = value;
        } else if let Some(i) = slot(&CHILD, name) {
            self.child[i] = value;
        } else if let Some(i) = (0..10).find(|i| epds_item(*i) == name) {
            self.epds_items[i] = value;
        } else {
            match name {
                "case" => self.case = value,
                "urgency" => self.urgency = value,
                "recipients" => self.recipients.push(value),
                "basis" => self.basis = value,
                "justification" => self.justification = value,
                "timing" => self.timing = value,
                "reasons" => self.reasons.push(value),
                "reason_other" => self.reason_other = value,
                "epds.taken_on" => self.epds_taken_on = value,
                "epds.quick" => self.epds_quick = value,
                "findings" => self.findings = value,
                "household" => self.household = value,
                "key_person" => self.key_person = value,
                "support_requested" => self.support = value,
                "already_known_to_municipality" => self.already_known = value,
                "consent" => self.consent = value,
                "extra_categories" => self.extra_categories.push(value),
                _ => {}
            }
        }
    }

    /// The value typed into a single-valued field, by its name.
    pub fn value(&self, name: &str) -> &str {
        let slot = |names: &[&str]| names.iter().position(|x| *x == name);
        if let Some(i) = slot(&MOTHER) {
            return &self.mother[i];
        }
        if let Some(i) = slot(&PREGNANCY) {
            return &self.pregnancy[i];
        }
        if let Some(i) = slot(&CHILD) {
            return &self.child[i];
        }
        if let Some(i) = (0..10).find(|i| epds_item(*i) == name) {
            return &self.epds_items[i];
        }
        match name {
            "case" => &self.case,
            "urgency" => &self.urgency,
            "basis" => &self.basis,
            "justification" => &self.justification,
            "timing" => &self.timing,
            "reason_other" => &self.reason_other,
            "epds.taken_on" => &self.epds_taken_on,
            "epds.quick" => &self.epds_quick,
            "findings" => &self.findings,
            "household" => &self.household,
            "key_person" => &self.key_person,
            "support_requested" => &self.support,
            "already_known_to_municipality" => &self.already_known,
            "consent" => &self.consent,
            _ => "",
        }
    }

    /// The EPDS total of the items entered (the form shows it; the referral
    /// carries it).
    pub fn epds_total(&self) -> Option<u8> {
        if let Some(Ok(scores)) = self.epds_typed() {
            return Some(scores.iter().sum());
        }
        let scores: Option<Vec<u8>> = self.epds_items.iter().map(|s| s.parse().ok()).collect();
        scores.map(|s| s.iter().sum())
    }

    /// The scores typed in one go, if any: ten digits 0–3 (spaces, commas
    /// and full-width digits allowed, as an IME may leave them), or the
    /// error to show at the field.
    fn epds_typed(&self) -> Option<Result<[u8; 10], FieldError>> {
        let typed = self.epds_quick.trim();
        if typed.is_empty() {
            return None;
        }
        let digits: Vec<u32> = typed
            .chars()
            .filter(|c| !matches!(c, ' ' | '\u{3000}' | ',' | '、' | '-'))
            .map(|c| match c {
                '０'..='９' => c as u32 - '０' as u32,
                '0'..='9' => c as u32 - '0' as u32,
                _ => u32::MAX,
            })
            .collect();
        let mut scores = [0u8; 10];
        let fits = digits.len() == 10 && digits.iter().all(|d| *d <= 3);
        if !fits {
            return Some(Err(error(
                "epds.quick",
                "項目1〜10の点数を、0〜3の数字10個で続けて入力してください（例: 2121111110）。",
                "type the ten item scores as ten digits 0–3 (e.g. 2121111110).",
            )));
        }
        for (score, d) in scores.iter_mut().zip(digits) {
            *score = d as u8;
        }
        Some(Ok(scores))
    }

    /// The urgency chosen.
    pub fn urgency(&self) -> Result<Urgency, FieldError> {
        Urgency::parse(&self.urgency)
            .ok_or_else(|| error("urgency", "緊急度を選んでください", "choose the urgency"))
    }

    /// What the list of drafts shows.
    pub fn title(&self) -> &str {
        self.mother[0].trim()
    }
}

fn error(field: &str, ja: &str, en: &str) -> FieldError {
    FieldError {
        field: field.into(),
        message_ja: ja.into(),
        message_en: en.into(),
    }
}

/// Reads the typed text into values, noting what cannot be read.
struct Reader<'a> {
    form: &'a ComposeForm,
    errors: Vec<FieldError>,
}

impl Reader<'_> {
    fn text(&self, name: &str) -> String {
        self.form.value(name).trim().to_owned()
    }

    fn optional(&self, name: &str) -> Option<String> {
        Some(self.text(name)).filter(|t| !t.is_empty())
    }

    fn date(&mut self, name: &str, label: &str, fallback: Date) -> Date {
        let text = self.text(name);
        let format = format_description!("[year]-[month]-[day]");
        match Date::parse(&text, format) {
            Ok(d) => d,
            Err(_) => {
                let (ja, en) = match text.is_empty() {
                    true => (
                        format!("{label}が未記入です"),
                        "the date is empty".to_owned(),
                    ),
                    false => (
                        format!("{label}は「2026-11-23」のように年-月-日で入力してください"),
                        format!("write the date as YYYY-MM-DD, not “{text}”"),
                    ),
                };
                self.errors.push(error(name, &ja, &en));
                fallback
            }
        }
    }

    fn number<T: std::str::FromStr + Default>(&mut self, name: &str, label: &str) -> T {
        let text = self.text(name);
        match text.parse() {
            Ok(n) => n,
            Err(_) => {
                let (ja, en) = match text.is_empty() {
                    true => (
                        format!("{label}が未記入です"),
                        "the number is empty".to_owned(),
                    ),
                    false => (
                        format!("{label}は半角数字で入力してください"),
                        "write a number (digits only)".to_owned(),
                    ),
                };
                self.errors.push(error(name, &ja, &en));
                T::default()
            }
        }
    }

    /// A choice by its wire name (the serde name of `T`).
    fn choice<T: serde::de::DeserializeOwned>(
        &mut self,
        name: &str,
        ja: &str,
        en: &str,
    ) -> Option<T> {
        let parsed = serde_json::from_value(serde_json::Value::String(self.text(name))).ok();
        if parsed.is_none() {
            self.errors.push(error(name, ja, en));
        }
        parsed
    }

    fn flag(&self, name: &str) -> bool {
        self.text(name) == "true"
    }
}

/// The referral the form describes and every problem at its field: what
/// cannot be read (an empty date, a word where a number goes) and then
/// what the protocol's own checks refuse, the same checks `agency send`
/// runs. With problems, the referral holds stand-ins and must not be sent.
pub fn read(form: &ComposeForm, today: Date) -> (Referral, Vec<FieldError>) {
    let mut r = Reader {
        form,
        errors: Vec::new(),
    };
    let timing: Option<ReferralTiming> = r.choice(
        "timing",
        "時期（妊娠中・出産後）を選んでください",
        "choose during pregnancy or after birth",
    );
    let pregnant = timing != Some(ReferralTiming::Postpartum);
    let mother = Mother {
        name: r.text("mother.name"),
        furigana: r.text("mother.furigana"),
        birth_date: r.date("mother.birth_date", "生年月日", today),
        address: r.text("mother.address"),
        return_home_address: r.optional("mother.return_home_address"),
        phone: r.text("mother.phone"),
        nationality: r.optional("mother.nationality"),
        language: r.optional("mother.language"),
    };
    let any = |names: &[&str]| names.iter().any(|n| !form.value(n).trim().is_empty());
    let pregnancy = (pregnant || any(&PREGNANCY[..4])).then(|| Pregnancy {
        gestational_weeks: r.number("pregnancy.gestational_weeks", "妊娠週数"),
        due_date: r.date("pregnancy.due_date", "分娩予定日", today),
        gravida: r.number("pregnancy.gravida", "妊娠回数"),
        para: r.number("pregnancy.para", "出産回数"),
        multiple: r.flag("pregnancy.multiple"),
        planned_birth_facility: r.optional("pregnancy.planned_birth_facility"),
    });
    let child = (!pregnant || any(&CHILD[..3])).then(|| Child {
        birth_date: r.date("child.birth_date", "出生日", today),
        birth_weight_g: r.number("child.birth_weight_g", "出生体重"),
        gestational_weeks_at_birth: r.number("child.gestational_weeks_at_birth", "在胎週数"),
        nicu: r.flag("child.nicu"),
    });
    let reasons = reasons(&mut r);
    let epds = epds(&mut r, today);
    let support: Option<SupportRequested> = r.choice(
        "support_requested",
        "依頼内容を選んでください",
        "choose what you ask the recipient to do",
    );
    let consent: Option<ConsentStatus> = r.choice(
        "consent",
        "本人への説明・同意の状況を選んでください",
        "choose whether she was told and agreed",
    );
    let extra_categories = form
        .extra_categories
        .iter()
        .filter_map(|c| serde_json::from_value::<InfoCategory>(c.as_str().into()).ok())
        .collect();
    let referral = Referral {
        timing: timing.unwrap_or(ReferralTiming::Pregnancy),
        mother,
        pregnancy,
        child,
        reasons,
        epds,
        findings: r.text("findings"),
        household: r.text("household"),
        key_person: r.optional("key_person"),
        support_requested: support.unwrap_or(SupportRequested::Visit),
        already_known_to_municipality: r.flag("already_known_to_municipality"),
        consent: consent.unwrap_or(ConsentStatus::NotTold),
        extra_categories,
        attachments: Vec::new(),
    };
    let mut errors = r.errors;
    if let Err(found) = referral.validate(today) {
        // A field that could not be read has its message already; checks
        // run on its stand-in value would only confuse (the due date is
        // checked against the weeks).
        let unread: Vec<String> = errors.iter().map(|e| e.field.clone()).collect();
        let pregnancy_unread = unread.iter().any(|f| f.starts_with("pregnancy."));
        let on_stand_in = |f: &str| {
            unread.iter().any(|u| u == f) || (f == "pregnancy.due_date" && pregnancy_unread)
        };
        errors.extend(found.0.into_iter().filter(|e| !on_stand_in(&e.field)));
    }
    (referral, errors)
}

fn reasons(r: &mut Reader) -> Vec<ReferralReason> {
    let mut reasons: Vec<ReferralReason> = r
        .form
        .reasons
        .iter()
        .filter(|v| v.as_str() != "other")
        .filter_map(|v| serde_json::from_value(v.as_str().into()).ok())
        .collect();
    if r.form.reasons.iter().any(|v| v == "other") {
        reasons.push(ReferralReason::Other(r.text("reason_other")));
    }
    reasons
}

/// The ten items, each chosen, or none at all (EPDS not taken).
fn epds(r: &mut Reader, today: Date) -> Option<Epds> {
    let items = &r.form.epds_items;
    let typed = r.form.epds_typed();
    if typed.is_none() && items.iter().all(|s| s.trim().is_empty()) {
        return None;
    }
    let mut scores = [0u8; 10];
    let lists = typed.is_none();
    match typed {
        Some(Ok(typed)) => scores = typed,
        Some(Err(e)) => r.errors.push(e),
        None => {}
    }
    for (i, score) in scores.iter_mut().enumerate() {
        if !lists {
            break;
        }
        let n = i + 1;
        match items[i].trim().parse::<u8>() {
            Ok(s) => *score = s,
            Err(_) => r.errors.push(error(
                &epds_item(i),
                &format!("EPDSの項目{n}の点数（0〜3）を選んでください"),
                &format!("choose the score of EPDS item {n} (0–3)"),
            )),
        }
    }
    let taken_on = match r.text("epds.taken_on").is_empty() {
        true => today,
        false => r.date("epds.taken_on", "EPDSの実施日", today),
    };
    Some(Epds {
        total: scores.iter().sum(),
        item10: scores[9],
        items: Some(scores),
        taken_on,
    })
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;
    use crate::protocol::referral::demo_referral;

    const TODAY: Date = date!(2026 - 11 - 23);

    /// The demo referral, typed into the form.
    fn demo_form() -> ComposeForm {
        let mut f = ComposeForm::default();
        let typed = [
            ("timing", "pregnancy"),
            ("mother.name", "山田 花子"),
            ("mother.furigana", "やまだ はなこ"),
            ("mother.birth_date", "2007-11-23"),
            ("mother.address", "みなと市中央一丁目2番3号 コーポみなと201"),
            ("mother.phone", "090-0000-0000"),
            ("pregnancy.gestational_weeks", "12"),
            ("pregnancy.due_date", "2027-06-07"),
            ("pregnancy.gravida", "1"),
            ("pregnancy.para", "0"),
            (
                "pregnancy.planned_birth_facility",
                "みなと産婦人科クリニック（当院）",
            ),
            ("reasons", "young"),
            ("reasons", "unbooked"),
            ("reasons", "unplanned_pregnancy"),
            ("reasons", "high_epds"),
            ("reasons", "no_supporter"),
            ("epds.taken_on", "2026-11-23"),
            ("findings", "所見"),
            ("household", "単身"),
            ("support_requested", "visit"),
            ("consent", "agreed"),
        ];
        for (name, value) in typed {
            f.set(name, value.into());
        }
        for (i, s) in ["2", "1", "2", "1", "1", "1", "1", "1", "1", "0"]
            .iter()
            .enumerate()
        {
            f.set(&epds_item(i), (*s).into());
        }
        f
    }

    #[test]
    fn the_scores_typed_in_one_go_stand_for_the_ten_lists() {
        let mut f = demo_form();
        for i in 0..10 {
            f.set(&epds_item(i), String::new());
        }
        // As an IME may leave them: full-width digits, a space.
        f.set("epds.quick", "２１２１１ 11110".into());
        assert_eq!(f.epds_total(), Some(11));
        let (r, errors) = read(&f, TODAY);
        assert_eq!(errors, []);
        let epds = r.epds.unwrap();
        assert_eq!(epds.items, Some([2, 1, 2, 1, 1, 1, 1, 1, 1, 0]));
        assert_eq!((epds.total, epds.item10), (11, 0));

        for wrong in ["212111111", "21211111104", "2121111114", "21211x1110"] {
            f.set("epds.quick", wrong.into());
            let (_, errors) = read(&f, TODAY);
            assert_eq!(
                errors.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(),
                ["epds.quick"],
                "{wrong}"
            );
            assert!(errors[0].message_ja.contains("0〜3の数字10個"), "{wrong}");
        }
    }

    #[test]
    fn the_typed_demo_referral_reads_as_the_demo_referral_with_its_items() {
        let (r, errors) = read(&demo_form(), TODAY);
        assert_eq!(errors, []);
        let demo = demo_referral(TODAY);
        assert_eq!(r.mother, demo.mother);
        assert_eq!(r.reasons, demo.reasons);
        let epds = r.epds.unwrap();
        assert_eq!((epds.total, epds.item10), (11, 0));
        assert_eq!(epds.items, Some([2, 1, 2, 1, 1, 1, 1, 1, 1, 0]));
    }

    #[test]
    fn unreadable_fields_are_named_and_not_checked_twice() {
        let mut f = demo_form();
        f.set("pregnancy.gestational_weeks", "十二".into());
        f.set("mother.birth_date", String::new());
        f.set("mother.name", " ".into());
        f.set(&epds_item(4), String::new());
        let fields: Vec<String> = read(&f, TODAY).1.into_iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            [
                "mother.birth_date",
                "pregnancy.gestational_weeks",
                "epds.items[4]",
                "mother.name"
            ]
        );
    }

    #[test]
    fn a_form_round_trips_through_its_draft_json() {
        let f = demo_form();
        let json = serde_json::to_string(&f).unwrap();
        assert_eq!(serde_json::from_str::<ComposeForm>(&json).unwrap(), f);
    }
}
