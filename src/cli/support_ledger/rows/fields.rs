//! A row's items as flags (and as a `row.toml` of the same names): each
//! flag is one of [`FIELDS`], so `add` builds a row from them and `set`
//! changes only those named. Checked here, before the node is opened.

use std::path::Path;

use anyhow::bail;
use clap::Args;
use serde_json::{Map, Value};

use crate::agency::support_ledger::subject::{DAY_FIELDS, field_label};
use crate::agency::support_ledger::{FIELDS, Subject, SubjectKind, Tier};
use crate::i18n::Lang;
use crate::protocol::day::Day;
use crate::protocol::meeting::Level;

/// Every item of a row; only those given change.
#[derive(Args, Default)]
pub struct FieldArgs {
    /// 台帳番号（例: R8-0012） / ledger number
    #[arg(long)]
    number: Option<String>,
    /// 対象 / kind
    #[arg(long, value_enum)]
    kind: Option<SubjectKind>,
    /// 氏名 / name
    #[arg(long)]
    name: Option<String>,
    /// ふりがな / furigana
    #[arg(long)]
    furigana: Option<String>,
    /// 生年月日（YYYY-MM-DD） / birth date
    #[arg(long)]
    birth_date: Option<String>,
    /// 母の台帳番号（子どもの行） / the mother's ledger number (a child's row)
    #[arg(long)]
    mother: Option<String>,
    /// 担当地区 / district
    #[arg(long)]
    district: Option<String>,
    /// 担当保健師 / public health nurse in charge
    #[arg(long)]
    staff: Option<String>,
    /// 妊娠届出日（YYYY-MM-DD） / pregnancy notified on
    #[arg(long)]
    notified_on: Option<String>,
    /// 母子健康手帳交付日（YYYY-MM-DD） / handbook issued on
    #[arg(long)]
    handbook_on: Option<String>,
    /// 分娩予定日（YYYY-MM-DD） / due date
    #[arg(long)]
    due_date: Option<String>,
    /// 出産（予定）医療機関 / birth facility
    #[arg(long)]
    birth_facility: Option<String>,
    /// 家族構成 / household
    #[arg(long)]
    household: Option<String>,
    /// 就労 / employment
    #[arg(long)]
    employment: Option<String>,
    /// 既往歴・出産歴 / medical and obstetric history
    #[arg(long)]
    history: Option<String>,
    /// 要支援の有無（true / false） / needs support
    #[arg(long)]
    needs_support: Option<bool>,
    /// 要支援の理由（要支援なら必須） / why support is needed (required when it is)
    #[arg(long)]
    needs_reason: Option<String>,
    /// 支援区分（set では --reason が必要） / tier (set needs --reason)
    #[arg(long, value_enum)]
    pub(super) tier: Option<Tier>,
    /// 緊急度 / urgency
    #[arg(long, value_enum)]
    urgency: Option<Level>,
    /// 重症度 / severity
    #[arg(long, value_enum)]
    severity: Option<Level>,
    /// 次回接触予定日を手で決める（YYYY-MM-DD、none で規則の計算に戻す） / next contact set by hand (none: back to the rules)
    #[arg(long)]
    next_contact_on: Option<String>,
    /// 出生時の状況 / condition at birth
    #[arg(long)]
    birth_status: Option<String>,
    /// 3か月児健診の受診日（YYYY-MM-DD） / 3-month checkup attended on
    #[arg(long)]
    checkup_month3: Option<String>,
    /// 1歳6か月児健診の受診日（YYYY-MM-DD） / 18-month checkup attended on
    #[arg(long)]
    checkup_month18: Option<String>,
    /// 3歳児健診の受診日（YYYY-MM-DD） / 3-year checkup attended on
    #[arg(long)]
    checkup_year3: Option<String>,
    /// 終結日（YYYY-MM-DD、none で再開） / closed on (none: reopen)
    #[arg(long)]
    closed_on: Option<String>,
}

/// The items named, by their [`FIELDS`] name, checked; `null` clears one.
pub type Changes = Map<String, Value>;

impl FieldArgs {
    /// The items given, each checked (a date must be a date).
    pub fn changes(&self, lang: Lang) -> anyhow::Result<Changes> {
        let mut out = Changes::new();
        let texts = [
            ("number", &self.number),
            ("name", &self.name),
            ("furigana", &self.furigana),
            ("mother", &self.mother),
            ("district", &self.district),
            ("staff", &self.staff),
            ("birth_facility", &self.birth_facility),
            ("household", &self.household),
            ("employment", &self.employment),
            ("history", &self.history),
            ("needs_reason", &self.needs_reason),
            ("birth_status", &self.birth_status),
        ];
        for (field, value) in texts {
            if let Some(v) = value {
                let v = v.trim();
                // A blank mother's number means none.
                let v = match (field, v.is_empty()) {
                    ("mother", true) => Value::Null,
                    _ => Value::String(v.into()),
                };
                out.insert(field.into(), v);
            }
        }
        let days = [
            ("birth_date", &self.birth_date),
            ("notified_on", &self.notified_on),
            ("handbook_on", &self.handbook_on),
            ("due_date", &self.due_date),
            ("next_contact_on", &self.next_contact_on),
            ("checkup_month3", &self.checkup_month3),
            ("checkup_month18", &self.checkup_month18),
            ("checkup_year3", &self.checkup_year3),
            ("closed_on", &self.closed_on),
        ];
        for (field, value) in days {
            if let Some(v) = value {
                out.insert(field.into(), day_value(field, v, lang)?);
            }
        }
        let coded = [
            ("kind", self.kind.map(|k| k.as_str())),
            ("tier", self.tier.map(|t| t.as_str())),
            ("urgency", self.urgency.map(|l| l.as_str())),
            ("severity", self.severity.map(|l| l.as_str())),
        ];
        for (field, value) in coded {
            if let Some(v) = value {
                out.insert(field.into(), Value::String(v.into()));
            }
        }
        if let Some(b) = self.needs_support {
            out.insert("needs_support".into(), Value::Bool(b));
        }
        Ok(out)
    }
}

/// A date item: `YYYY-MM-DD`, or `none` to clear it.
fn day_value(field: &str, value: &str, lang: Lang) -> anyhow::Result<Value> {
    let value = value.trim();
    if value == "none" {
        return Ok(Value::Null);
    }
    match value.parse::<Day>() {
        Ok(day) => Ok(Value::String(day.to_string())),
        Err(_) => bail!(
            "{}（--{}）{}: {value}\n{}",
            field_label(field, lang),
            field.replace('_', "-"),
            lang.pick("の日付が正しくありません", " is not a valid date"),
            lang.pick(
                "次の手順: 2026-04-01 のように YYYY-MM-DD で指定してください（none で消去）。何も記録していません。",
                "next: give it as YYYY-MM-DD, e.g. 2026-04-01 (none clears it). Nothing was recorded.",
            )
        ),
    }
}

/// The items of a `row.toml`: [`FIELDS`] names, dates as `2026-04-01`
/// (quoted or not), coded items by their wire names.
pub fn from_file(path: &Path, lang: Lang) -> anyhow::Result<Changes> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        anyhow::anyhow!(
            "{} {}: {e}\n{}",
            lang.pick("行のファイルを読めません:", "cannot read the row file"),
            path.display(),
            lang.pick(
                "次の手順: --file に読めるファイルを指定してください。何も記録していません。",
                "next: name a readable file with --file. Nothing was recorded.",
            )
        )
    })?;
    let table: toml::Table = text.parse().map_err(|e| {
        anyhow::anyhow!(
            "{} {}: {e}\n{}",
            lang.pick(
                "行のファイルが TOML として読めません:",
                "the row file is not TOML:"
            ),
            path.display(),
            lang.pick("何も記録していません。", "Nothing was recorded.")
        )
    })?;
    let mut out = Changes::new();
    for (key, value) in table {
        if !FIELDS.iter().any(|(f, _, _)| *f == key) {
            let known: Vec<&str> = FIELDS.iter().map(|(f, _, _)| *f).collect();
            bail!(
                "{} {key}\n{} {}\n{}",
                lang.pick(
                    "行のファイルに知らない項目があります:",
                    "unknown item in the row file:"
                ),
                lang.pick("使える項目:", "items:"),
                known.join(", "),
                lang.pick("何も記録していません。", "Nothing was recorded.")
            );
        }
        let value = match value {
            toml::Value::Datetime(d) => day_value(&key, &d.to_string(), lang)?,
            toml::Value::String(s) if DAY_FIELDS.contains(&key.as_str()) => {
                day_value(&key, &s, lang)?
            }
            toml::Value::String(s) if CODED.iter().any(|(f, _)| *f == key) => {
                coded_value(&key, &s, lang)?
            }
            other => serde_json::to_value(other)?,
        };
        out.insert(key, value);
    }
    Ok(out)
}

/// The wire names a coded item takes.
type Names = fn() -> Vec<&'static str>;

/// The coded items, with their wire names.
const CODED: &[(&str, Names)] = &[
    ("kind", || {
        SubjectKind::ALL.iter().map(|k| k.as_str()).collect()
    }),
    ("tier", || Tier::ALL.iter().map(|t| t.as_str()).collect()),
    ("urgency", levels),
    ("severity", levels),
];

fn levels() -> Vec<&'static str> {
    [Level::High, Level::Medium, Level::Low]
        .iter()
        .map(|l| l.as_str())
        .collect()
}

/// A coded item of a file: its wire name (`self_plan`, or `self-plan` as
/// the flags write it).
fn coded_value(field: &str, value: &str, lang: Lang) -> anyhow::Result<Value> {
    let wire = value.trim().replace('-', "_");
    let names = CODED
        .iter()
        .find(|(f, _)| *f == field)
        .map(|(_, names)| names())
        .unwrap_or_default();
    if names.contains(&wire.as_str()) {
        return Ok(Value::String(wire));
    }
    bail!(
        "{}（{field}）{}: {value}\n{} {}\n{}",
        field_label(field, lang),
        lang.pick("の値が正しくありません", " has an unknown value"),
        lang.pick("使える値:", "values:"),
        names.join(", "),
        lang.pick("何も記録していません。", "Nothing was recorded.")
    )
}

/// `base` with `changes` laid over it.
pub fn apply(base: &Subject, changes: &Changes, lang: Lang) -> anyhow::Result<Subject> {
    let mut doc = serde_json::to_value(base)?;
    if let Value::Object(items) = &mut doc {
        for (field, value) in changes {
            match value {
                Value::Null => items.remove(field),
                v => items.insert(field.clone(), v.clone()),
            };
        }
    }
    serde_json::from_value(doc).map_err(|e| {
        anyhow::anyhow!(
            "{}: {e}\n{}",
            lang.pick("行の項目が正しくありません", "the row's items are not right"),
            lang.pick(
                "次の手順: 対象・支援区分・緊急度などは決まった値（--help に一覧）で指定してください。何も記録していません。",
                "next: give coded items (kind, tier, urgency…) one of their values (see --help). Nothing was recorded.",
            )
        )
    })
}

/// What is wrong with a row, each problem in staff's words.
pub fn check(subject: &Subject, today: Day, lang: Lang) -> anyhow::Result<()> {
    let problems = subject.problems(today);
    if problems.is_empty() {
        return Ok(());
    }
    let lines: Vec<String> = problems.iter().map(|p| p.text(lang)).collect();
    bail!(
        "{}\n{}",
        lines.join("\n"),
        lang.pick(
            "次の手順: 該当する項目を直して、もう一度実行してください。何も記録していません。",
            "next: correct those items and run it again. Nothing was recorded.",
        )
    )
}
