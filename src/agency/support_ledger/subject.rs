//! One row of the 支援台帳: a pregnant woman, a child or a family, with the
//! items the national guideline lists, and what a row must hold to be kept.

use serde::{Deserialize, Serialize};

use crate::i18n::{Lang, labeled};
use crate::protocol::day::Day;
use crate::protocol::meeting::Level;

labeled!(
    /// 対象: whom the row is about.
    SubjectKind {
        /// 妊婦
        Pregnant => "pregnant", "妊婦", "pregnant woman";
        /// 子ども
        Child => "child", "子ども", "child";
        /// 世帯
        Family => "family", "世帯", "family";
    }
);

labeled!(
    /// 支援区分, from least to most support (the order matters: a change
    /// "toward 自立" is a change to a smaller tier).
    Tier {
        /// 自立（一般）
        Independent => "independent", "自立", "independent";
        /// セルフプラン
        SelfPlan => "self_plan", "セルフプラン", "self plan";
        /// 支援プラン対象
        SupportPlan => "support_plan", "支援プラン対象", "support plan";
        /// 特定妊婦・要支援・要保護
        Specified => "specified", "特定妊婦・要支援・要保護", "specified / needs support / needs protection";
    }
);

labeled!(
    /// 相談・接触の種別.
    ContactKind {
        /// 電話
        Phone => "phone", "電話", "phone";
        /// 面接
        Interview => "interview", "面接", "interview";
        /// 訪問
        Visit => "visit", "訪問", "home visit";
        /// 来所
        WalkIn => "walk_in", "来所", "walk-in";
        /// 関係機関から
        FromAgency => "from_agency", "関係機関から", "from an agency";
    }
);

labeled!(
    /// 伴走型相談支援: the contact points every pregnant woman is offered.
    ContactPoint {
        /// 妊娠届出時の面接
        Notification => "notification", "妊娠届出時の面接", "interview at the pregnancy notification";
        /// 妊娠8か月頃の面接
        Month8 => "month8", "妊娠8か月頃の面接", "interview around the 8th month";
        /// 乳児家庭全戸訪問（こんにちは赤ちゃん訪問）
        InfantVisit => "infant_visit", "乳児家庭全戸訪問", "infant home visit";
    }
);

labeled!(
    /// 乳幼児健診.
    Checkup {
        /// 3か月児健診
        Month3 => "month3", "3か月児健診", "3-month checkup";
        /// 1歳6か月児健診
        Month18 => "month18", "1歳6か月児健診", "18-month checkup";
        /// 3歳児健診
        Year3 => "year3", "3歳児健診", "3-year checkup";
    }
);

/// 支援台帳の一行. Every item but the number, kind and name may be blank:
/// a row starts from whatever the center first learns.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subject {
    /// 台帳番号: the center's own number, unique on the node.
    pub number: String,
    pub kind: SubjectKind,
    /// 氏名
    pub name: String,
    /// ふりがな
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub furigana: String,
    /// 生年月日
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<Day>,
    /// The mother's 台帳番号, for a child.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mother: Option<String>,
    /// 担当地区
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub district: String,
    /// 担当保健師
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub staff: String,
    /// 妊娠届出日
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notified_on: Option<Day>,
    /// 母子健康手帳交付日
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handbook_on: Option<Day>,
    /// 分娩予定日
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_date: Option<Day>,
    /// 出産（予定）医療機関
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub birth_facility: String,
    /// 家族構成
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub household: String,
    /// 就労
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub employment: String,
    /// 既往歴・出産歴
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub history: String,
    /// 要支援の有無
    #[serde(default)]
    pub needs_support: bool,
    /// 要支援の理由
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub needs_reason: String,
    /// 支援区分 (changed through [`super::change_tier`], which keeps history).
    pub tier: Tier,
    /// 緊急度
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urgency: Option<Level>,
    /// 重症度
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Level>,
    /// 次回接触予定日, when set by hand; otherwise the rules compute it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_contact_on: Option<Day>,
    /// 出生時の状況 (a child: weight, weeks, NICU, …).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub birth_status: String,
    /// 健診受診日: 3か月, 1歳6か月, 3歳 (blank: not yet attended).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkup_month3: Option<Day>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkup_month18: Option<Day>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkup_year3: Option<Day>,
    /// 終結: the center no longer follows the row (moved away, grown up).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_on: Option<Day>,
}

// `labeled!` writes the enum, so its derive list cannot take `Default`.
#[allow(clippy::derivable_impls)]
impl Default for SubjectKind {
    fn default() -> Self {
        Self::Pregnant
    }
}

#[allow(clippy::derivable_impls)]
impl Default for Tier {
    fn default() -> Self {
        Self::Independent
    }
}

impl Subject {
    /// The day a checkup was attended, if it was.
    pub fn checkup(&self, c: Checkup) -> Option<Day> {
        match c {
            Checkup::Month3 => self.checkup_month3,
            Checkup::Month18 => self.checkup_month18,
            Checkup::Year3 => self.checkup_year3,
        }
    }

    /// What is wrong with the row, by field, if it may not be kept on `today`.
    pub fn problems(&self, today: Day) -> Vec<SubjectProblem> {
        let mut out = Vec::new();
        if self.number.trim().is_empty() {
            out.push(SubjectProblem::Blank("number"));
        }
        if self.name.trim().is_empty() {
            out.push(SubjectProblem::Blank("name"));
        }
        for (field, day) in [
            ("birth_date", self.birth_date),
            ("notified_on", self.notified_on),
            ("handbook_on", self.handbook_on),
            ("checkup_month3", self.checkup_month3),
            ("checkup_month18", self.checkup_month18),
            ("checkup_year3", self.checkup_year3),
            ("closed_on", self.closed_on),
        ] {
            if let Some(day) = day.filter(|d| *d > today) {
                out.push(SubjectProblem::Future { field, day });
            }
        }
        if self.needs_support && self.needs_reason.trim().is_empty() {
            out.push(SubjectProblem::Blank("needs_reason"));
        }
        if self.kind == SubjectKind::Child && self.birth_date.is_none() {
            out.push(SubjectProblem::Blank("birth_date"));
        }
        if self.kind != SubjectKind::Child && self.mother.is_some() {
            out.push(SubjectProblem::MotherOfNonChild);
        }
        out
    }
}

/// Why a row cannot be kept as it is.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SubjectProblem {
    #[error("{0} is required")]
    Blank(&'static str),
    #[error("{field} {day} is in the future")]
    Future { field: &'static str, day: Day },
    #[error("only a child's row names a mother")]
    MotherOfNonChild,
}

impl SubjectProblem {
    /// The field the problem is about (the form marks it).
    pub fn field(&self) -> &'static str {
        match self {
            SubjectProblem::Blank(f) => f,
            SubjectProblem::Future { field, .. } => field,
            SubjectProblem::MotherOfNonChild => "mother",
        }
    }

    /// The problem in staff's words.
    pub fn text(&self, lang: Lang) -> String {
        let name = field_label(self.field(), lang);
        match (self, lang) {
            (SubjectProblem::Blank(_), Lang::Ja) => format!("{name}を入力してください"),
            (SubjectProblem::Blank(_), Lang::En) => format!("{name} is required"),
            (SubjectProblem::Future { day, .. }, Lang::Ja) => {
                format!("{name}（{day}）が未来の日付です")
            }
            (SubjectProblem::Future { day, .. }, Lang::En) => {
                format!("{name} ({day}) is in the future")
            }
            (SubjectProblem::MotherOfNonChild, Lang::Ja) => {
                "母の台帳番号は子どもの行にだけ書けます".into()
            }
            (SubjectProblem::MotherOfNonChild, Lang::En) => {
                "only a child's row names a mother".into()
            }
        }
    }
}

/// Every field of [`Subject`] by its serde name, with the column heading
/// staff know: the import's mapping, the export's headers and the form's
/// labels all read this one list.
pub const FIELDS: &[(&str, &str, &str)] = &[
    ("number", "台帳番号", "Ledger number"),
    ("kind", "対象", "Kind"),
    ("name", "氏名", "Name"),
    ("furigana", "ふりがな", "Furigana"),
    ("birth_date", "生年月日", "Birth date"),
    ("mother", "母の台帳番号", "Mother's ledger number"),
    ("district", "担当地区", "District"),
    ("staff", "担当保健師", "Public health nurse"),
    ("notified_on", "妊娠届出日", "Pregnancy notified on"),
    ("handbook_on", "母子健康手帳交付日", "Handbook issued on"),
    ("due_date", "分娩予定日", "Due date"),
    ("birth_facility", "出産(予定)医療機関", "Birth facility"),
    ("household", "家族構成", "Household"),
    ("employment", "就労", "Employment"),
    ("history", "既往歴・出産歴", "Medical and obstetric history"),
    ("needs_support", "要支援の有無", "Needs support"),
    ("needs_reason", "要支援の理由", "Reason support is needed"),
    ("tier", "支援区分", "Tier"),
    ("urgency", "緊急度", "Urgency"),
    ("severity", "重症度", "Severity"),
    (
        "next_contact_on",
        "次回接触予定日",
        "Next contact (set by hand)",
    ),
    ("birth_status", "出生時の状況", "Condition at birth"),
    ("checkup_month3", "3か月児健診", "3-month checkup"),
    ("checkup_month18", "1歳6か月児健診", "18-month checkup"),
    ("checkup_year3", "3歳児健診", "3-year checkup"),
    ("closed_on", "終結日", "Closed on"),
];

/// The fields that are days (`YYYY-MM-DD`): the form's date inputs, the
/// CLI's `--file` and the checks of future dates read this one list.
pub const DAY_FIELDS: &[&str] = &[
    "birth_date",
    "notified_on",
    "handbook_on",
    "due_date",
    "next_contact_on",
    "checkup_month3",
    "checkup_month18",
    "checkup_year3",
    "closed_on",
];

/// The heading staff know for a field.
pub fn field_label(field: &str, lang: Lang) -> &'static str {
    FIELDS
        .iter()
        .find(|(f, _, _)| *f == field)
        .map(|(_, ja, en)| lang.pick(ja, en))
        .unwrap_or("?")
}
