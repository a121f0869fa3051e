//! プロセス: ledger rows reviewed on time, days to 受理 and to 返信 (median
//! and 90th percentile), referrals past their 受理 deadline, plans reviewed
//! by their review day.

use std::collections::BTreeSet;

use super::facts::Facts;
use super::{Measured, Period, Value};
use crate::agency::support_ledger::rules::interval;
use crate::agency::support_ledger::{Ledger, SubjectView, Tier};
use crate::protocol::ReferralState;
use crate::protocol::day::Day;

pub(super) fn measure(facts: &Facts, ledger: &Ledger, period: Period, today: Day) -> Vec<Measured> {
    let (met, due) = ledger
        .subjects
        .iter()
        .map(|v| reviews(v, period, today))
        .fold((0, 0), |(m, d), (m2, d2)| (m + m2, d + d2));
    let in_period: Vec<_> = facts
        .referrals
        .iter()
        .filter(|r| period.holds_instant(r.at))
        .collect();
    let missed = in_period
        .iter()
        .filter(|r| facts.missed.contains(&r.id))
        .count();
    let (revised, review_due) = plan_reviews(facts, period, today);
    vec![
        Measured::new("reviewed_on_time", rate(met, due)),
        days(
            facts,
            period,
            "receipt_days_sent",
            true,
            ReferralState::Received,
        ),
        days(
            facts,
            period,
            "receipt_days_received",
            false,
            ReferralState::Received,
        ),
        days(
            facts,
            period,
            "reply_days_sent",
            true,
            ReferralState::Completed,
        ),
        days(
            facts,
            period,
            "reply_days_received",
            false,
            ReferralState::Completed,
        ),
        Measured::new("past_deadline", rate(missed, in_period.len())),
        Measured::new("plans_reviewed_on_time", rate(revised, review_due)),
    ]
}

fn rate(numerator: usize, denominator: usize) -> Value {
    Value::Rate {
        numerator: numerator as u64,
        denominator: denominator as u64,
    }
}

/// (met, due): the row's next-contact days that fell in the period before
/// `today`, and how many of them a contact met. The chain starts at the
/// notification or birth day (or the first contact), each due day is the
/// anchor plus the interval of the tier the row had on the anchor day, and
/// the next contact after the anchor is the next anchor.
pub(super) fn reviews(v: &SubjectView, period: Period, today: Day) -> (usize, usize) {
    let days: Vec<Day> = v.contacts.iter().map(|c| c.day).collect();
    let Some(mut anchor) = v
        .subject
        .notified_on
        .or(v.subject.birth_date)
        .or_else(|| days.iter().min().copied())
    else {
        return (0, 0);
    };
    let (mut met, mut due) = (0, 0);
    loop {
        let next = days.iter().filter(|d| **d > anchor).min().copied();
        if let Some((months, _)) = interval(tier_on(v, anchor)) {
            let day = anchor.plus_months(months);
            if day > period.to || day >= today || v.subject.closed_on.is_some_and(|c| day > c) {
                break;
            }
            if day >= period.from {
                due += 1;
                met += usize::from(next.is_some_and(|n| n <= day));
            }
        }
        match next {
            Some(n) => anchor = n,
            None => break,
        }
    }
    (met, due)
}

/// The tier a row had on `day`: the last change made by then (the first
/// tier given, for a day before any), raised as the rules raise it (a
/// 特定妊婦's child is followed as 要支援).
fn tier_on(v: &SubjectView, day: Day) -> Tier {
    let own = v
        .tiers
        .iter()
        .rev()
        .find(|t| Day::of(t.at) <= day)
        .or(v.tiers.first())
        .map_or(v.subject.tier, |t| t.to);
    match v.computed.tier_rule {
        Some(_) => own.max(v.computed.tier),
        None => own,
    }
}

/// Days from each referral of the period (sent, or received) to its
/// update to `state`.
fn days(
    facts: &Facts,
    period: Period,
    id: &'static str,
    sent: bool,
    state: ReferralState,
) -> Measured {
    let mut measured: Vec<f64> = Vec::new();
    for r in facts
        .referrals
        .iter()
        .filter(|r| r.sent == sent && period.holds_instant(r.at))
    {
        for u in facts
            .updates
            .iter()
            .filter(|u| u.referral == r.id && u.state == state)
        {
            let seconds = (u.at.datetime() - r.at.datetime()).as_seconds_f64();
            measured.push(seconds.max(0.0) / 86_400.0);
        }
    }
    measured.sort_by(f64::total_cmp);
    Measured::new(
        id,
        Value::Days {
            measured: measured.len() as u64,
            median: median(&measured),
            p90: percentile(&measured, 90),
        },
    )
}

/// The median of sorted values (the mean of the middle two for an even count).
pub(super) fn median(sorted: &[f64]) -> Option<f64> {
    let n = sorted.len();
    match n {
        0 => None,
        n if n % 2 == 1 => Some(sorted[n / 2]),
        n => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}

/// The `p`th percentile of sorted values by nearest rank: the value at
/// rank ⌈p/100 × n⌉.
pub(super) fn percentile(sorted: &[f64], p: usize) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let rank = (p * n).div_ceil(100).clamp(1, n);
    Some(sorted[rank - 1])
}

/// (revised, due): plan versions whose review day fell in the period
/// before `today`, and how many a later version followed by that day.
fn plan_reviews(facts: &Facts, period: Period, today: Day) -> (usize, usize) {
    let mut seen = BTreeSet::new();
    let (mut revised, mut due) = (0, 0);
    for p in &facts.plans {
        if !seen.insert((p.plan_id.to_string(), p.version)) {
            continue;
        }
        if !period.holds(p.review_on) || p.review_on >= today {
            continue;
        }
        due += 1;
        revised += usize::from(facts.plans.iter().any(|q| {
            q.plan_id == p.plan_id && q.version > p.version && Day::of(q.at) <= p.review_on
        }));
    }
    (revised, due)
}
