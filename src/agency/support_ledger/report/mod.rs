//! 事業評価: the center's indicators for a period — output, process,
//! structure and outcome, and the 伴走型相談支援 rates — computed from what
//! its node holds (the 支援台帳, the referrals and their updates, meetings,
//! plans, the hub's notices, the staff accounts and the directory), each
//! with its definition, numerator and denominator, and judged against the
//! fiscal year's target as prefectures' PDCA 検証票 (様式1) lay it out.
//!
//! [`facts::gather`] reads the node into plain [`facts::Facts`];
//! [`compute`] is a pure function of those facts, the ledger and the
//! period, so the arithmetic is tested on a hand-built fixture. The
//! definitions are written out in `docs/indicators.md`.

pub mod charts;
mod defs;
pub mod facts;
mod outcome;
mod output;
mod period;
mod process;
mod target;
#[cfg(test)]
mod tests;
mod text;

use serde::Serialize;

pub use defs::{Better, Category, DEFS, Def, Unit};
pub use facts::Facts;
pub use period::{Period, PeriodError};
pub use target::{Judgement, TargetError, achievement, checked_target, judge};
pub use text::number;

use super::{Ledger, SupportLedgerError};
use crate::agency::Node;
use crate::i18n::Lang;
use crate::protocol::day::Day;

/// What an indicator measured.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Value {
    /// A number of things (consultations, meetings, agencies).
    Count { count: u64 },
    /// `numerator` of `denominator`; a rate is shown with both.
    Rate { numerator: u64, denominator: u64 },
    /// Durations in days: how many were measured, their median and 90th
    /// percentile (none measured: none).
    Days {
        measured: u64,
        median: Option<f64>,
        p90: Option<f64>,
    },
}

impl Value {
    /// 実績値: the count, the rate in per cent, or the median in days; none
    /// when nothing was there to measure.
    pub fn actual(&self) -> Option<f64> {
        match *self {
            Value::Count { count } => Some(count as f64),
            Value::Rate {
                numerator,
                denominator,
            } => (denominator > 0).then(|| numerator as f64 * 100.0 / denominator as f64),
            Value::Days { median, .. } => median,
        }
    }
}

/// One line of a breakdown: what (by its stable key and label) and how many.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Part {
    pub key: String,
    pub label: String,
    pub count: u64,
}

/// A breakdown of an indicator (by kind, by agency kind, by reason).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Breakdown {
    pub title: String,
    pub parts: Vec<Part>,
}

/// One indicator as the report shows it: the definition in the staff's
/// words, what it measured, and the year's target with the judgement.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Indicator {
    pub id: &'static str,
    pub category: Category,
    pub category_label: &'static str,
    pub name: &'static str,
    pub definition: &'static str,
    pub numerator: &'static str,
    /// Empty for a count.
    pub denominator: &'static str,
    pub unit: &'static str,
    pub value: Value,
    /// 実績値 (see [`Value::actual`]).
    pub actual: Option<f64>,
    /// 目標値 for the fiscal year, if one was set.
    pub target: Option<f64>,
    /// 達成割合 in per cent (A/B, or B/A where smaller is better).
    pub achievement: Option<f64>,
    pub judgement: Option<Judgement>,
    pub breakdowns: Vec<Breakdown>,
}

/// Consultations in one month, by contact kind (the trend chart).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Month {
    /// `YYYY-MM`.
    pub month: String,
    /// By [`super::ContactKind::ALL`]'s order.
    pub by_kind: Vec<u64>,
}

/// The whole report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    pub from: Day,
    pub to: Day,
    /// The day it was computed (what had happened by then).
    pub today: Day,
    /// 年度 of the period's first day (April–March), whose targets apply.
    pub fiscal_year: i32,
    pub indicators: Vec<Indicator>,
    pub months: Vec<Month>,
}

impl Report {
    /// The indicator with this id.
    pub fn get(&self, id: &str) -> Option<&Indicator> {
        self.indicators.iter().find(|i| i.id == id)
    }
}

/// What one indicator measured, before its definition and target join it.
pub(crate) struct Measured {
    pub id: &'static str,
    pub value: Value,
    pub breakdowns: Vec<Breakdown>,
}

impl Measured {
    fn new(id: &'static str, value: Value) -> Self {
        Self {
            id,
            value,
            breakdowns: Vec::new(),
        }
    }

    fn with(mut self, breakdown: Breakdown) -> Self {
        self.breakdowns.push(breakdown);
        self
    }
}

/// The report of `period` on `node` as of `today`: its facts, its ledger
/// and the targets of the period's fiscal year (the CLI and the UI share it).
pub async fn build(
    node: &Node,
    period: Period,
    today: Day,
    lang: Lang,
) -> Result<Report, SupportLedgerError> {
    let facts = facts::gather(node).await?;
    let ledger = super::load(node.records(), today).await?;
    let targets = node.records().support_targets(period.fiscal_year()).await?;
    Ok(compute(&facts, &ledger, period, today, &targets, lang))
}

/// The indicators of `period` from `facts` and `ledger` as of `today`,
/// with `targets` (indicator id, value) for its fiscal year.
pub fn compute(
    facts: &Facts,
    ledger: &Ledger,
    period: Period,
    today: Day,
    targets: &[(String, f64)],
    lang: Lang,
) -> Report {
    let mut measured = Vec::new();
    measured.extend(output::measure(facts, ledger, period, today, lang));
    measured.extend(process::measure(facts, ledger, period, today));
    measured.extend(output::structure(facts, period, today, lang));
    measured.extend(outcome::measure(facts, ledger, period, today));
    let indicators = DEFS
        .iter()
        .filter_map(|def| {
            let m = measured.iter().position(|m| m.id == def.id)?;
            let m = measured.swap_remove(m);
            Some(indicator(def, m, targets, lang))
        })
        .collect();
    Report {
        from: period.from,
        to: period.to,
        today,
        fiscal_year: period.fiscal_year(),
        indicators,
        months: output::months(ledger, period),
    }
}

fn indicator(def: &'static Def, m: Measured, targets: &[(String, f64)], lang: Lang) -> Indicator {
    let actual = m.value.actual();
    let target = targets.iter().find(|(id, _)| id == def.id).map(|(_, v)| *v);
    let achievement = match (actual, target) {
        (Some(a), Some(t)) => achievement(a, t, def.better),
        _ => None,
    };
    Indicator {
        id: def.id,
        category: def.category,
        category_label: def.category.label(lang),
        name: lang.pick(def.name.0, def.name.1),
        definition: lang.pick(def.definition.0, def.definition.1),
        numerator: lang.pick(def.numerator.0, def.numerator.1),
        denominator: lang.pick(def.denominator.0, def.denominator.1),
        unit: def.unit.label(lang),
        value: m.value,
        actual,
        target,
        achievement,
        judgement: achievement.map(judge),
        breakdowns: m.breakdowns,
    }
}

/// A value's stable name as serde writes it (`obstetric_clinic`).
fn wire<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(serde_json::Value::Object(o)) => o.keys().next().cloned().unwrap_or_default(),
        _ => String::new(),
    }
}
