//! Folding what the node holds and the 調整機関's own entries into one row
//! per registered case. Plain data in, rows out: no database, no clock.

use std::collections::BTreeMap;

use super::entry::{AbuseType, LedgerEntry, ProgressStatus, Route};
use super::sources::{CaseChange, PlanFacts, Sources};
use crate::agency::meetings::{HeldMinutes, MeetingView};
use crate::protocol::case::CaseClassification;
use crate::protocol::day::Day;
use crate::protocol::ids::PlanId;
use crate::protocol::meeting::{Level, MeetingKind, Role};
use crate::protocol::{AgencyId, CaseId, Timestamp};

/// How long after a review (or the registration) the next one falls due,
/// unless a meeting or staff decided otherwise: 実務者会議 meet about every
/// three months.
pub const REVIEW_MONTHS: u32 = 3;

/// One case on the 進行管理台帳.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerRow {
    pub case_id: CaseId,
    /// ケース番号 (the 調整機関's own).
    pub case_number: Option<String>,
    /// 受理日: as entered, else the day of registration.
    pub received_on: Day,
    /// The day the case was (last) registered with the 要対協.
    pub registered_on: Day,
    pub route: Option<Route>,
    pub classification: CaseClassification,
    pub abuse_types: Vec<AbuseType>,
    /// 危険度: the latest word, the 調整機関's or a meeting's.
    pub risk: Option<Level>,
    /// 主担当機関: the latest word of the registration, minutes or a plan.
    pub lead: AgencyId,
    /// キーパーソン: from the latest minutes or plan that names one.
    pub key_person: String,
    /// 援助方針: the latest word, the 調整機関's or a meeting's.
    pub policy: String,
    /// The last 実務者会議 that reviewed the case.
    pub last_reviewed: Option<Day>,
    /// When it is next due for review.
    pub next_review: Day,
    /// The next 実務者会議 already scheduled with the case on it.
    pub next_meeting: Option<Timestamp>,
    pub status: ProgressStatus,
    pub status_reason: String,
    /// Every agency with a role: the lead first, then the registration's
    /// members, plan roles and minutes roles.
    pub members: Vec<AgencyId>,
}

/// What the ledger takes from the minutes a meeting holds, written `at`.
/// They are about the meeting's first case (their envelope's case); an
/// excerpt names no risk, key person or policy.
struct MinutesFacts<'a> {
    at: Timestamp,
    held_at: Option<Timestamp>,
    risk: Option<Level>,
    lead: Option<&'a AgencyId>,
    key_person: &'a str,
    /// 今後の支援方針 (次期までの支援).
    next_support: &'a str,
    next_review: Option<Day>,
    /// 役割分担
    roles: &'a [Role],
}

fn minutes_facts(m: &MeetingView) -> Option<MinutesFacts<'_>> {
    let at = m.minutes_at?;
    Some(match m.minutes.as_ref()? {
        HeldMinutes::Full(f) => MinutesFacts {
            at,
            held_at: f.held_at,
            risk: f.risk,
            lead: f.lead.as_ref(),
            key_person: &f.key_person,
            next_support: &f.next_support,
            next_review: f.next_review,
            roles: &f.roles,
        },
        HeldMinutes::Excerpt(e) => MinutesFacts {
            at,
            held_at: e.held_at,
            risk: None,
            lead: e.lead.as_ref(),
            key_person: "",
            next_support: "",
            next_review: e.next_review,
            roles: &e.roles,
        },
    })
}

/// The ledger at `now`, one row per case ever registered, in order of
/// 受理日 (then case number).
pub fn fold(
    sources: &Sources,
    entries: &BTreeMap<CaseId, LedgerEntry>,
    now: Timestamp,
) -> Vec<LedgerRow> {
    let mut cases: Vec<&CaseId> = sources.cases.iter().map(|e| &e.case).collect();
    cases.sort();
    cases.dedup();
    let mut rows: Vec<LedgerRow> = cases
        .into_iter()
        .filter_map(|case| row(case, sources, entries.get(case), now))
        .collect();
    rows.sort_by(|a, b| {
        (a.received_on, &a.case_number, &a.case_id).cmp(&(
            b.received_on,
            &b.case_number,
            &b.case_id,
        ))
    });
    rows
}

/// The registration as it last stood: (registered at, classification,
/// lead, members, closed with this note).
struct Registered {
    at: Timestamp,
    classification: CaseClassification,
    lead: AgencyId,
    members: Vec<AgencyId>,
    closed: Option<String>,
}

fn registration(case: &CaseId, sources: &Sources) -> Option<Registered> {
    let mut current: Option<Registered> = None;
    for e in sources.cases.iter().filter(|e| &e.case == case) {
        match (&e.change, current.as_mut()) {
            (CaseChange::Registered(r), _) => {
                current = Some(Registered {
                    at: e.at,
                    classification: r.classification,
                    lead: r.lead.clone(),
                    members: r.members.clone(),
                    closed: None,
                })
            }
            (CaseChange::Reclassified(c), Some(r)) => r.classification = *c,
            (CaseChange::Closed, Some(r)) => r.closed = Some(e.note.clone()),
            _ => {}
        }
    }
    current
}

/// The latest of several dated candidates (the later wins a tie).
fn latest<T>(candidates: impl IntoIterator<Item = (Timestamp, T)>) -> Option<T> {
    let mut best: Option<(Timestamp, T)> = None;
    for (at, value) in candidates {
        if best.as_ref().is_none_or(|(b, _)| at >= *b) {
            best = Some((at, value));
        }
    }
    best.map(|(_, v)| v)
}

fn row(
    case: &CaseId,
    sources: &Sources,
    entry: Option<&LedgerEntry>,
    now: Timestamp,
) -> Option<LedgerRow> {
    let reg = registration(case, sources)?;
    let own = entry.cloned().unwrap_or_default();
    let own_at = own.updated_at.unwrap_or(reg.at);
    let registered_on = Day::of(reg.at);

    // Minutes about this case (from any meeting whose own case it is: the
    // hub takes minutes only about that case), and the 実務者会議 that took
    // it up: held (started, or minuted) or still to come.
    let minutes: Vec<MinutesFacts> = sources
        .meetings
        .iter()
        .filter(|m| &m.case_id == case)
        .filter_map(minutes_facts)
        .collect();
    let (last, next_meeting) = practitioners_reviews(case, &sources.meetings, now);
    let last_reviewed = last.map(|(d, _)| d);

    // The next review: staff's own date unless a review has since passed
    // it; else what the last 実務者会議 decided; else three months on.
    let since = last_reviewed.unwrap_or(registered_on);
    let next_review = own
        .next_review
        .filter(|d| last_reviewed.is_none_or(|l| *d > l))
        .or(last.and_then(|(_, decided)| decided))
        .unwrap_or_else(|| since.plus_months(REVIEW_MONTHS));

    let case_plans: Vec<_> = sources.plans.iter().filter(|p| &p.case == case).collect();
    let lead = latest(
        std::iter::once((reg.at, reg.lead.clone()))
            .chain(
                minutes
                    .iter()
                    .filter_map(|f| f.lead.map(|l| (f.at, l.clone()))),
            )
            .chain(case_plans.iter().map(|p| (p.at, p.lead.clone()))),
    )
    .unwrap_or(reg.lead.clone());
    let key_person = latest(
        minutes
            .iter()
            .map(|f| (f.at, f.key_person.to_owned()))
            .chain(case_plans.iter().map(|p| (p.at, p.key_person.clone())))
            .filter(|(_, k)| !k.trim().is_empty()),
    )
    .unwrap_or_default();
    let risk = latest(
        own.risk
            .map(|r| (own_at, r))
            .into_iter()
            .chain(minutes.iter().filter_map(|f| f.risk.map(|r| (f.at, r)))),
    );
    let policy = latest(
        std::iter::once((own_at, own.policy.clone()))
            .chain(minutes.iter().map(|f| (f.at, f.next_support.to_owned())))
            .filter(|(_, p)| !p.trim().is_empty()),
    )
    .unwrap_or_default();

    let (status, status_reason) = match (&reg.closed, own.status) {
        (Some(_), ProgressStatus::Closed) | (None, _) => (own.status, own.status_reason.clone()),
        (Some(note), _) => (ProgressStatus::Closed, note.clone()),
    };

    let latest_minutes = latest(minutes.iter().map(|f| (f.at, f)));
    let members = with_a_role(&lead, &reg.members, &case_plans, latest_minutes);

    Some(LedgerRow {
        case_id: case.clone(),
        case_number: own.case_number.clone(),
        received_on: own.received_on.unwrap_or(registered_on),
        registered_on,
        route: own.route,
        classification: reg.classification,
        abuse_types: own.abuse_types.clone(),
        risk,
        lead,
        key_person,
        policy,
        last_reviewed,
        next_review,
        next_meeting,
        status,
        status_reason,
        members,
    })
}

/// The last 実務者会議 that reviewed the case (its day, and the next review
/// its minutes decided), and the next one scheduled with it. A meeting
/// reviewed the case once it has started, or has minutes about it.
fn practitioners_reviews(
    case: &CaseId,
    meetings: &[MeetingView],
    now: Timestamp,
) -> (Option<(Day, Option<Day>)>, Option<Timestamp>) {
    let practitioners = meetings.iter().filter(|m| {
        m.kind == MeetingKind::Practitioners
            && m.cancelled.is_none()
            && (&m.case_id == case || m.more_cases.contains(case))
    });
    let mut reviews: Vec<(Day, Option<Day>)> = Vec::new();
    let mut next_meeting: Option<Timestamp> = None;
    for m in practitioners {
        // Minutes apply to the meeting's first case (their envelope's).
        let t = m.starts_at;
        match minutes_facts(m).filter(|_| &m.case_id == case) {
            Some(f) => reviews.push((Day::of(f.held_at.unwrap_or(t)), f.next_review)),
            None if t <= now => reviews.push((Day::of(t), None)),
            None => next_meeting = Some(next_meeting.map_or(t, |n| n.min(t))),
        }
    }
    reviews.sort();
    (reviews.last().copied(), next_meeting)
}

/// Every agency with a role, once each: the lead, the registration's
/// members, the roles in the latest version of each plan and in the latest
/// minutes.
fn with_a_role(
    lead: &AgencyId,
    registered: &[AgencyId],
    plans: &[&PlanFacts],
    minutes: Option<&MinutesFacts>,
) -> Vec<AgencyId> {
    let mut latest_plans: BTreeMap<PlanId, &PlanFacts> = BTreeMap::new();
    for p in plans {
        let e = latest_plans.entry(p.plan_id).or_insert(p);
        if p.version >= e.version {
            *e = p;
        }
    }
    let mut members = vec![lead.clone()];
    for id in registered
        .iter()
        .chain(latest_plans.values().flat_map(|p| p.roles.iter()))
        .chain(
            minutes
                .into_iter()
                .flat_map(|f| f.roles.iter().map(|r| &r.agency)),
        )
    {
        if !members.contains(id) {
            members.push(id.clone());
        }
    }
    members
}

/// The filters staff list the ledger by.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    /// Only cases still followed whose next review is on or before this day.
    pub due_by: Option<Day>,
    pub classification: Option<CaseClassification>,
    pub lead: Option<AgencyId>,
    pub status: Option<ProgressStatus>,
}

impl Filter {
    /// Whether the row passes every filter set.
    pub fn matches(&self, row: &LedgerRow) -> bool {
        self.due_by.is_none_or(|d| is_due(row, d))
            && self.classification.is_none_or(|c| row.classification == c)
            && self.lead.as_ref().is_none_or(|l| &row.lead == l)
            && self.status.is_none_or(|s| row.status == s)
    }
}

/// Whether the council still follows the case and its review falls due by
/// `day`.
pub fn is_due(row: &LedgerRow, day: Day) -> bool {
    row.status.is_open() && row.next_review <= day
}
