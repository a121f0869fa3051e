//! 記入チェック: what a paper 連絡票 would be sent back for.
//!
//! Every problem is collected, not just the first, so staff fix the form in
//! one pass. Choices beyond the obvious:
//! - A due date up to two weeks past is accepted during pregnancy: a woman at
//!   40–42 weeks is still pregnant, and refusing would leave no honest way to
//!   refer her.
//! - `high_epds` as a reason needs the EPDS section: the paper forms ask for
//!   the score next to the box, and the receiver needs the number (and item
//!   10) to judge, not just the word "high".
//! - The phone must hold at least 10 digits (Japanese numbers have 10 or 11)
//!   but may carry a note, e.g. `090-1234-5678（実母）`.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::{Date, Duration};

use super::{Child, Epds, Mother, Pregnancy, Referral, ReferralReason, ReferralTiming};
use crate::i18n::Lang;
use crate::protocol::attachment::{FileType, check_total};

/// One problem with one field of a referral, in both languages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// Dotted path of the field, e.g. `pregnancy.due_date` or `reasons[2]`.
    pub field: String,
    /// What is wrong, in Japanese (shown to staff by default).
    pub message_ja: String,
    /// What is wrong, in English.
    pub message_en: String,
}

impl FieldError {
    fn new(field: &str, message_ja: impl Into<String>, message_en: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message_ja: message_ja.into(),
            message_en: message_en.into(),
        }
    }

    /// The message in `lang`.
    pub fn message(&self, lang: Lang) -> &str {
        lang.pick(&self.message_ja, &self.message_en)
    }
}

/// Every problem found in a referral; never empty when returned as an error.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidationErrors(pub Vec<FieldError>);

impl fmt::Display for ValidationErrors {
    /// One line per problem: the field, then the Japanese and English text.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{}: {} / {}", e.field, e.message_ja, e.message_en)?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationErrors {}

/// Gestational weeks a form accepts, during pregnancy and at birth.
const WEEKS: std::ops::RangeInclusive<u8> = 0..=45;
/// How far the due date may drift from the one the weeks imply.
const DUE_DATE_SLACK_DAYS: i64 = 14;
/// Ages at which a woman can plausibly be pregnant or have just given birth.
const MOTHER_AGE: std::ops::RangeInclusive<i32> = 10..=60;
/// 出生体重 a form accepts, in grams.
const BIRTH_WEIGHT_G: std::ops::RangeInclusive<u16> = 200..=6000;

impl Referral {
    /// Check the referral as written on `today` (the sender's date; a
    /// receiver re-checking should pass the date it was sent, since the
    /// weeks and due date are only consistent on that day).
    pub fn validate(&self, today: Date) -> Result<(), ValidationErrors> {
        let mut c = Checks {
            today,
            errors: Vec::new(),
        };
        c.mother(&self.mother);
        c.sections(self);
        if let Some(pregnancy) = &self.pregnancy {
            c.pregnancy(pregnancy, self.timing == ReferralTiming::Pregnancy);
        }
        if let Some(child) = &self.child {
            c.child(child);
        }
        c.reasons(&self.reasons, self.epds.is_some());
        if let Some(epds) = &self.epds {
            c.epds(epds);
        }
        c.empty("findings", &self.findings, "状況・所見", "findings");
        c.attachments(&self.attachments);
        c.finish()
    }
}

/// The problems found so far, and the day the form is checked against.
///
/// Each check records what it finds and returns `true` when it found a
/// problem, so a caller can skip the checks that would only repeat it.
struct Checks {
    today: Date,
    errors: Vec<FieldError>,
}

impl Checks {
    fn finish(self) -> Result<(), ValidationErrors> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ValidationErrors(self.errors))
        }
    }

    fn flag(
        &mut self,
        bad: bool,
        field: &str,
        ja: impl Into<String>,
        en: impl Into<String>,
    ) -> bool {
        if bad {
            self.errors.push(FieldError::new(field, ja, en));
        }
        bad
    }

    fn empty(&mut self, field: &str, value: &str, ja: &str, en: &str) -> bool {
        let (ja, en) = (format!("{ja}が未記入です"), format!("{en} is empty"));
        self.flag(value.trim().is_empty(), field, ja, en)
    }

    fn in_future(&mut self, field: &str, date: Date, ja: &str, en: &str) -> bool {
        let (ja, en) = (
            format!("{ja}が未来の日付です"),
            format!("{en} is in the future"),
        );
        self.flag(date > self.today, field, ja, en)
    }

    fn weeks_out_of_range(&mut self, field: &str, weeks: u8, ja: &str, en: &str) -> bool {
        let ja = format!("{ja}は0〜45週で記入してください");
        self.flag(
            !WEEKS.contains(&weeks),
            field,
            ja,
            format!("{en} must be 0–45"),
        )
    }

    fn mother(&mut self, m: &Mother) {
        self.empty("mother.name", &m.name, "氏名", "the name");
        if !self.empty("mother.furigana", &m.furigana, "ふりがな", "the furigana") {
            self.furigana(&m.furigana);
        }
        self.birth_date(m.birth_date);
        self.empty("mother.address", &m.address, "住所", "the address");
        if !self.empty("mother.phone", &m.phone, "電話", "the phone number") {
            self.phone(&m.phone);
        }
    }

    fn furigana(&mut self, furigana: &str) {
        let bad = !furigana.chars().all(is_furigana_char);
        let ja = "ふりがなはひらがなかカタカナで記入してください";
        let en = "write the furigana in hiragana or katakana";
        self.flag(bad, "mother.furigana", ja, en);
    }

    fn birth_date(&mut self, birth: Date) {
        let field = "mother.birth_date";
        if self.in_future(field, birth, "生年月日", "the birth date") {
            return;
        }
        let age = age_on(birth, self.today);
        let ja = format!("生年月日から計算した年齢（{age}歳）が妊産婦としてありえません");
        let en = format!("the age from the birth date ({age}) is implausible for a mother");
        self.flag(!MOTHER_AGE.contains(&age), field, ja, en);
    }

    fn phone(&mut self, phone: &str) {
        let is_digit = |c: &char| c.is_ascii_digit() || ('０'..='９').contains(c);
        let too_short = phone.chars().filter(is_digit).count() < 10;
        let ja = "電話番号は市外局番から記入してください（数字10桁以上）";
        let en = "write the phone number with its area code (10 digits or more)";
        self.flag(too_short, "mother.phone", ja, en);
    }

    /// The section the timing needs is there, and the one it excludes is not.
    fn sections(&mut self, r: &Referral) {
        let pregnant = r.timing == ReferralTiming::Pregnancy;
        let ja = "妊娠中の連絡票には妊娠の状況（妊娠週数・分娩予定日など）が必要です";
        let en = "a referral during pregnancy needs the pregnancy section (weeks, due date…)";
        self.flag(pregnant && r.pregnancy.is_none(), "pregnancy", ja, en);
        let ja = "出産後の連絡票には出生児の情報が必要です";
        let en = "a referral after birth needs the child section";
        self.flag(!pregnant && r.child.is_none(), "child", ja, en);
        let ja = "妊娠中の連絡票に出生児の情報があります（出産後を選んでください）";
        let en = "a referral during pregnancy has a child section (choose postpartum)";
        self.flag(pregnant && r.child.is_some(), "child", ja, en);
    }

    /// After birth the section is obstetric history, so only the counts and
    /// the range of the weeks are checked, not the dates.
    fn pregnancy(&mut self, p: &Pregnancy, pregnant: bool) {
        let field = "pregnancy.gestational_weeks";
        let weeks = p.gestational_weeks;
        let weeks_bad = self.weeks_out_of_range(field, weeks, "妊娠週数", "the weeks");
        if pregnant && !self.due_date_past(p.due_date) && !weeks_bad {
            self.due_date_off(p);
        }
        self.gravida_para(p, pregnant);
    }

    fn due_date_past(&mut self, due: Date) -> bool {
        let past = (self.today - due).whole_days() > DUE_DATE_SLACK_DAYS;
        let ja = "分娩予定日が過去の日付です（2週間以上前）";
        let en = "the due date is more than 2 weeks past";
        self.flag(past, "pregnancy.due_date", ja, en)
    }

    /// Due date ≈ today + (40 − weeks) weeks, within two weeks either way.
    fn due_date_off(&mut self, p: &Pregnancy) {
        let to_go = Duration::weeks(40 - i64::from(p.gestational_weeks));
        let Some(expected) = self.today.checked_add(to_go) else {
            return;
        };
        let off = (p.due_date - expected).whole_days().abs() > DUE_DATE_SLACK_DAYS;
        let weeks = p.gestational_weeks;
        let ja = format!("分娩予定日が妊娠週数と合いません（妊娠{weeks}週なら{expected}前後）");
        let en = format!("the due date does not match {weeks} weeks (expected about {expected})");
        self.flag(off, "pregnancy.due_date", ja, en);
    }

    /// 妊娠回数 counts this pregnancy, so during pregnancy 出産回数 is below it.
    fn gravida_para(&mut self, p: &Pregnancy, pregnant: bool) {
        let ja = "妊娠回数は今回の妊娠を含めて1回以上です";
        let en = "gravida counts this pregnancy, so it is at least 1";
        if self.flag(p.gravida == 0, "pregnancy.gravida", ja, en) {
            return;
        }
        let most = if pregnant { p.gravida - 1 } else { p.gravida };
        let ja = "出産回数が妊娠回数に対して多すぎます（妊娠回数は今回を含めて数えます）";
        let en = "para is too high for gravida (gravida counts this pregnancy)";
        self.flag(p.para > most, "pregnancy.para", ja, en);
    }

    fn child(&mut self, c: &Child) {
        self.in_future("child.birth_date", c.birth_date, "出生日", "the birth date");
        let bad = !BIRTH_WEIGHT_G.contains(&c.birth_weight_g);
        let ja = "出生体重は200〜6000gで記入してください";
        let en = "the birth weight must be 200–6000 g";
        self.flag(bad, "child.birth_weight_g", ja, en);
        let (field, weeks) = (
            "child.gestational_weeks_at_birth",
            c.gestational_weeks_at_birth,
        );
        self.weeks_out_of_range(field, weeks, "在胎週数", "the weeks at birth");
    }

    fn reasons(&mut self, reasons: &[ReferralReason], has_epds: bool) {
        let (ja, en) = (
            "支援が必要な理由を1つ以上選んでください",
            "give at least one reason",
        );
        self.flag(reasons.is_empty(), "reasons", ja, en);
        for (i, reason) in reasons.iter().enumerate() {
            let field = format!("reasons[{i}]");
            let repeated = reasons[..i].contains(reason);
            let ja = format!("理由「{}」が重複しています", reason.label(Lang::Ja));
            let en = format!("“{}” is given twice", reason.label(Lang::En));
            self.flag(repeated, &field, ja, en);
            if let ReferralReason::Other(text) = reason {
                self.empty(&field, text, "その他の理由の内容", "the other reason");
            }
        }
        let epds_missing = reasons.contains(&ReferralReason::HighEpds) && !has_epds;
        let ja = "EPDS高値を理由にする場合はEPDSの点数を記入してください";
        let en = "a high EPDS as a reason needs the EPDS scores";
        self.flag(epds_missing, "epds", ja, en);
    }

    fn epds(&mut self, e: &Epds) {
        let (ja, en) = ("EPDSの合計点は0〜30点です", "the EPDS total must be 0–30");
        self.flag(e.total > 30, "epds.total", ja, en);
        let (ja, en) = ("EPDSの項目10は0〜3点です", "EPDS item 10 must be 0–3");
        if !self.flag(e.item10 > 3, "epds.item10", ja, en) {
            let ja = "EPDSの項目10の点数が合計点を超えています";
            let en = "EPDS item 10 is more than the total";
            self.flag(e.item10 > e.total, "epds.item10", ja, en);
        }
        self.in_future("epds.taken_on", e.taken_on, "EPDSの実施日", "the EPDS date");
        if let Some(items) = &e.items {
            self.epds_items(e, items);
        }
    }

    /// Items entered one by one: each 0–3, and the total and item 10 are
    /// what they say (a form that computed them wrongly is refused, not
    /// silently corrected: the receiver judges by these numbers).
    fn epds_items(&mut self, e: &Epds, items: &[u8; 10]) {
        let mut any_bad = false;
        for (i, score) in items.iter().enumerate() {
            let n = i + 1;
            let ja = format!("EPDSの項目{n}は0〜3点です");
            let en = format!("EPDS item {n} must be 0–3");
            any_bad |= self.flag(*score > 3, &format!("epds.items[{i}]"), ja, en);
        }
        if any_bad {
            return;
        }
        let sum: u8 = items.iter().sum();
        let ja = format!("EPDSの合計点が各項目の合計（{sum}点）と合いません");
        let en = format!("the EPDS total does not equal the sum of the items ({sum})");
        self.flag(e.total != sum, "epds.total", ja, en);
        let ja = "EPDSの項目10が各項目の10番目と合いません";
        let en = "EPDS item 10 differs from the tenth item";
        self.flag(e.item10 != items[9], "epds.item10", ja, en);
    }

    /// The same checks the upload made, again on what is sent and received:
    /// a file typed or sized otherwise never reaches a page.
    fn attachments(&mut self, files: &[super::Attachment]) {
        for (i, file) in files.iter().enumerate() {
            let sniffed = FileType::sniff(&file.bytes).map(FileType::media_type);
            let bad = sniffed != Some(file.media_type.as_str());
            let ja = format!(
                "添付ファイル「{}」はPDF・PNG・JPEGではありません",
                file.file_name
            );
            let en = format!(
                "the attached file {} is not a PDF, PNG or JPEG",
                file.file_name
            );
            self.flag(bad, &format!("attachments[{i}]"), ja, en);
        }
        let too_big = check_total(files).is_err();
        let (ja, en) = (
            "添付ファイルは合計5MBまでです",
            "attachments may hold 5 MB in all",
        );
        self.flag(too_big, "attachments", ja, en);
    }
}

/// Hiragana, katakana, ー, ・ (between parts of foreign names), the
/// iteration marks and spaces; full-width only, as on the paper forms.
fn is_furigana_char(c: char) -> bool {
    matches!(c,
        'ぁ'..='ゖ' | 'ゝ' | 'ゞ' | 'ァ'..='ヺ' | '・' | 'ー' | 'ヽ' | 'ヾ' | ' ' | '　')
}

/// Full years from `birth` to `today`.
fn age_on(birth: Date, today: Date) -> i32 {
    let had_birthday = (today.month(), today.day()) >= (birth.month(), birth.day());
    today.year() - birth.year() - i32::from(!had_birthday)
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::super::demo_referral;
    use super::*;

    const TODAY: Date = date!(2026 - 11 - 23);

    fn demo() -> Referral {
        demo_referral(TODAY)
    }

    /// The fields named by the errors, in order.
    fn failing_fields(referral: &Referral) -> Vec<String> {
        match referral.validate(TODAY) {
            Ok(()) => Vec::new(),
            Err(ValidationErrors(errors)) => errors.into_iter().map(|e| e.field).collect(),
        }
    }

    fn postpartum() -> Referral {
        let mut r = demo();
        r.timing = ReferralTiming::Postpartum;
        r.pregnancy = None;
        r.child = Some(Child {
            birth_date: date!(2026 - 11 - 10),
            birth_weight_g: 2300,
            gestational_weeks_at_birth: 36,
            nicu: true,
        });
        r
    }

    #[test]
    fn the_demo_referral_validates() {
        assert_eq!(demo().validate(TODAY), Ok(()));
    }

    #[test]
    fn a_postpartum_referral_with_a_child_validates() {
        assert_eq!(postpartum().validate(TODAY), Ok(()));
    }

    #[test]
    fn empty_required_text_fields_are_all_reported() {
        let mut r = demo();
        r.mother.name = " ".into();
        r.mother.furigana = String::new();
        r.mother.address = String::new();
        r.mother.phone = String::new();
        r.findings = "\n".into();
        let expected = [
            "mother.name",
            "mother.furigana",
            "mother.address",
            "mother.phone",
            "findings",
        ];
        assert_eq!(failing_fields(&r), expected);
    }

    #[test]
    fn furigana_in_kanji_or_latin_letters_is_rejected() {
        for furigana in ["山田 はなこ", "yamada hanako"] {
            let mut r = demo();
            r.mother.furigana = furigana.into();
            assert_eq!(failing_fields(&r), ["mother.furigana"], "{furigana}");
        }
    }

    #[test]
    fn katakana_furigana_with_long_vowels_and_dots_is_accepted() {
        let mut r = demo();
        r.mother.furigana = "グエン・ティ　マリー".into();
        assert_eq!(r.validate(TODAY), Ok(()));
    }

    #[test]
    fn a_phone_number_without_area_code_is_rejected_but_a_note_is_allowed() {
        let mut r = demo();
        r.mother.phone = "1234-5678".into();
        assert_eq!(failing_fields(&r), ["mother.phone"]);
        r.mother.phone = "０９０－１２３４－５６７８（実母）".into();
        assert_eq!(r.validate(TODAY), Ok(()));
    }

    #[test]
    fn a_birth_date_in_the_future_is_rejected_once() {
        let mut r = demo();
        r.mother.birth_date = date!(2026 - 12 - 01);
        assert_eq!(failing_fields(&r), ["mother.birth_date"]);
    }

    #[test]
    fn a_mother_under_ten_or_over_sixty_is_rejected() {
        for birth in [date!(2016 - 11 - 24), date!(1965 - 11 - 22)] {
            let mut r = demo();
            r.mother.birth_date = birth;
            assert_eq!(failing_fields(&r), ["mother.birth_date"], "{birth}");
        }
    }

    #[test]
    fn a_mother_of_exactly_ten_or_sixty_is_accepted() {
        for birth in [date!(2016 - 11 - 23), date!(1965 - 11 - 24)] {
            let mut r = demo();
            r.mother.birth_date = birth;
            assert_eq!(r.validate(TODAY), Ok(()), "{birth}");
        }
    }

    #[test]
    fn a_pregnancy_referral_without_a_pregnancy_section_is_rejected() {
        let mut r = demo();
        r.pregnancy = None;
        assert_eq!(failing_fields(&r), ["pregnancy"]);
    }

    #[test]
    fn a_postpartum_referral_without_a_child_section_is_rejected() {
        let mut r = postpartum();
        r.child = None;
        assert_eq!(failing_fields(&r), ["child"]);
    }

    #[test]
    fn a_child_section_during_pregnancy_is_rejected() {
        let mut r = demo();
        r.child = postpartum().child;
        assert_eq!(failing_fields(&r), ["child"]);
    }

    #[test]
    fn due_date_in_the_past_is_rejected_for_a_pregnancy() {
        let mut r = demo();
        let p = r.pregnancy.as_mut().unwrap();
        p.gestational_weeks = 42;
        p.due_date = date!(2026 - 11 - 01);
        assert_eq!(failing_fields(&r), ["pregnancy.due_date"]);
    }

    #[test]
    fn a_due_date_a_week_past_is_accepted_at_forty_one_weeks() {
        let mut r = demo();
        let p = r.pregnancy.as_mut().unwrap();
        p.gestational_weeks = 41;
        p.due_date = date!(2026 - 11 - 16);
        assert_eq!(r.validate(TODAY), Ok(()));
    }

    #[test]
    fn a_past_due_date_is_fine_in_the_obstetric_history_after_birth() {
        let mut history = demo().pregnancy.unwrap();
        history.due_date = date!(2026 - 10 - 01);
        history.para = 1;
        let mut r = postpartum();
        r.pregnancy = Some(history);
        assert_eq!(r.validate(TODAY), Ok(()));
    }

    #[test]
    fn gestational_weeks_over_forty_five_are_rejected() {
        let mut r = demo();
        r.pregnancy.as_mut().unwrap().gestational_weeks = 46;
        assert_eq!(failing_fields(&r), ["pregnancy.gestational_weeks"]);
    }

    #[test]
    fn a_due_date_that_does_not_match_the_weeks_is_rejected() {
        let mut r = demo();
        r.pregnancy.as_mut().unwrap().due_date = date!(2027 - 06 - 22);
        assert_eq!(failing_fields(&r), ["pregnancy.due_date"]);
    }

    #[test]
    fn a_due_date_two_weeks_off_is_still_accepted() {
        let mut r = demo();
        r.pregnancy.as_mut().unwrap().due_date = date!(2027 - 06 - 21);
        assert_eq!(r.validate(TODAY), Ok(()));
    }

    #[test]
    fn gravida_zero_or_para_not_below_gravida_is_rejected_during_pregnancy() {
        let mut r = demo();
        r.pregnancy.as_mut().unwrap().gravida = 0;
        assert_eq!(failing_fields(&r), ["pregnancy.gravida"]);
        r.pregnancy.as_mut().unwrap().gravida = 1;
        r.pregnancy.as_mut().unwrap().para = 1;
        assert_eq!(failing_fields(&r), ["pregnancy.para"]);
    }

    #[test]
    fn epds_scores_out_of_range_or_in_the_future_are_all_rejected() {
        let mut r = demo();
        r.epds = Some(Epds {
            total: 31,
            item10: 4,
            items: None,
            taken_on: date!(2026 - 11 - 24),
        });
        assert_eq!(
            failing_fields(&r),
            ["epds.total", "epds.item10", "epds.taken_on"]
        );
    }

    #[test]
    fn epds_item_ten_above_the_total_is_rejected() {
        let mut r = demo();
        r.epds = Some(Epds {
            total: 2,
            item10: 3,
            items: None,
            taken_on: TODAY,
        });
        assert_eq!(failing_fields(&r), ["epds.item10"]);
    }

    #[test]
    fn epds_items_must_add_up_to_the_total_and_end_with_item_ten() {
        let mut r = demo();
        let items = [2, 1, 2, 1, 1, 1, 1, 1, 1, 0];
        let epds = |total, item10, items| Epds {
            total,
            item10,
            items: Some(items),
            taken_on: TODAY,
        };
        r.epds = Some(epds(11, 0, items));
        assert_eq!(r.validate(TODAY), Ok(()));
        r.epds = Some(epds(12, 1, items));
        assert_eq!(failing_fields(&r), ["epds.total", "epds.item10"]);
        let mut wrong = items;
        wrong[3] = 4;
        r.epds = Some(epds(14, 0, wrong));
        assert_eq!(failing_fields(&r), ["epds.items[3]"]);
    }

    #[test]
    fn an_attachment_whose_bytes_are_not_its_type_is_rejected() {
        let mut r = demo();
        let pdf = crate::protocol::attachment::attach("a.pdf", b"%PDF-1.7".to_vec()).unwrap();
        r.attachments = vec![pdf.clone()];
        assert_eq!(r.validate(TODAY), Ok(()));
        let mut lying = pdf;
        lying.media_type = "image/png".into();
        r.attachments = vec![lying];
        assert_eq!(failing_fields(&r), ["attachments[0]"]);
    }

    #[test]
    fn a_referral_without_reasons_is_rejected() {
        let mut r = demo();
        r.reasons.clear();
        assert_eq!(failing_fields(&r), ["reasons"]);
    }

    #[test]
    fn a_duplicate_reason_is_rejected_at_its_second_place() {
        let mut r = demo();
        r.reasons.push(ReferralReason::Young);
        assert_eq!(failing_fields(&r), ["reasons[5]"]);
    }

    #[test]
    fn an_other_reason_with_empty_text_is_rejected() {
        let mut r = demo();
        r.reasons.push(ReferralReason::Other("  ".into()));
        assert_eq!(failing_fields(&r), ["reasons[5]"]);
    }

    #[test]
    fn two_different_other_reasons_are_allowed() {
        let mut r = demo();
        r.reasons.push(ReferralReason::Other("前回死産".into()));
        r.reasons.push(ReferralReason::Other("転居予定".into()));
        assert_eq!(r.validate(TODAY), Ok(()));
    }

    #[test]
    fn high_epds_as_a_reason_without_epds_scores_is_rejected() {
        let mut r = demo();
        r.epds = None;
        assert_eq!(failing_fields(&r), ["epds"]);
    }

    #[test]
    fn a_birth_weight_outside_two_hundred_to_six_thousand_grams_is_rejected() {
        for grams in [199, 6001] {
            let mut r = postpartum();
            r.child.as_mut().unwrap().birth_weight_g = grams;
            assert_eq!(failing_fields(&r), ["child.birth_weight_g"], "{grams}");
        }
    }

    #[test]
    fn a_child_born_in_the_future_or_after_forty_five_weeks_is_rejected() {
        let mut r = postpartum();
        let child = r.child.as_mut().unwrap();
        child.birth_date = date!(2026 - 11 - 24);
        child.gestational_weeks_at_birth = 46;
        let expected = ["child.birth_date", "child.gestational_weeks_at_birth"];
        assert_eq!(failing_fields(&r), expected);
    }

    #[test]
    fn errors_display_one_line_each_in_both_languages() {
        let mut r = demo();
        r.findings.clear();
        let text = r.validate(TODAY).unwrap_err().to_string();
        assert_eq!(text, "findings: 状況・所見が未記入です / findings is empty");
    }
}
