//! The referral as staff read it: labels for every choice, and the whole
//! form as text laid out like the paper 連絡票 (for the CLI `show` command).

use std::fmt::Write;

use time::Date;

use super::referral::{
    Child, ConsentStatus, Epds, Mother, Pregnancy, Referral, ReferralReason, ReferralTiming,
    SupportRequested,
};
use crate::i18n::Lang;

impl ReferralTiming {
    /// The name staff see.
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            ReferralTiming::Pregnancy => lang.pick("妊娠中", "during pregnancy"),
            ReferralTiming::Postpartum => lang.pick("出産後", "after birth"),
        }
    }
}

impl SupportRequested {
    /// The name staff see.
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            SupportRequested::Visit => lang.pick("訪問", "home visit"),
            SupportRequested::Contact => lang.pick("連絡", "contact"),
            SupportRequested::InformationOnly => lang.pick("情報共有のみ", "information only"),
        }
    }
}

impl ConsentStatus {
    /// The name staff see.
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            ConsentStatus::Agreed => lang.pick("説明し同意あり", "told and agreed"),
            ConsentStatus::Refused => lang.pick("説明したが同意なし", "told, did not agree"),
            ConsentStatus::NotTold => lang.pick("未説明", "not told yet"),
        }
    }
}

impl ReferralReason {
    /// The name of the box on the form; `Other` is just "その他" (its text is
    /// shown by [`render`]).
    pub fn label(&self, lang: Lang) -> &'static str {
        let (ja, en) = self.labels();
        lang.pick(ja, en)
    }

    fn labels(&self) -> (&'static str, &'static str) {
        use ReferralReason::*;
        match self {
            Young => ("若年", "young mother"),
            Older => ("高齢", "older mother"),
            Unbooked => (
                "未受診・受診回数が極端に少ない",
                "no or very few antenatal check-ups",
            ),
            LateNotification => ("妊娠届遅延", "late pregnancy notification"),
            UnplannedPregnancy => (
                "予期しない・望まない妊娠",
                "unexpected or unwanted pregnancy",
            ),
            MentalIllness => ("精神疾患", "mental illness"),
            Disability => ("知的・身体障害", "intellectual or physical disability"),
            SubstanceDependence => ("アルコール・薬物依存", "alcohol or drug dependence"),
            HighEpds => ("EPDS高値", "high EPDS score"),
            ParentingAnxiety => ("育児不安が強い", "strong anxiety about parenting"),
            AttachmentProblem => (
                "愛着の問題（子をかわいいと思えない等）",
                "attachment problems (e.g. cannot feel the baby is dear)",
            ),
            LowLifeSkills => ("生活能力が低い", "limited everyday living skills"),
            Poverty => ("経済的困窮", "financial hardship"),
            NoSupporter => ("支援者不在", "no one to support her"),
            SingleParent => ("未婚・ひとり親", "unmarried or single parent"),
            DomesticViolence => ("DV被害", "domestic violence"),
            UnstableHousing => ("住居不安定", "unstable housing"),
            ForeignLanguage => ("外国人・言語", "foreign national or language barrier"),
            MultipleBirth => ("多胎", "twins or more"),
            ChildIllnessOrLowBirthWeight => (
                "児の疾患・低出生体重",
                "child's illness or low birth weight",
            ),
            SiblingAbuseHistory => (
                "きょうだいの虐待歴・児相関与歴",
                "abuse of a sibling or child guidance centre involvement",
            ),
            Other(_) => ("その他", "other"),
        }
    }
}

/// The whole referral as a readable form, one field a line, in `lang`.
/// Sections and optional fields that are absent are left out.
pub fn render(referral: &Referral, lang: Lang) -> String {
    let mut form = Form {
        out: String::new(),
        lang,
    };
    let timing = referral.timing.label(lang);
    form.line(&match lang {
        Lang::Ja => format!("■ 連絡票（{timing}）"),
        Lang::En => format!("■ Referral ({timing})"),
    });
    form.mother(&referral.mother);
    if let Some(pregnancy) = &referral.pregnancy {
        form.pregnancy(pregnancy);
    }
    if let Some(child) = &referral.child {
        form.child(child);
    }
    form.reasons(&referral.reasons);
    if let Some(epds) = &referral.epds {
        form.epds(epds);
    }
    form.rest(referral);
    form.out
}

/// The text being written and the language it is written in.
struct Form {
    out: String,
    lang: Lang,
}

impl Form {
    fn line(&mut self, text: &str) {
        self.out.push_str(text);
        self.out.push('\n');
    }

    fn heading(&mut self, ja: &str, en: &str) {
        let text = match self.lang {
            Lang::Ja => format!("【{ja}】"),
            Lang::En => format!("[{en}]"),
        };
        self.line(&text);
    }

    fn field(&mut self, ja: &str, en: &str, value: &str) {
        let label = self.lang.pick(ja, en);
        // Writing to a String cannot fail.
        let _ = writeln!(self.out, "  {label}: {value}");
    }

    fn optional(&mut self, ja: &str, en: &str, value: Option<&str>) {
        if let Some(value) = value {
            self.field(ja, en, value);
        }
    }

    /// Free text, indented line by line so it reads as one block.
    fn block(&mut self, text: &str) {
        if text.trim().is_empty() {
            let none = self.lang.pick("（記入なし）", "(none given)");
            let _ = writeln!(self.out, "  {none}");
        }
        for line in text.lines() {
            let _ = writeln!(self.out, "  {line}");
        }
    }

    /// A count with its unit: `12週` in Japanese, `12 weeks` in English.
    fn weeks(&self, weeks: u8) -> String {
        match self.lang {
            Lang::Ja => format!("{weeks}週"),
            Lang::En => format!("{weeks} weeks"),
        }
    }

    fn yes_no(&self, yes: bool) -> String {
        let (ja, en) = if yes {
            ("あり", "yes")
        } else {
            ("なし", "no")
        };
        self.lang.pick(ja, en).to_string()
    }

    fn date(&self, date: Date) -> String {
        match self.lang {
            Lang::Ja => format!(
                "{}年{}月{}日",
                date.year(),
                u8::from(date.month()),
                date.day()
            ),
            Lang::En => date.to_string(),
        }
    }

    fn mother(&mut self, m: &Mother) {
        self.heading("妊産婦", "Mother");
        self.field("氏名", "Name", &format!("{}（{}）", m.name, m.furigana));
        self.field("生年月日", "Birth date", &self.date(m.birth_date));
        self.field("住所", "Address", &m.address);
        self.optional(
            "里帰り先",
            "Staying for the birth at",
            m.return_home_address.as_deref(),
        );
        self.field("電話", "Phone", &m.phone);
        self.optional("国籍", "Nationality", m.nationality.as_deref());
        self.optional("言語", "Language", m.language.as_deref());
    }

    fn pregnancy(&mut self, p: &Pregnancy) {
        self.heading("妊娠", "Pregnancy");
        self.field("妊娠週数", "Weeks", &self.weeks(p.gestational_weeks));
        self.field("分娩予定日", "Due date", &self.date(p.due_date));
        let counts = match self.lang {
            Lang::Ja => format!("妊娠{}回・出産{}回", p.gravida, p.para),
            Lang::En => format!("gravida {}, para {}", p.gravida, p.para),
        };
        self.field("妊娠・出産回数", "Pregnancies and births", &counts);
        self.field("多胎", "Twins or more", &self.yes_no(p.multiple));
        self.optional(
            "出産予定医療機関",
            "Planned birth at",
            p.planned_birth_facility.as_deref(),
        );
    }

    fn child(&mut self, c: &Child) {
        self.heading("出生児", "Child");
        self.field("出生日", "Born", &self.date(c.birth_date));
        self.field(
            "出生体重",
            "Birth weight",
            &format!("{}g", c.birth_weight_g),
        );
        self.field(
            "在胎週数",
            "Weeks at birth",
            &self.weeks(c.gestational_weeks_at_birth),
        );
        self.field("NICU入院", "NICU", &self.yes_no(c.nicu));
    }

    fn reasons(&mut self, reasons: &[ReferralReason]) {
        self.heading("支援が必要な理由", "Reasons for support");
        for reason in reasons {
            let label = reason.label(self.lang);
            let _ = match reason {
                ReferralReason::Other(text) => writeln!(self.out, "  ・{label}: {text}"),
                _ => writeln!(self.out, "  ・{label}"),
            };
        }
    }

    fn epds(&mut self, e: &Epds) {
        self.heading("EPDS", "EPDS");
        // Item 10 asks about self-harm: any score there needs attention.
        let attention = match e.item10 {
            0 => "",
            _ => self.lang.pick("・要注意", ", needs attention"),
        };
        let scores = match self.lang {
            Lang::Ja => format!("合計{}点（項目10: {}点{attention}）", e.total, e.item10),
            Lang::En => format!("total {} (item 10: {}{attention})", e.total, e.item10),
        };
        self.field("点数", "Scores", &scores);
        if let Some(items) = &e.items {
            let each: Vec<String> = items.iter().map(u8::to_string).collect();
            self.field("各項目（1〜10）", "Items 1–10", &each.join(" "));
        }
        self.field("実施日", "Taken on", &self.date(e.taken_on));
    }

    fn rest(&mut self, r: &Referral) {
        self.heading("状況・所見", "Situation and findings");
        self.block(&r.findings);
        self.heading("家族構成", "Household");
        self.block(&r.household);
        self.optional("キーパーソン", "Key person", r.key_person.as_deref());
        self.heading("依頼", "Request");
        self.field(
            "依頼内容",
            "Support requested",
            r.support_requested.label(self.lang),
        );
        let known = match r.already_known_to_municipality {
            true => self.lang.pick("既把握", "yes"),
            false => self.lang.pick("未把握", "no"),
        };
        self.field("市町村での把握", "Already known to the municipality", known);
        self.field("本人への説明・同意", "Consent", r.consent.label(self.lang));
        let categories: Vec<_> = r.categories().iter().map(|c| c.label(self.lang)).collect();
        self.field(
            "情報区分",
            "Information categories",
            &categories.join(self.lang.pick("、", ", ")),
        );
        if !r.attachments.is_empty() {
            let names: Vec<&str> = r.attachments.iter().map(|a| a.file_name.as_str()).collect();
            self.field(
                "添付",
                "Attachments",
                &names.join(self.lang.pick("、", ", ")),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;
    use crate::protocol::referral::demo_referral;

    fn demo() -> Referral {
        let mut r = demo_referral(date!(2026 - 11 - 23));
        r.reasons.push(ReferralReason::Other("前回死産".into()));
        r
    }

    #[test]
    fn the_japanese_form_shows_every_filled_field_with_japanese_labels() {
        let text = render(&demo(), Lang::Ja);
        for expected in [
            "■ 連絡票（妊娠中）",
            "  氏名: 山田 花子（やまだ はなこ）",
            "  生年月日: 2007年11月23日",
            "  妊娠週数: 12週",
            "  分娩予定日: 2027年6月7日",
            "  妊娠・出産回数: 妊娠1回・出産0回",
            "  ・未受診・受診回数が極端に少ない",
            "  ・その他: 前回死産",
            "  点数: 合計11点（項目10: 0点）",
            "MARKER-PLAINTEXT-7f3a",
            "  キーパーソン: 実母（県外在住・電話での相談は可）",
            "  依頼内容: 訪問",
            "  市町村での把握: 未把握",
            "  本人への説明・同意: 説明し同意あり",
            "  情報区分: 基本情報、妊娠・医療、精神保健、家族・養育環境",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in\n{text}");
        }
    }

    #[test]
    fn the_english_form_uses_english_labels() {
        let text = render(&demo(), Lang::En);
        for expected in [
            "■ Referral (during pregnancy)",
            "  Due date: 2027-06-07",
            "  ・no or very few antenatal check-ups",
            "  ・other: 前回死産",
            "  Support requested: home visit",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in\n{text}");
        }
        assert!(!text.contains("氏名"));
    }

    #[test]
    fn a_self_harm_score_is_marked_and_an_empty_household_says_so() {
        let mut r = demo();
        r.epds.as_mut().unwrap().item10 = 1;
        r.household.clear();
        let text = render(&r, Lang::Ja);
        assert!(
            text.contains("  点数: 合計11点（項目10: 1点・要注意）"),
            "{text}"
        );
        assert!(text.contains("【家族構成】\n  （記入なし）\n"), "{text}");
    }

    #[test]
    fn absent_sections_and_fields_are_left_out() {
        let text = render(&demo(), Lang::Ja);
        assert!(!text.contains("【出生児】"));
        assert!(!text.contains("里帰り先"));
    }

    #[test]
    fn every_reason_has_a_label_in_both_languages() {
        for reason in ReferralReason::LISTED {
            assert!(!reason.label(Lang::Ja).is_empty() && !reason.label(Lang::En).is_empty());
        }
    }
}
