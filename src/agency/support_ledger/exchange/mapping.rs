//! What each column of an imported sheet becomes: a field of [`Subject`]
//! (by the headings of [`FIELDS`], Japanese or English, and a few spellings
//! staff use), one of the export's computed columns (read, never imported),
//! or ignored. Staff may override any column (`--map '列名=field'`, or the
//! page's mapping step).
//!
//! [`Subject`]: crate::agency::support_ledger::Subject

use super::cells::folded;
use crate::agency::support_ledger::FIELDS;
use crate::agency::support_ledger::subject::field_label;
use crate::i18n::Lang;

/// The fields a sheet must have a column for: without 対象 a child's row
/// would be read as a pregnant woman's, and without 支援区分 every row as
/// 自立; the file is refused rather than guessed at.
pub const REQUIRED: [&str; 4] = ["number", "name", "kind", "tier"];

/// The export's computed columns, after the data; an import ignores them.
pub const COMPUTED: [(&str, &str); 3] = [
    ("月齢", "Age in months"),
    ("次回接触予定日（計算）", "Next contact (computed)"),
    ("根拠", "Rule"),
];

/// Other headings staff use for a field.
const ALIASES: &[(&str, &[&str])] = &[
    ("number", &["番号", "No", "No.", "台帳No"]),
    ("name", &["名前", "妊婦氏名", "児氏名"]),
    (
        "furigana",
        &[
            "氏名（ふりがな）",
            "氏名（カナ）",
            "カナ",
            "フリガナ",
            "よみがな",
            "かな",
        ],
    ),
    ("birth_date", &["生年月日（西暦）"]),
    ("mother", &["母台帳番号", "母の番号"]),
    ("staff", &["担当者", "地区担当保健師", "担当"]),
    ("district", &["地区"]),
    ("due_date", &["出産予定日", "予定日"]),
    (
        "birth_facility",
        &[
            "出産予定医療機関",
            "分娩予定医療機関",
            "出産医療機関",
            "医療機関",
        ],
    ),
    ("handbook_on", &["母子手帳交付日", "母子健康手帳交付日"]),
    ("notified_on", &["妊娠届日", "届出日"]),
    ("needs_support", &["要支援"]),
    ("needs_reason", &["要支援理由", "理由"]),
    ("tier", &["区分", "支援の区分"]),
    (
        "checkup_month3",
        &["3か月健診", "3か月児健康診査", "3ヶ月健診"],
    ),
    (
        "checkup_month18",
        &["1歳6か月健診", "1歳6か月児健康診査", "1歳6ヶ月健診"],
    ),
    ("checkup_year3", &["3歳健診", "3歳児健康診査"]),
    ("closed_on", &["終結"]),
];

/// What a column becomes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// A field of the row, by its serde name.
    Field(&'static str),
    /// One of the export's computed columns: shown, not imported.
    Computed,
    /// Nothing: the column is not imported.
    Ignored,
}

/// One column and what it becomes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    pub heading: String,
    pub target: Target,
    /// Set by a person (an override), not recognised from the heading.
    pub chosen: bool,
}

/// Every column of the rows sheet, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mapping {
    pub columns: Vec<Column>,
}

/// A person's choice for one column: `列名=field` (field by its serde
/// name or heading, or 無視 / ignore).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Override {
    pub heading: String,
    pub target: Target,
}

/// Why the columns cannot be imported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MappingProblem {
    /// A required field has no column.
    Missing(&'static str),
    /// Two columns map to one field.
    Twice {
        field: &'static str,
        first: String,
        second: String,
    },
    /// An override names a column the sheet does not have.
    NoSuchColumn(String),
    /// An override is not `列名=field`, or names no field.
    BadOverride(String),
}

impl MappingProblem {
    pub fn text(&self, lang: Lang) -> String {
        match (self, lang) {
            (MappingProblem::Missing(f), Lang::Ja) => format!(
                "必須の列「{}」がありません。見出し行に「{}」の列を加えるか、どの列がそれに当たるかを指定してください（--map '列名={f}'）",
                field_label(f, lang),
                headings_of(f).join("」「")
            ),
            (MappingProblem::Missing(f), Lang::En) => format!(
                "the required column {:?} is missing; add a column headed {:?}, or say which column it is (--map 'column={f}')",
                field_label(f, lang),
                headings_of(f).join(", ")
            ),
            (
                MappingProblem::Twice {
                    field,
                    first,
                    second,
                },
                Lang::Ja,
            ) => format!(
                "列「{first}」と「{second}」がどちらも「{}」に当たります。一方を無視に指定してください（--map '{second}=無視'）",
                field_label(field, lang)
            ),
            (
                MappingProblem::Twice {
                    field,
                    first,
                    second,
                },
                Lang::En,
            ) => format!(
                "columns {first:?} and {second:?} both map to {:?}; ignore one (--map '{second}=ignore')",
                field_label(field, lang)
            ),
            (MappingProblem::NoSuchColumn(c), Lang::Ja) => {
                format!(
                    "指定した列「{c}」はファイルにありません。1行目の見出しのとおりに書いてください"
                )
            }
            (MappingProblem::NoSuchColumn(c), Lang::En) => {
                format!("the file has no column {c:?}; write it as the heading row does")
            }
            (MappingProblem::BadOverride(o), Lang::Ja) => format!(
                "列の指定「{o}」が読めません。「列名=項目」の形で、項目は {} または「無視」で書いてください",
                FIELDS
                    .iter()
                    .map(|(_, ja, _)| *ja)
                    .collect::<Vec<_>>()
                    .join("・")
            ),
            (MappingProblem::BadOverride(o), Lang::En) => format!(
                "cannot read the mapping {o:?}; write column=field, the field one of {} or ignore",
                FIELDS
                    .iter()
                    .map(|(f, _, _)| *f)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

/// The headings a field is recognised by.
fn headings_of(field: &str) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = FIELDS
        .iter()
        .filter(|(f, _, _)| *f == field)
        .flat_map(|(_, ja, en)| [*ja, *en])
        .collect();
    if let Some((_, more)) = ALIASES.iter().find(|(f, _)| *f == field) {
        out.extend(more.iter().copied());
    }
    out
}

/// What a heading becomes when no one chose.
pub fn recognise(heading: &str) -> Target {
    let key = folded(heading);
    if key.is_empty() {
        return Target::Ignored;
    }
    if COMPUTED
        .iter()
        .any(|(ja, en)| folded(ja) == key || folded(en) == key)
    {
        return Target::Computed;
    }
    for (field, ja, en) in FIELDS {
        if folded(ja) == key || folded(en) == key || *field == key {
            return Target::Field(field);
        }
    }
    for (field, more) in ALIASES {
        if more.iter().any(|m| folded(m) == key) {
            let field = FIELDS
                .iter()
                .find(|(f, _, _)| f == field)
                .map(|(f, _, _)| *f);
            return field.map_or(Target::Ignored, Target::Field);
        }
    }
    Target::Ignored
}

/// Read `列名=field` (or `列名=無視`).
pub fn parse_override(text: &str) -> Result<Override, MappingProblem> {
    let bad = || MappingProblem::BadOverride(text.to_owned());
    let (heading, field) = text.rsplit_once('=').ok_or_else(bad)?;
    let (heading, field) = (heading.trim(), field.trim());
    if heading.is_empty() {
        return Err(bad());
    }
    let target = match folded(field).as_str() {
        "無視" | "ignore" | "" => Target::Ignored,
        key => FIELDS
            .iter()
            .find(|(f, ja, en)| *f == key || folded(ja) == key || folded(en) == key)
            .map(|(f, _, _)| Target::Field(f))
            .ok_or_else(bad)?,
    };
    Ok(Override {
        heading: heading.to_owned(),
        target,
    })
}

/// Map a heading row, with the overrides: the mapping, and every problem
/// with it (the file is imported only when there is none; the page shows
/// the mapping either way, for a person to correct).
pub fn map(headings: &[String], overrides: &[Override]) -> (Mapping, Vec<MappingProblem>) {
    let mut problems = Vec::new();
    let mut columns: Vec<Column> = headings
        .iter()
        .map(|h| Column {
            heading: h.clone(),
            target: recognise(h),
            chosen: false,
        })
        .collect();
    for o in overrides {
        let key = folded(&o.heading);
        match columns.iter_mut().find(|c| folded(&c.heading) == key) {
            Some(c) => {
                c.target = o.target;
                c.chosen = true;
            }
            None => problems.push(MappingProblem::NoSuchColumn(o.heading.clone())),
        }
    }
    for (i, c) in columns.iter().enumerate() {
        let Target::Field(field) = c.target else {
            continue;
        };
        if let Some(first) = columns[..i].iter().find(|p| p.target == c.target) {
            problems.push(MappingProblem::Twice {
                field,
                first: first.heading.clone(),
                second: c.heading.clone(),
            });
        }
    }
    for field in REQUIRED {
        if !columns.iter().any(|c| c.target == Target::Field(field)) {
            problems.push(MappingProblem::Missing(field));
        }
    }
    (Mapping { columns }, problems)
}

impl Mapping {
    /// The column a field is read from.
    pub fn column_of(&self, field: &str) -> Option<usize> {
        self.columns
            .iter()
            .position(|c| matches!(c.target, Target::Field(f) if f == field))
    }
}
