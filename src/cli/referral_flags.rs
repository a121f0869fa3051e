//! Building a referral from command-line flags, for
//! `tsunagu agency send --to … --urgency … [flags | --file referral.toml]`.
//!
//! Every flag is optional to clap, because a file may be given instead;
//! [`ReferralFlags::draft`] names whichever required ones are missing.
//! Choice values are the wire names in kebab case (`no-supporter` for
//! `no_supporter`), as clap writes them everywhere else.

use clap::Args;
use time::Date;
use time::macros::format_description;

use super::choices::choices;
use crate::protocol::InfoCategory;
use crate::protocol::referral::{
    Child, ConsentStatus, Epds, Mother, Pregnancy, Referral, ReferralReason, ReferralTiming,
    SupportRequested,
};

/// The referral's fields as flags (see `examples/referral.toml` for the file form).
#[derive(Clone, Debug, Default, Args)]
pub struct ReferralFlags {
    /// 時期 / timing
    #[arg(long, value_enum)]
    pub timing: Option<ReferralTiming>,
    /// 氏名 / name
    #[arg(long)]
    pub name: Option<String>,
    /// ふりがな / furigana
    #[arg(long)]
    pub furigana: Option<String>,
    /// 生年月日 / birth date
    #[arg(long, value_parser = parse_date, value_name = "YYYY-MM-DD")]
    pub birth_date: Option<Date>,
    /// 住所 / address
    #[arg(long)]
    pub address: Option<String>,
    /// 里帰り先 / where she stays for the birth
    #[arg(long)]
    pub return_home: Option<String>,
    /// 電話 / phone
    #[arg(long)]
    pub phone: Option<String>,
    /// 国籍 / nationality
    #[arg(long)]
    pub nationality: Option<String>,
    /// 言語（通訳の要否）/ language (interpreter needed?)
    #[arg(long)]
    pub language: Option<String>,
    /// 妊娠週数 / weeks pregnant
    #[arg(long)]
    pub weeks: Option<u8>,
    /// 分娩予定日 / due date
    #[arg(long, value_parser = parse_date, value_name = "YYYY-MM-DD")]
    pub due_date: Option<Date>,
    /// 妊娠回数（今回を含む）/ gravida (counting this pregnancy)
    #[arg(long)]
    pub gravida: Option<u8>,
    /// 出産回数 / para
    #[arg(long)]
    pub para: Option<u8>,
    /// 多胎 / twins or more
    #[arg(long)]
    pub multiple: bool,
    /// 出産予定医療機関 / planned birth facility
    #[arg(long)]
    pub birth_facility: Option<String>,
    /// 児の出生日 / child's birth date
    #[arg(long, value_parser = parse_date, value_name = "YYYY-MM-DD")]
    pub child_birth_date: Option<Date>,
    /// 出生体重 (g) / birth weight in grams
    #[arg(long)]
    pub birth_weight: Option<u16>,
    /// 在胎週数 / weeks at birth
    #[arg(long)]
    pub weeks_at_birth: Option<u8>,
    /// NICU入院 / admitted to NICU
    #[arg(long)]
    pub nicu: bool,
    /// 支援が必要な理由（複数可）/ reason for support (repeatable)
    #[arg(long = "reason", value_enum, value_name = "REASON")]
    pub reasons: Vec<ReferralReason>,
    /// その他の理由（複数可）/ other reason, in words (repeatable)
    #[arg(long = "other-reason", value_name = "TEXT")]
    pub other_reasons: Vec<String>,
    /// EPDS合計点 / EPDS total
    #[arg(long)]
    pub epds_total: Option<u8>,
    /// EPDS項目10 / EPDS item 10
    #[arg(long)]
    pub epds_item10: Option<u8>,
    /// EPDS実施日（省略時は今日）/ EPDS date (default: today)
    #[arg(long, value_parser = parse_date, value_name = "YYYY-MM-DD")]
    pub epds_date: Option<Date>,
    /// 状況・所見 / situation and findings
    #[arg(long)]
    pub findings: Option<String>,
    /// 家族構成 / household
    #[arg(long)]
    pub household: Option<String>,
    /// キーパーソン / key person
    #[arg(long)]
    pub key_person: Option<String>,
    /// 依頼内容 / support requested
    #[arg(long, value_enum)]
    pub support: Option<SupportRequested>,
    /// 市町村が既に把握している / already known to the municipality
    #[arg(long)]
    pub known: bool,
    /// 本人への説明・同意 / whether she was told and agreed
    #[arg(long, value_enum)]
    pub consent: Option<ConsentStatus>,
}

impl ReferralFlags {
    /// The referral these flags describe, with placeholders for the
    /// required flags not given, and those flags, so the caller can check the
    /// whole form in one pass. Sections (pregnancy, child, EPDS) are filled
    /// only when one of their flags is given; the result is not yet validated.
    pub fn draft(&self, today: Date) -> (Referral, Vec<&'static str>) {
        let mut need = Needed::default();
        let referral = Referral {
            timing: need.get("--timing", &self.timing, ReferralTiming::Pregnancy),
            mother: self.mother(&mut need),
            pregnancy: self.pregnancy(&mut need),
            child: self.child(&mut need),
            reasons: self.reasons(),
            epds: self.epds(&mut need, today),
            findings: need.get("--findings", &self.findings, String::new()),
            household: self.household.clone().unwrap_or_default(),
            key_person: non_blank(&self.key_person),
            support_requested: need.get("--support", &self.support, SupportRequested::Contact),
            already_known_to_municipality: self.known,
            consent: need.get("--consent", &self.consent, ConsentStatus::NotTold),
            // `--also-category` belongs to `send`, so that it also works with --file.
            extra_categories: Vec::new(),
            attachments: Vec::new(),
        };
        (referral, need.0)
    }

    fn mother(&self, need: &mut Needed) -> Mother {
        Mother {
            name: need.get("--name", &self.name, String::new()),
            furigana: need.get("--furigana", &self.furigana, String::new()),
            birth_date: need.get("--birth-date", &self.birth_date, Date::MIN),
            address: need.get("--address", &self.address, String::new()),
            return_home_address: non_blank(&self.return_home),
            phone: need.get("--phone", &self.phone, String::new()),
            nationality: non_blank(&self.nationality),
            language: non_blank(&self.language),
        }
    }

    fn pregnancy(&self, need: &mut Needed) -> Option<Pregnancy> {
        let given = self.weeks.is_some()
            || self.due_date.is_some()
            || self.gravida.is_some()
            || self.para.is_some()
            || self.multiple
            || self.birth_facility.is_some();
        given.then(|| Pregnancy {
            gestational_weeks: need.get("--weeks", &self.weeks, 0),
            due_date: need.get("--due-date", &self.due_date, Date::MIN),
            gravida: need.get("--gravida", &self.gravida, 0),
            para: need.get("--para", &self.para, 0),
            multiple: self.multiple,
            planned_birth_facility: non_blank(&self.birth_facility),
        })
    }

    fn child(&self, need: &mut Needed) -> Option<Child> {
        let given = self.child_birth_date.is_some()
            || self.birth_weight.is_some()
            || self.weeks_at_birth.is_some()
            || self.nicu;
        given.then(|| Child {
            birth_date: need.get("--child-birth-date", &self.child_birth_date, Date::MIN),
            birth_weight_g: need.get("--birth-weight", &self.birth_weight, 0),
            gestational_weeks_at_birth: need.get("--weeks-at-birth", &self.weeks_at_birth, 0),
            nicu: self.nicu,
        })
    }

    fn reasons(&self) -> Vec<ReferralReason> {
        let others = self
            .other_reasons
            .iter()
            .map(|text| ReferralReason::Other(text.clone()));
        self.reasons.iter().cloned().chain(others).collect()
    }

    fn epds(&self, need: &mut Needed, today: Date) -> Option<Epds> {
        let given =
            self.epds_total.is_some() || self.epds_item10.is_some() || self.epds_date.is_some();
        given.then(|| Epds {
            total: need.get("--epds-total", &self.epds_total, 0),
            // Item 10 is asked for explicitly: it is the self-harm item, and
            // a silent 0 would read as "no thoughts of self-harm".
            item10: need.get("--epds-item10", &self.epds_item10, 0),
            items: None,
            taken_on: self.epds_date.unwrap_or(today),
        })
    }
}

/// The required flags that were not given. Missing values are replaced by
/// placeholders so the whole form can be walked once; the placeholders never
/// leave, because `send` refuses the form if anything is missing.
#[derive(Default)]
struct Needed(Vec<&'static str>);

impl Needed {
    fn get<T: Clone>(&mut self, flag: &'static str, value: &Option<T>, placeholder: T) -> T {
        match value {
            Some(value) => value.clone(),
            None => {
                self.0.push(flag);
                placeholder
            }
        }
    }
}

/// The line that names every missing flag.
pub fn missing_message(flags: &[&str]) -> String {
    let flags = flags.join(", ");
    format!(
        "次のフラグが足りません: {flags}（--file で連絡票ファイルを渡すこともできます）\n\
         missing flags: {flags} (or pass a referral file with --file)"
    )
}

/// The form section a missing flag's placeholder sits in: validation errors
/// there only repeat (or follow from) the missing flag, so they are dropped.
pub fn section_of(flag: &str) -> Option<&'static str> {
    Some(match flag {
        "--name" | "--furigana" | "--birth-date" | "--address" | "--phone" => "mother",
        "--weeks" | "--due-date" | "--gravida" | "--para" => "pregnancy",
        "--child-birth-date" | "--birth-weight" | "--weeks-at-birth" => "child",
        "--epds-total" | "--epds-item10" => "epds",
        "--findings" => "findings",
        _ => return None,
    })
}

fn non_blank(value: &Option<String>) -> Option<String> {
    value.clone().filter(|text| !text.trim().is_empty())
}

fn parse_date(text: &str) -> Result<Date, String> {
    Date::parse(text, format_description!("[year]-[month]-[day]")).map_err(|_| {
        format!("日付は YYYY-MM-DD で書いてください / write the date as YYYY-MM-DD: {text}")
    })
}

choices!(ReferralTiming { Pregnancy => "pregnancy", Postpartum => "postpartum", });
choices!(SupportRequested {
    Visit => "visit",
    Contact => "contact",
    InformationOnly => "information-only",
});
choices!(ConsentStatus { Agreed => "agreed", Refused => "refused", NotTold => "not-told", });
// `other` takes text, so it is its own flag (--other-reason).
choices!(ReferralReason {
    Young => "young",
    Older => "older",
    Unbooked => "unbooked",
    LateNotification => "late-notification",
    UnplannedPregnancy => "unplanned-pregnancy",
    MentalIllness => "mental-illness",
    Disability => "disability",
    SubstanceDependence => "substance-dependence",
    HighEpds => "high-epds",
    ParentingAnxiety => "parenting-anxiety",
    AttachmentProblem => "attachment-problem",
    LowLifeSkills => "low-life-skills",
    Poverty => "poverty",
    NoSupporter => "no-supporter",
    SingleParent => "single-parent",
    DomesticViolence => "domestic-violence",
    UnstableHousing => "unstable-housing",
    ForeignLanguage => "foreign-language",
    MultipleBirth => "multiple-birth",
    ChildIllnessOrLowBirthWeight => "child-illness-or-low-birth-weight",
    SiblingAbuseHistory => "sibling-abuse-history",
});
choices!(InfoCategory {
    Basic => "basic",
    PregnancyMedical => "pregnancy-medical",
    MentalHealth => "mental-health",
    Family => "family",
    Economic => "economic",
    ChildDevelopment => "child-development",
    Childcare => "childcare",
    Protection => "protection",
});

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser, ValueEnum};
    use time::macros::date;

    use super::*;
    use crate::protocol::referral::demo_referral;

    const TODAY: Date = date!(2026 - 11 - 23);

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        flags: ReferralFlags,
    }

    fn parse(args: &[&str]) -> ReferralFlags {
        let argv = std::iter::once("send").chain(args.iter().copied());
        Cli::try_parse_from(argv).unwrap().flags
    }

    fn demo_args(findings: &str) -> Vec<&str> {
        #[rustfmt::skip]
        let args = vec![
            "--timing", "pregnancy", "--name", "山田 花子", "--furigana", "やまだ はなこ",
            "--birth-date", "2007-11-23", "--address", "みなと市中央一丁目2番3号 コーポみなと201",
            "--phone", "090-0000-0000", "--weeks", "12", "--due-date", "2027-06-07",
            "--gravida", "1", "--para", "0", "--birth-facility", "みなと産婦人科クリニック（当院）",
            "--reason", "young", "--reason", "unbooked", "--reason", "unplanned-pregnancy",
            "--reason", "high-epds", "--reason", "no-supporter",
            "--epds-total", "11", "--epds-item10", "0", "--findings", findings,
            "--household", "単身（アパートで一人暮らし）。パートナーとは別居し連絡が取れない。実家の両親は県外。",
            "--key-person", "実母（県外在住・電話での相談は可）",
            "--support", "visit", "--consent", "agreed",
        ];
        args
    }

    #[test]
    fn the_flags_are_well_formed_for_clap() {
        Cli::command().debug_assert();
    }

    #[test]
    fn flags_for_the_demo_case_build_the_demo_referral() {
        let expected = demo_referral(TODAY);
        let flags = parse(&demo_args(&expected.findings));
        assert_eq!(flags.draft(TODAY), (expected, vec![]));
    }

    #[test]
    fn other_reasons_and_known_are_carried_over() {
        let mut args = demo_args("所見");
        args.extend(["--other-reason", "前回死産", "--known"]);
        let (referral, missing) = parse(&args).draft(TODAY);
        assert_eq!(missing, Vec::<&str>::new());
        assert_eq!(
            referral.reasons.last(),
            Some(&ReferralReason::Other("前回死産".into()))
        );
        assert!(referral.already_known_to_municipality);
    }

    #[test]
    fn a_child_section_is_built_only_from_child_flags() {
        let flags = parse(&[
            "--child-birth-date",
            "2026-11-10",
            "--birth-weight",
            "2300",
            "--weeks-at-birth",
            "36",
            "--nicu",
        ]);
        let child = flags.child(&mut Needed::default());
        let expected = Child {
            birth_date: date!(2026 - 11 - 10),
            birth_weight_g: 2300,
            gestational_weeks_at_birth: 36,
            nicu: true,
        };
        assert_eq!(child, Some(expected));
        assert_eq!(flags.pregnancy(&mut Needed::default()), None);
    }

    #[test]
    fn every_missing_required_flag_is_named_at_once() {
        let (_, missing) = parse(&["--weeks", "12", "--epds-total", "3"]).draft(TODAY);
        let error = missing_message(&missing);
        for flag in [
            "--timing",
            "--name",
            "--phone",
            "--due-date",
            "--para",
            "--epds-item10",
            "--consent",
        ] {
            assert!(error.contains(flag), "{flag} not in {error}");
        }
        assert!(!error.contains("--child-birth-date"));
    }

    #[test]
    fn a_malformed_date_is_refused_by_clap() {
        assert!(Cli::try_parse_from(["send", "--birth-date", "2007/11/23"]).is_err());
    }

    #[test]
    fn choice_names_are_the_wire_names_in_kebab_case() {
        let reasons = ReferralReason::value_variants();
        assert_eq!(reasons, ReferralReason::LISTED);
        for reason in reasons {
            assert_eq!(kebab_wire_name(reason), cli_name(reason));
        }
        for category in InfoCategory::value_variants() {
            assert_eq!(kebab_wire_name(category), cli_name(category));
        }
        assert_eq!(InfoCategory::value_variants(), InfoCategory::ALL);
    }

    fn kebab_wire_name(value: &impl serde::Serialize) -> String {
        serde_json::to_value(value)
            .unwrap()
            .as_str()
            .unwrap()
            .replace('_', "-")
    }

    fn cli_name(value: &impl ValueEnum) -> String {
        value.to_possible_value().unwrap().get_name().to_string()
    }
}
