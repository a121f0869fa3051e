//! The 支援台帳 as scripts read it (`--json`): wire names with labels, each
//! computed date with the rule that produced it, agencies named.

use serde::Serialize;

use crate::agency::Node;
use crate::agency::support_ledger::morning::{PlanDue, Unlinked};
use crate::agency::support_ledger::{Dated, SubjectKind, SubjectView};
use crate::cli::labels::{self, AgencyRef, Labeled};
use crate::i18n::Lang;
use crate::protocol::day::Day;
use crate::protocol::{CaseId, Timestamp};

/// One row of the morning list.
#[derive(Serialize)]
pub struct RowJson {
    pub id: String,
    pub number: String,
    pub name: String,
    pub kind: Labeled,
    /// 月齢 (a row with a birth date: for a pregnant woman, her own age).
    pub age_months: Option<u32>,
    /// 妊娠週数 today, from the due date (a pregnant woman's row).
    pub pregnancy_weeks: Option<i64>,
    /// The tier the row is followed at (its own, or raised by `tier_rule`).
    pub tier: Labeled,
    pub tier_rule: Option<Labeled>,
    pub district: String,
    pub staff: String,
    pub last_contact: Option<Day>,
    pub next_contact: Option<NextJson>,
    pub closed_on: Option<Day>,
}

/// A computed day with its rule, and how late it is.
#[derive(Serialize)]
pub struct NextJson {
    pub day: Day,
    /// Days past the day (0 when not yet due).
    pub overdue_days: i64,
    pub rule: Labeled,
}

pub fn row_json(v: &SubjectView, today: Day, lang: Lang) -> RowJson {
    let c = &v.computed;
    RowJson {
        id: v.id.clone(),
        number: v.subject.number.clone(),
        name: v.subject.name.clone(),
        kind: Labeled::new(v.subject.kind.as_str(), v.subject.kind.label(lang)),
        age_months: c.age_months,
        pregnancy_weeks: pregnancy_weeks(v, today),
        tier: Labeled::new(c.tier.as_str(), c.tier.label(lang)),
        tier_rule: c.tier_rule.map(|r| Labeled::new(r.as_str(), r.label(lang))),
        district: v.subject.district.clone(),
        staff: v.subject.staff.clone(),
        last_contact: c.last_contact,
        next_contact: c.next_contact.map(|d| next_json(d, today, lang)),
        closed_on: v.subject.closed_on,
    }
}

pub fn next_json(d: Dated, today: Day, lang: Lang) -> NextJson {
    NextJson {
        day: d.day,
        overdue_days: d.day.days_until(today).max(0),
        rule: Labeled::new(d.rule.as_str(), d.rule.label(lang)),
    }
}

/// 妊娠週数 on `today`, counted back from the due date (40 weeks); none
/// outside a pregnancy (before it, or past 42 weeks: born or not updated).
pub fn pregnancy_weeks(v: &SubjectView, today: Day) -> Option<i64> {
    if v.subject.kind != SubjectKind::Pregnant {
        return None;
    }
    let due = v.subject.due_date?;
    let weeks = (280 - today.days_until(due)) / 7;
    (0..=42).contains(&weeks).then_some(weeks)
}

/// A referral received about a case on no row.
#[derive(Serialize)]
pub struct UnlinkedJson {
    pub case_id: CaseId,
    pub sender: AgencyRef,
    pub received_at: Timestamp,
    pub timing: Labeled,
    pub name: String,
    pub furigana: String,
    pub birth_date: Day,
    /// Rows she may be (same birth date, same name or furigana).
    pub candidates: Vec<CandidateJson>,
}

#[derive(Serialize)]
pub struct CandidateJson {
    pub number: String,
    pub name: String,
}

pub fn unlinked_json(node: &Node, u: &Unlinked, lang: Lang) -> UnlinkedJson {
    let timing = serde_json::to_value(u.timing)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    UnlinkedJson {
        case_id: u.case.clone(),
        sender: labels::agency(node, u.sender.as_str()),
        received_at: u.received_at,
        timing: Labeled::new(&timing, u.timing.label(lang)),
        name: u.name.clone(),
        furigana: u.furigana.clone(),
        birth_date: u.birth_date,
        candidates: u
            .candidates
            .iter()
            .map(|c| CandidateJson {
                number: c.number.clone(),
                name: c.name.clone(),
            })
            .collect(),
    }
}

/// A plan on a linked case due for review.
#[derive(Serialize)]
pub struct PlanDueJson {
    pub number: String,
    pub name: String,
    pub case_id: CaseId,
    pub version: u32,
    pub review_on: Day,
}

pub fn plan_due_json(p: &PlanDue, name: &str) -> PlanDueJson {
    PlanDueJson {
        number: p.number.clone(),
        name: name.to_owned(),
        case_id: p.case.clone(),
        version: p.version,
        review_on: p.review_on,
    }
}
