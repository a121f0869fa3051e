//! 連絡票: the structured referral that travels inside the ciphertext.
//!
//! It mirrors the paper forms clinics send municipalities today (岡山県
//! ハイリスク妊産婦連絡票, 群馬県 妊産婦支援連絡票, 大阪府 要養育支援者情報提供票),
//! so staff recognise every field. Two things are deliberately *not* here: the
//! author (name, role, contact) travels beside it in `payload::Author`, and the
//! urgency travels in the envelope metadata, where the hub can route on it.
//!
//! Checking what a paper form would refuse lives in `validate`; which
//! information categories a referral discloses lives in `categories`.

mod categories;
mod validate;

use serde::{Deserialize, Serialize};
use time::{Date, Duration};

use super::InfoCategory;
use super::payload::Attachment;

pub use validate::{FieldError, ValidationErrors};

/// 連絡票: one referral about one woman (and, after birth, her baby).
///
/// Unknown fields are refused when parsing: a field the receiver's version
/// does not know would otherwise vanish silently, and staff would act on a
/// form with part of its content missing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Referral {
    /// 時期: during pregnancy or after birth; decides which section is required.
    pub timing: ReferralTiming,
    /// 妊産婦: the woman referred.
    pub mother: Mother,
    /// 妊娠の状況: required during pregnancy; after birth it may carry the
    /// obstetric history (妊娠回数・出産回数).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pregnancy: Option<Pregnancy>,
    /// 出生児: required after birth, refused during pregnancy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub child: Option<Child>,
    /// 支援が必要な理由: at least one, none twice.
    pub reasons: Vec<ReferralReason>,
    /// EPDS (エジンバラ産後うつ病質問票), when taken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epds: Option<Epds>,
    /// 状況・所見: what the author saw and heard, free text. Must not be empty.
    pub findings: String,
    /// 家族構成: who lives with her and who is around, free text; may be empty.
    #[serde(default)]
    pub household: String,
    /// キーパーソン: the person she relies on, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_person: Option<String>,
    /// 依頼内容: what the author asks the receiver to do.
    pub support_requested: SupportRequested,
    /// 既把握: the author believes the municipality already knows her.
    pub already_known_to_municipality: bool,
    /// 本人への説明・同意: whether she was told about the referral and agreed.
    pub consent: ConsentStatus,
    /// 情報区分 that the free text (状況・所見, 家族構成, キーパーソン, その他の理由)
    /// discloses beyond what the structured fields already imply, e.g.
    /// `economic` when the findings mention debts. The author declares them
    /// because no code can read free text; see [`Referral::categories`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_categories: Vec<InfoCategory>,
    /// 添付: files sent with the form (a PDF letter, a photo of the 母子手帳
    /// page), each checked by `protocol::attachment::attach` (PDF, PNG or
    /// JPEG by its bytes) and 5 MB in all. Encrypted with the rest; absent
    /// in older messages, which still parse.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
}

/// 時期: when the referral is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferralTiming {
    /// 妊娠中
    Pregnancy,
    /// 出産後
    Postpartum,
}

/// 妊産婦: the woman referred.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mother {
    /// 氏名
    pub name: String,
    /// ふりがな, in hiragana or katakana (katakana for most foreign names).
    pub furigana: String,
    /// 生年月日, `YYYY-MM-DD`.
    #[serde(with = "iso_date")]
    pub birth_date: Date,
    /// 住所: where she lives now (住民票 may differ; say so in the findings).
    pub address: String,
    /// 里帰り先: where she will stay around the birth, if she goes home for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_home_address: Option<String>,
    /// 電話: a number she can be reached on. When she has none, a household
    /// member's number with a note, e.g. `090-1234-5678（実母）`.
    pub phone: String,
    /// 国籍, when not Japanese.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nationality: Option<String>,
    /// 言語: the language she is easiest in, when not Japanese, and whether an
    /// interpreter is needed, e.g. `ベトナム語（通訳必要）`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

/// 妊娠の状況, as of the day the referral is written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pregnancy {
    /// 妊娠週数 (completed weeks), 0–45.
    pub gestational_weeks: u8,
    /// 分娩予定日, `YYYY-MM-DD`.
    #[serde(with = "iso_date")]
    pub due_date: Date,
    /// 妊娠回数, counting this pregnancy.
    pub gravida: u8,
    /// 出産回数 (before this pregnancy when pregnant).
    pub para: u8,
    /// 多胎: twins or more.
    #[serde(default)]
    pub multiple: bool,
    /// 出産予定医療機関, when decided.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub planned_birth_facility: Option<String>,
}

/// 出生児: the baby, after birth.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Child {
    /// 出生日, `YYYY-MM-DD`.
    #[serde(with = "iso_date")]
    pub birth_date: Date,
    /// 出生体重 in grams, 200–6000.
    pub birth_weight_g: u16,
    /// 在胎週数: completed weeks of gestation at birth, 0–45.
    pub gestational_weeks_at_birth: u8,
    /// NICU入院: the baby was admitted to a neonatal intensive care unit.
    #[serde(default)]
    pub nicu: bool,
}

/// 支援が必要な理由: the boxes ticked on the paper form.
///
/// On the wire the fixed reasons are strings (`"young"`) and `Other` is a
/// one-key table (`{ "other": "..." }` in JSON, `{ other = "..." }` in TOML),
/// so a list mixes both: `reasons = ["young", { other = "前回死産" }]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferralReason {
    /// 若年
    Young,
    /// 高齢
    Older,
    /// 未受診・受診回数が極端に少ない
    Unbooked,
    /// 妊娠届遅延
    LateNotification,
    /// 予期しない・望まない妊娠
    UnplannedPregnancy,
    /// 精神疾患
    MentalIllness,
    /// 知的・身体障害
    Disability,
    /// アルコール・薬物依存
    SubstanceDependence,
    /// EPDS高値 (requires the EPDS section)
    HighEpds,
    /// 育児不安が強い
    ParentingAnxiety,
    /// 愛着の問題（子をかわいいと思えない等）
    AttachmentProblem,
    /// 生活能力が低い
    LowLifeSkills,
    /// 経済的困窮
    Poverty,
    /// 支援者不在
    NoSupporter,
    /// 未婚・ひとり親
    SingleParent,
    /// DV被害
    DomesticViolence,
    /// 住居不安定
    UnstableHousing,
    /// 外国人・言語
    ForeignLanguage,
    /// 多胎
    MultipleBirth,
    /// 児の疾患・低出生体重
    ChildIllnessOrLowBirthWeight,
    /// きょうだいの虐待歴・児相関与歴
    SiblingAbuseHistory,
    /// その他, with what it is (must not be empty).
    Other(String),
}

impl ReferralReason {
    /// Every reason except `Other`, in form order (for pick lists and help).
    pub const LISTED: [ReferralReason; 21] = [
        Self::Young,
        Self::Older,
        Self::Unbooked,
        Self::LateNotification,
        Self::UnplannedPregnancy,
        Self::MentalIllness,
        Self::Disability,
        Self::SubstanceDependence,
        Self::HighEpds,
        Self::ParentingAnxiety,
        Self::AttachmentProblem,
        Self::LowLifeSkills,
        Self::Poverty,
        Self::NoSupporter,
        Self::SingleParent,
        Self::DomesticViolence,
        Self::UnstableHousing,
        Self::ForeignLanguage,
        Self::MultipleBirth,
        Self::ChildIllnessOrLowBirthWeight,
        Self::SiblingAbuseHistory,
    ];
}

/// EPDS (エジンバラ産後うつ病質問票) result. 9 or more suggests depression.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Epds {
    /// 合計点, 0–30.
    pub total: u8,
    /// 項目10 (自傷の考え: thoughts of harming herself), 0–3. Anything above 0
    /// needs attention whatever the total, which is why it is kept apart.
    pub item10: u8,
    /// 各項目の点数: items 1–10, 0–3 each, when they were entered one by one
    /// (the web form does; a file may give only the total). When present the
    /// total is their sum and `item10` their last.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<[u8; 10]>,
    /// 実施日, `YYYY-MM-DD`.
    #[serde(with = "iso_date")]
    pub taken_on: Date,
}

/// 依頼内容: what the author asks the receiver to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SupportRequested {
    /// 訪問: a home visit.
    Visit,
    /// 連絡: a phone call or interview.
    Contact,
    /// 情報共有のみ: for information; no action asked.
    InformationOnly,
}

/// 本人への説明・同意: whether she was told about the referral and agreed.
///
/// Placeholder until consent tracking exists: this records what the author
/// ticked, and nothing checks it against a recorded consent (with its
/// recipients, categories, purpose and period) yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentStatus {
    /// 説明し同意あり
    Agreed,
    /// 説明したが同意なし
    Refused,
    /// 未説明
    NotTold,
}

/// The demo case, dated relative to `today` so it never goes stale: a clinic
/// refers a 19-year-old first-time mother, unbooked until her first visit at
/// 12 weeks, EPDS 11, with no one to support her. Her name is fictional and
/// the findings carry `MARKER-PLAINTEXT-7f3a`, which tests look for in the
/// hub's database to prove it holds no plaintext.
pub fn demo_referral(today: Date) -> Referral {
    use ReferralReason::*;
    Referral {
        timing: ReferralTiming::Pregnancy,
        mother: demo_mother(today),
        pregnancy: Some(Pregnancy {
            gestational_weeks: 12,
            due_date: today.saturating_add(Duration::weeks(40 - 12)),
            gravida: 1,
            para: 0,
            multiple: false,
            planned_birth_facility: Some("みなと産婦人科クリニック（当院）".into()),
        }),
        child: None,
        reasons: vec![Young, Unbooked, UnplannedPregnancy, HighEpds, NoSupporter],
        epds: Some(Epds {
            total: 11,
            item10: 0,
            items: None,
            taken_on: today,
        }),
        findings: DEMO_FINDINGS.into(),
        household: "単身（アパートで一人暮らし）。パートナーとは別居し連絡が取れない。\
                    実家の両親は県外。"
            .into(),
        key_person: Some("実母（県外在住・電話での相談は可）".into()),
        support_requested: SupportRequested::Visit,
        already_known_to_municipality: false,
        consent: ConsentStatus::Agreed,
        extra_categories: Vec::new(),
        attachments: Vec::new(),
    }
}

const DEMO_FINDINGS: &str = "妊娠12週で初診。それまで妊婦健診は未受診。予期しない妊娠で、\
パートナーとは連絡が取れていない。実家は遠方で、身近に頼れる人がいない。\
EPDS 11点（項目10は0点）。表情は硬く、出産や育児について「何もわからない」と話す。\
[MARKER-PLAINTEXT-7f3a]";

fn demo_mother(today: Date) -> Mother {
    Mother {
        name: "山田 花子".into(),
        furigana: "やまだ はなこ".into(),
        birth_date: years_before(today, 19),
        address: "みなと市中央一丁目2番3号 コーポみなと201".into(),
        return_home_address: None,
        phone: "090-0000-0000".into(),
        nationality: None,
        language: None,
    }
}

/// The same month and day `years` earlier; 29 February becomes the 28th.
fn years_before(today: Date, years: i32) -> Date {
    let year = today.year() - years;
    today
        .replace_year(year)
        .or_else(|_| today.replace_day(28).and_then(|d| d.replace_year(year)))
        .unwrap_or(Date::MIN)
}

/// Dates as `YYYY-MM-DD` strings in every format. TOML's own date literals
/// (`due_date = 2027-10-01`, unquoted) are accepted too, because people
/// writing referral files by hand will use them.
mod iso_date {
    use std::fmt;

    use serde::de::{self, MapAccess, Visitor};
    use serde::{Deserializer, Serializer};
    use time::Date;
    use time::macros::format_description;

    const FORMAT: &[time::format_description::BorrowedFormatItem<'static>] =
        format_description!("[year]-[month]-[day]");

    /// The key toml_datetime uses for date literals (`datetime::FIELD`).
    const TOML_DATETIME_KEY: &str = "$__toml_private_datetime";

    pub fn serialize<S: Serializer>(date: &Date, serializer: S) -> Result<S::Ok, S::Error> {
        let text = date.format(FORMAT).map_err(serde::ser::Error::custom)?;
        serializer.serialize_str(&text)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Date, D::Error> {
        deserializer.deserialize_str(DateVisitor)
    }

    struct DateVisitor;

    impl<'de> Visitor<'de> for DateVisitor {
        type Value = Date;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a date as YYYY-MM-DD")
        }

        fn visit_str<E: de::Error>(self, text: &str) -> Result<Date, E> {
            Date::parse(text, FORMAT)
                .map_err(|e| E::custom(format_args!("日付は YYYY-MM-DD で / date `{text}`: {e}")))
        }

        /// The toml crate hands its date literals over as a one-entry map
        /// under a private key, whose value is the date's text. Only that
        /// key is accepted, so a map sent in JSON is still refused; the
        /// TOML date-literal test notices if the crate ever renames it.
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Date, A::Error> {
            match map.next_entry::<String, String>()? {
                Some((key, text)) if key == TOML_DATETIME_KEY => self.visit_str(&text),
                _ => Err(de::Error::invalid_type(de::Unexpected::Map, &self)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    const TODAY: Date = date!(2026 - 11 - 23);

    fn with_other_reason() -> Referral {
        let mut referral = demo_referral(TODAY);
        referral
            .reasons
            .push(ReferralReason::Other("前回妊娠時に死産".into()));
        referral
    }

    #[test]
    fn a_referral_survives_a_json_round_trip() {
        let referral = with_other_reason();
        let json = serde_json::to_string(&referral).unwrap();
        assert_eq!(serde_json::from_str::<Referral>(&json).unwrap(), referral);
    }

    #[test]
    fn a_referral_survives_a_toml_round_trip() {
        let referral = with_other_reason();
        let text = toml::to_string(&referral).unwrap();
        assert_eq!(toml::from_str::<Referral>(&text).unwrap(), referral);
    }

    #[test]
    fn other_reason_is_a_one_key_table_in_json_and_toml() {
        let reasons = vec![
            ReferralReason::Young,
            ReferralReason::Other("前回死産".into()),
        ];
        let json = serde_json::to_value(&reasons).unwrap();
        assert_eq!(json, serde_json::json!(["young", { "other": "前回死産" }]));
        let parsed: Reasons =
            toml::from_str(r#"reasons = ["young", { other = "前回死産" }]"#).unwrap();
        assert_eq!(parsed.reasons, reasons);
    }

    #[derive(Deserialize)]
    struct Reasons {
        reasons: Vec<ReferralReason>,
    }

    #[test]
    fn dates_are_written_as_iso_strings() {
        let json = serde_json::to_value(demo_referral(TODAY)).unwrap();
        assert_eq!(json["mother"]["birth_date"], "2007-11-23");
        assert_eq!(json["pregnancy"]["due_date"], "2027-06-07");
    }

    #[test]
    fn toml_date_literals_are_accepted_as_well_as_strings() {
        let bare: Epds = toml::from_str("total = 3\nitem10 = 0\ntaken_on = 2026-11-20").unwrap();
        let quoted: Epds =
            toml::from_str("total = 3\nitem10 = 0\ntaken_on = \"2026-11-20\"").unwrap();
        assert_eq!(bare.taken_on, date!(2026 - 11 - 20));
        assert_eq!(bare, quoted);
    }

    #[test]
    fn a_date_sent_as_a_json_object_is_refused() {
        let json = r#"{"total": 3, "item10": 0, "taken_on": {"date": "2026-11-20"}}"#;
        assert!(serde_json::from_str::<Epds>(json).is_err());
    }

    #[test]
    fn a_malformed_date_is_refused() {
        let result = toml::from_str::<Epds>("total = 3\nitem10 = 0\ntaken_on = \"2026/11/20\"");
        assert!(result.is_err());
    }

    #[test]
    fn an_unknown_field_is_refused_rather_than_dropped() {
        let mut json = serde_json::to_value(demo_referral(TODAY)).unwrap();
        json["mother"]["furigane"] = "やまだ".into();
        assert!(serde_json::from_value::<Referral>(json).is_err());
    }

    #[test]
    fn the_demo_mother_is_nineteen_even_on_a_leap_day() {
        let mother = demo_mother(date!(2028 - 02 - 29));
        assert_eq!(mother.birth_date, date!(2009 - 02 - 28));
    }

    #[test]
    fn the_example_file_parses_and_validates() {
        let text = include_str!("../../examples/referral.toml");
        let referral: Referral = toml::from_str(text).unwrap();
        assert_eq!(referral.validate(TODAY), Ok(()));
        // Staff copy this file: it carries no test marker.
        assert!(
            !referral.findings.contains("MARKER"),
            "{}",
            referral.findings
        );
    }

    #[test]
    fn the_example_file_is_the_demo_case_as_of_its_date() {
        let text = include_str!("../../examples/referral.toml");
        let mut expected = demo_referral(TODAY);
        // The demo's marker proves the hub stores no plaintext; the example omits it.
        expected.findings = expected.findings.replace("[MARKER-PLAINTEXT-7f3a]", "");
        assert_eq!(toml::from_str::<Referral>(text).unwrap(), expected);
    }

    /// Mirrors `payload::Body`, which carries the referral in an internally
    /// tagged enum: serde buffers the fields first, and the dates and the
    /// unknown-field check must still work through that buffer.
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(tag = "kind", rename_all = "snake_case")]
    enum Body {
        Referral(Box<Referral>),
    }

    #[test]
    fn a_referral_survives_a_round_trip_inside_a_tagged_body() {
        let body = Body::Referral(Box::new(with_other_reason()));
        let json = serde_json::to_string(&body).unwrap();
        assert_eq!(serde_json::from_str::<Body>(&json).unwrap(), body);
    }
}
