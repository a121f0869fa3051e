//! アウトプット (consultations, referrals, meetings, plans), ストラクチャー
//! (agencies, staff, meeting bodies) and the monthly trend.

use std::collections::BTreeMap;

use super::facts::{Facts, MeetingFact};
use super::period::month_of;
use super::{Breakdown, Measured, Part, Period, Value, wire};
use crate::agency::support_ledger::{ContactKind, Ledger};
use crate::i18n::Lang;
use crate::protocol::AgencyKind;
use crate::protocol::day::Day;
use crate::protocol::meeting::MeetingKind;

/// Every agency kind, in the order the directory's help lists them.
const AGENCY_KINDS: [AgencyKind; 7] = [
    AgencyKind::Center,
    AgencyKind::ObstetricClinic,
    AgencyKind::ChildWelfare,
    AgencyKind::Nursery,
    AgencyKind::Yotaikyo,
    AgencyKind::PublicHealth,
    AgencyKind::Other,
];

pub(super) fn measure(
    facts: &Facts,
    ledger: &Ledger,
    period: Period,
    today: Day,
    lang: Lang,
) -> Vec<Measured> {
    let mut by_kind = vec![0u64; ContactKind::ALL.len()];
    for c in ledger.subjects.iter().flat_map(|v| &v.contacts) {
        if period.holds(c.day)
            && let Some(i) = ContactKind::ALL.iter().position(|k| *k == c.kind)
        {
            by_kind[i] += 1;
        }
    }
    let consultations = Measured::new(
        "consultations",
        Value::Count {
            count: by_kind.iter().sum(),
        },
    )
    .with(Breakdown {
        title: lang.pick("接触の種別", "by kind").into(),
        parts: ContactKind::ALL
            .iter()
            .zip(&by_kind)
            .map(|(k, n)| part(k.as_str(), k.label(lang), *n))
            .collect(),
    });
    let meetings = held(facts, period, today);
    let plans = facts.plans.iter().filter(|p| period.holds_instant(p.at));
    let (first, later): (Vec<_>, Vec<_>) = plans.partition(|p| p.version == 1);
    vec![
        consultations,
        referrals(facts, period, false, lang),
        referrals(facts, period, true, lang),
        Measured::new(
            "meetings_held",
            Value::Count {
                count: meetings.len() as u64,
            },
        )
        .with(meeting_kinds(&meetings, lang)),
        Measured::new(
            "plans_created",
            Value::Count {
                count: first.len() as u64,
            },
        ),
        Measured::new(
            "plans_revised",
            Value::Count {
                count: later.len() as u64,
            },
        ),
    ]
}

fn referrals(facts: &Facts, period: Period, sent: bool, lang: Lang) -> Measured {
    let chosen: Vec<_> = facts
        .referrals
        .iter()
        .filter(|r| r.sent == sent && period.holds_instant(r.at))
        .collect();
    let mut kinds = [0u64; AGENCY_KINDS.len()];
    for kind in chosen.iter().flat_map(|r| &r.others) {
        if let Some(i) = AGENCY_KINDS.iter().position(|k| k == kind) {
            kinds[i] += 1;
        }
    }
    let mut reasons: BTreeMap<String, (String, u64)> = BTreeMap::new();
    for reason in chosen.iter().flat_map(|r| &r.reasons) {
        let e = reasons
            .entry(wire(reason))
            .or_insert_with(|| (reason.label(lang).into(), 0));
        e.1 += 1;
    }
    let mut reasons: Vec<Part> = reasons
        .into_iter()
        .map(|(key, (label, count))| Part { key, label, count })
        .collect();
    reasons.sort_by(|a, b| b.count.cmp(&a.count).then(a.key.cmp(&b.key)));
    let id = if sent {
        "referrals_sent"
    } else {
        "referrals_received"
    };
    Measured::new(
        id,
        Value::Count {
            count: chosen.len() as u64,
        },
    )
    .with(Breakdown {
        title: if sent {
            lang.pick("宛先の機関種別", "by recipient's kind")
        } else {
            lang.pick("送り手の機関種別", "by sender's kind")
        }
        .into(),
        parts: agency_parts(&kinds, lang),
    })
    .with(Breakdown {
        title: lang.pick("連絡票の理由", "by reason").into(),
        parts: reasons,
    })
}

/// Meetings not cancelled that started in the period, by the report day.
fn held(facts: &Facts, period: Period, today: Day) -> Vec<&MeetingFact> {
    facts
        .meetings
        .iter()
        .filter(|m| !m.cancelled && period.holds_instant(m.starts_at))
        .filter(|m| Day::of(m.starts_at) <= today)
        .collect()
}

fn meeting_kinds(meetings: &[&MeetingFact], lang: Lang) -> Breakdown {
    Breakdown {
        title: lang.pick("会議の種類", "by kind").into(),
        parts: MeetingKind::ALL
            .iter()
            .map(|k| {
                let n = meetings.iter().filter(|m| m.kind == *k).count();
                part(k.as_str(), k.label(lang), n as u64)
            })
            .collect(),
    }
}

pub(super) fn structure(facts: &Facts, period: Period, today: Day, lang: Lang) -> Vec<Measured> {
    let mut kinds = [0u64; AGENCY_KINDS.len()];
    for kind in &facts.agencies {
        if let Some(i) = AGENCY_KINDS.iter().position(|k| k == kind) {
            kinds[i] += 1;
        }
    }
    let meetings = meeting_kinds(&held(facts, period, today), lang);
    let bodies = meetings.parts.iter().filter(|p| p.count > 0).count();
    vec![
        Measured::new(
            "agencies_connected",
            Value::Count {
                count: facts.agencies.len() as u64,
            },
        )
        .with(Breakdown {
            title: lang.pick("機関種別", "by kind").into(),
            parts: agency_parts(&kinds, lang),
        }),
        Measured::new("staff_accounts", Value::Count { count: facts.staff }),
        Measured::new(
            "meeting_bodies",
            Value::Count {
                count: bodies as u64,
            },
        )
        .with(meetings),
    ]
}

/// Consultations per month of the period, by contact kind.
pub(super) fn months(ledger: &Ledger, period: Period) -> Vec<super::Month> {
    period
        .months()
        .into_iter()
        .map(|(y, m)| super::Month {
            month: format!("{y:04}-{m:02}"),
            by_kind: ContactKind::ALL
                .iter()
                .map(|k| {
                    ledger
                        .subjects
                        .iter()
                        .flat_map(|v| &v.contacts)
                        .filter(|c| c.kind == *k && period.holds(c.day))
                        .filter(|c| month_of(c.day) == (y, m))
                        .count() as u64
                })
                .collect(),
        })
        .collect()
}

fn agency_parts(counts: &[u64], lang: Lang) -> Vec<Part> {
    AGENCY_KINDS
        .iter()
        .zip(counts)
        .filter(|(_, n)| **n > 0)
        .map(|(k, n)| part(&wire(k), k.label(lang), *n))
        .collect()
}

fn part(key: &str, label: &str, count: u64) -> Part {
    Part {
        key: key.into(),
        label: label.into(),
        count,
    }
}
