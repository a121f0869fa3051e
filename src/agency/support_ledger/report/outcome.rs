//! アウトカム (tier changes toward 自立, EPDS follow-up) and the
//! 伴走型相談支援 rates (done ÷ due, due by the windows of
//! [`rules::point_window`]).

use super::facts::Facts;
use super::{Measured, Period, Value};
use crate::agency::support_ledger::rules;
use crate::agency::support_ledger::{ContactPoint, Ledger, SubjectKind, SubjectView};
use crate::protocol::day::Day;

/// The EPDS total from which a referral is followed up.
pub const EPDS_THRESHOLD: u8 = 9;
/// Days within which an EPDS ≥ 9 referral is followed by a contact.
pub const EPDS_FOLLOW_UP_DAYS: i64 = 14;

pub(super) fn measure(facts: &Facts, ledger: &Ledger, period: Period, today: Day) -> Vec<Measured> {
    let changes: Vec<_> = ledger
        .subjects
        .iter()
        .flat_map(|v| &v.tiers)
        .filter(|t| period.holds_instant(t.at))
        .filter_map(|t| Some((t.from?, t.to)))
        .collect();
    let toward = changes.iter().filter(|(from, to)| to < from).count();
    let mut out = vec![
        Measured::new("toward_independent", rate(toward, changes.len())),
        epds(facts, ledger, period, today),
    ];
    for (id, point) in [
        ("point_notification", ContactPoint::Notification),
        ("point_month8", ContactPoint::Month8),
        ("point_infant_visit", ContactPoint::InfantVisit),
    ] {
        let (done, due) = ledger
            .subjects
            .iter()
            .filter(|v| v.subject.kind == SubjectKind::Pregnant)
            .filter_map(|v| point_due(v, point, period, today))
            .fold((0, 0), |(d, n), done| (d + usize::from(done), n + 1));
        out.push(Measured::new(id, rate(done, due)));
    }
    out
}

fn rate(numerator: usize, denominator: usize) -> Value {
    Value::Rate {
        numerator: numerator as u64,
        denominator: denominator as u64,
    }
}

fn epds(facts: &Facts, ledger: &Ledger, period: Period, today: Day) -> Measured {
    let (mut followed, mut due) = (0, 0);
    for r in &facts.referrals {
        let received = Day::of(r.at);
        let until = received.plus_days(EPDS_FOLLOW_UP_DAYS);
        if r.sent
            || !period.holds(received)
            || until >= today
            || r.epds.is_none_or(|e| e < EPDS_THRESHOLD)
        {
            continue;
        }
        let Some(v) = r.case.as_ref().and_then(|c| ledger.by_case(c)) else {
            continue;
        };
        due += 1;
        followed += usize::from(
            v.contacts
                .iter()
                .any(|c| received <= c.day && c.day <= until),
        );
    }
    Measured::new("epds_follow_up", rate(followed, due))
}

/// Whether a pregnant woman's contact point was done, if its window closed
/// in the period before `today` (none: not due in the period). A row
/// closed before the window closed is left out unless it was done.
fn point_due(v: &SubjectView, point: ContactPoint, period: Period, today: Day) -> Option<bool> {
    let (_, _, until) = rules::point_window(&v.subject, point, &v.context)?;
    if !period.holds(until) || until >= today {
        return None;
    }
    let done = v
        .contacts
        .iter()
        .any(|c| c.point == Some(point) && c.day <= until);
    if !done && v.subject.closed_on.is_some_and(|c| c < until) {
        return None;
    }
    Some(done)
}
