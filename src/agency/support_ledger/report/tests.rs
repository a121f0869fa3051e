//! The indicators checked against values computed by hand on a fixture:
//! a ledger of seven rows with known contacts and tier changes, and
//! referrals, updates, notices, meetings and plans with known times.
//! Period: 2026-04-01 to 2026-06-30 (年度 2026); report day 2026-07-01.

use super::facts::{Facts, MeetingFact, ReferralFact, UpdateFact};
use super::*;
use crate::agency::ledger::sources::PlanFacts;
use crate::agency::support_ledger::rules::{self, ContactFact, Context};
use crate::agency::support_ledger::{
    Contact, ContactKind, ContactPoint, Link, Subject, SubjectKind, SubjectView, Tier, TierChange,
};
use crate::protocol::ids::PlanId;
use crate::protocol::meeting::MeetingKind;
use crate::protocol::referral::ReferralReason;
use crate::protocol::{AgencyKind, CaseId, EnvelopeId, ReferralState, Timestamp};

fn day(s: &str) -> Day {
    s.parse().unwrap()
}

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

/// A row with its contacts (day, kind, point) and tier history (day, from, to).
fn row(
    subject: Subject,
    contacts: &[(&str, ContactKind, Option<ContactPoint>)],
    tiers: &[(&str, Option<Tier>, Tier)],
    case: Option<&str>,
) -> SubjectView {
    let contacts: Vec<Contact> = contacts
        .iter()
        .map(|(d, kind, point)| Contact {
            day: day(d),
            kind: *kind,
            staff: "保健師A".into(),
            summary: String::new(),
            point: *point,
            recorded_by: "保健師A".into(),
            recorded_at: day(d).start(),
        })
        .collect();
    let facts: Vec<ContactFact> = contacts
        .iter()
        .map(|c| ContactFact {
            day: c.day,
            staff: c.staff.clone(),
            point: c.point,
        })
        .collect();
    SubjectView {
        id: subject.number.clone(),
        version: 1,
        computed: rules::compute(&subject, &facts, &Context::default(), day("2026-07-01")),
        context: Context::default(),
        subject,
        contacts,
        tiers: tiers
            .iter()
            .map(|(d, from, to)| TierChange {
                from: *from,
                to: *to,
                reason: "fixture".into(),
                by: "保健師A".into(),
                at: day(d).start(),
            })
            .collect(),
        cases: case
            .map(|c| Link {
                case: c.parse().unwrap(),
                by: "保健師A".into(),
                at: at("2026-04-01T00:00:00Z"),
            })
            .into_iter()
            .collect(),
        created_at: at("2026-01-01T00:00:00Z"),
        updated_at: at("2026-01-01T00:00:00Z"),
    }
}

fn subject(number: &str, kind: SubjectKind, tier: Tier) -> Subject {
    Subject {
        number: number.into(),
        kind,
        name: format!("テスト {number}"),
        tier,
        ..Subject::default()
    }
}

fn pregnant(number: &str, tier: Tier, notified: &str, due: &str) -> Subject {
    Subject {
        notified_on: Some(day(notified)),
        due_date: Some(day(due)),
        ..subject(number, SubjectKind::Pregnant, tier)
    }
}

fn child(number: &str, mother: &str, born: &str) -> Subject {
    Subject {
        mother: Some(mother.into()),
        birth_date: Some(day(born)),
        ..subject(number, SubjectKind::Child, Tier::Independent)
    }
}

fn ledger() -> Ledger {
    use ContactKind::*;
    use Tier::*;
    let sp = SupportPlan;
    let mut ledger = Ledger {
        subjects: vec![
            // A: 支援プラン (2 months) from 03-10: due 05-10, met by 05-05.
            row(
                Subject {
                    tier: Specified,
                    ..pregnant("A", sp, "2026-03-10", "2026-09-01")
                },
                &[
                    ("2026-03-10", Interview, Some(ContactPoint::Notification)),
                    ("2026-05-05", Phone, None),
                ],
                &[
                    ("2026-03-10", None, sp),
                    ("2026-06-01", Some(sp), Specified),
                ],
                Some("case-a"),
            ),
            // B: 特定妊婦 (1 month): 04-20 → due 05-20, next contact 06-25: late.
            row(
                Subject {
                    tier: sp,
                    ..pregnant("B", Specified, "2026-01-15", "2026-06-20")
                },
                &[
                    ("2026-02-01", Phone, None),
                    ("2026-04-20", Visit, Some(ContactPoint::Month8)),
                    ("2026-06-25", Phone, None),
                ],
                &[
                    ("2026-01-15", None, Specified),
                    ("2026-05-25", Some(Specified), sp),
                ],
                Some("case-b"),
            ),
            row(child("C", "B", "2026-06-10"), &[], &[], None),
            // D: the infant visit's window (born 01-25) closed 05-25, not done.
            row(
                Subject {
                    tier: Independent,
                    ..pregnant("D", SelfPlan, "2025-06-01", "2026-01-20")
                },
                &[("2026-04-10", WalkIn, None)],
                &[
                    ("2025-06-01", None, SelfPlan),
                    ("2026-03-15", Some(SelfPlan), Independent),
                ],
                Some("case-d"),
            ),
            row(
                child("E", "D", "2026-01-25"),
                &[("2026-06-15", FromAgency, None)],
                &[],
                None,
            ),
            // F: notified 04-05, no interview by 05-05.
            row(
                pregnant("F", Independent, "2026-04-05", "2026-11-30"),
                &[],
                &[("2026-04-05", None, Independent)],
                None,
            ),
            // G: closed 04-20 before its window closed (05-02): left out.
            row(
                Subject {
                    closed_on: Some(day("2026-04-20")),
                    ..pregnant("G", Independent, "2026-04-02", "2026-11-01")
                },
                &[],
                &[],
                None,
            ),
        ],
    };
    // The rows' neighbours, as `load` gives them: a mother's child's birth.
    let born: Vec<(String, Day)> =
        crate::agency::support_ledger::births(ledger.subjects.iter().map(|v| &v.subject))
            .into_iter()
            .map(|(m, d)| (m.to_owned(), d))
            .collect();
    for v in &mut ledger.subjects {
        v.context.child_born_on = born
            .iter()
            .find(|(m, _)| *m == v.subject.number)
            .map(|(_, d)| *d);
    }
    ledger
}

fn referral(
    sent: bool,
    when: &str,
    others: &[AgencyKind],
    reasons: Vec<ReferralReason>,
    epds: Option<u8>,
    case: Option<&str>,
) -> ReferralFact {
    ReferralFact {
        id: EnvelopeId::new(),
        sent,
        at: at(when),
        others: others.to_vec(),
        reasons,
        epds,
        case: case.map(|c| c.parse::<CaseId>().unwrap()),
    }
}

fn plan(id: PlanId, version: u32, when: &str, review: &str) -> PlanFacts {
    PlanFacts {
        case: "case-a".parse().unwrap(),
        at: at(when),
        plan_id: id,
        version,
        lead: "minato-center".parse().unwrap(),
        key_person: String::new(),
        review_on: day(review),
        roles: vec![],
    }
}

fn facts() -> Facts {
    use AgencyKind::*;
    use ReferralReason::*;
    let r1 = referral(
        false,
        "2026-04-02T01:00:00Z",
        &[ObstetricClinic],
        vec![HighEpds, Young],
        Some(12),
        Some("case-a"),
    );
    let r2 = referral(
        false,
        "2026-04-05T00:00:00Z",
        &[ObstetricClinic],
        vec![Poverty, HighEpds],
        Some(9),
        Some("case-d"),
    );
    let r3 = referral(
        false,
        "2026-06-25T00:00:00Z",
        &[Nursery],
        vec![ParentingAnxiety],
        Some(15),
        Some("case-a"),
    );
    let r4 = referral(
        false,
        "2026-03-20T00:00:00Z",
        &[ChildWelfare],
        vec![Young],
        Some(10),
        Some("case-b"),
    );
    let r5 = referral(
        true,
        "2026-05-10T00:00:00Z",
        &[ChildWelfare, Yotaikyo],
        vec![DomesticViolence],
        None,
        None,
    );
    let r6 = referral(
        true,
        "2026-06-01T00:00:00Z",
        &[Nursery],
        vec![ReferralReason::Other("転居".into())],
        None,
        None,
    );
    let update = |r: &ReferralFact, state, when: &str| UpdateFact {
        referral: r.id,
        state,
        at: at(when),
    };
    let updates = vec![
        update(&r1, ReferralState::Received, "2026-04-03T01:00:00Z"),
        update(&r1, ReferralState::Completed, "2026-04-06T01:00:00Z"),
        update(&r2, ReferralState::Received, "2026-04-08T00:00:00Z"),
        update(&r5, ReferralState::Received, "2026-05-12T00:00:00Z"),
        update(&r5, ReferralState::Received, "2026-05-16T00:00:00Z"),
        update(&r5, ReferralState::Completed, "2026-05-20T00:00:00Z"),
        update(&r4, ReferralState::Received, "2026-03-21T00:00:00Z"),
    ];
    let meeting = |kind, when: &str, cancelled| MeetingFact {
        kind,
        starts_at: at(when),
        cancelled,
    };
    let (p1, p2, p3) = (PlanId::new(), PlanId::new(), PlanId::new());
    Facts {
        missed: [r3.id, r6.id].into_iter().collect(),
        referrals: vec![r1, r2, r3, r4, r5, r6],
        updates,
        meetings: vec![
            meeting(MeetingKind::IndividualCase, "2026-04-15T05:00:00Z", false),
            meeting(MeetingKind::PlanReview, "2026-05-20T05:00:00Z", false),
            meeting(MeetingKind::PlanReview, "2026-06-10T05:00:00Z", true),
            meeting(MeetingKind::Practitioners, "2026-07-15T05:00:00Z", false),
            meeting(MeetingKind::Stakeholders, "2026-03-01T05:00:00Z", false),
        ],
        plans: vec![
            plan(p2, 1, "2026-02-01T00:00:00Z", "2026-05-01"),
            plan(p1, 1, "2026-04-16T00:00:00Z", "2026-06-15"),
            plan(p3, 1, "2026-05-21T00:00:00Z", "2026-07-20"),
            plan(p1, 2, "2026-06-10T00:00:00Z", "2026-09-15"),
        ],
        agencies: vec![ObstetricClinic, ChildWelfare, Nursery, Yotaikyo],
        staff: 3,
    }
}

fn report(targets: &[(&str, f64)]) -> Report {
    let targets: Vec<(String, f64)> = targets.iter().map(|(i, v)| (i.to_string(), *v)).collect();
    let period = Period::parse("2026-04-01", "2026-06-30").unwrap();
    compute(
        &facts(),
        &ledger(),
        period,
        day("2026-07-01"),
        &targets,
        Lang::Ja,
    )
}

fn count(r: &Report, id: &str) -> u64 {
    match r.get(id).unwrap().value {
        Value::Count { count } => count,
        ref v => panic!("{id}: {v:?}"),
    }
}

fn rate(r: &Report, id: &str) -> (u64, u64) {
    match r.get(id).unwrap().value {
        Value::Rate {
            numerator,
            denominator,
        } => (numerator, denominator),
        ref v => panic!("{id}: {v:?}"),
    }
}

fn days(r: &Report, id: &str) -> (u64, Option<f64>, Option<f64>) {
    match r.get(id).unwrap().value {
        Value::Days {
            measured,
            median,
            p90,
        } => (measured, median, p90),
        ref v => panic!("{id}: {v:?}"),
    }
}

fn parts(r: &Report, id: &str, n: usize) -> Vec<(String, u64)> {
    r.get(id).unwrap().breakdowns[n]
        .parts
        .iter()
        .map(|p| (p.key.clone(), p.count))
        .collect()
}

fn pairs(list: &[(&str, u64)]) -> Vec<(String, u64)> {
    list.iter().map(|(k, n)| (k.to_string(), *n)).collect()
}

#[test]
fn output_indicators_match_the_hand_count() {
    let r = report(&[]);
    // Phone 05-05 (A) and 06-25 (B); visit 04-20 (B); walk-in 04-10 (D);
    // from an agency 06-15 (E). A's 03-10 and B's 02-01 are before.
    assert_eq!(count(&r, "consultations"), 5);
    assert_eq!(
        parts(&r, "consultations", 0),
        pairs(&[
            ("phone", 2),
            ("interview", 0),
            ("visit", 1),
            ("walk_in", 1),
            ("from_agency", 1)
        ])
    );
    // R1, R2 (clinic), R3 (nursery); R4 is before the period.
    assert_eq!(count(&r, "referrals_received"), 3);
    assert_eq!(
        parts(&r, "referrals_received", 0),
        pairs(&[("obstetric_clinic", 2), ("nursery", 1)])
    );
    assert_eq!(
        parts(&r, "referrals_received", 1),
        pairs(&[
            ("high_epds", 2),
            ("parenting_anxiety", 1),
            ("poverty", 1),
            ("young", 1)
        ])
    );
    assert_eq!(count(&r, "referrals_sent"), 2);
    assert_eq!(
        parts(&r, "referrals_sent", 0),
        pairs(&[("child_welfare", 1), ("nursery", 1), ("yotaikyo", 1)])
    );
    assert_eq!(
        parts(&r, "referrals_sent", 1),
        pairs(&[("domestic_violence", 1), ("other", 1)])
    );
    // 04-15 and 05-20 held; 06-10 cancelled; 07-15 and 03-01 outside.
    assert_eq!(count(&r, "meetings_held"), 2);
    assert_eq!(
        parts(&r, "meetings_held", 0),
        pairs(&[
            ("individual_case", 1),
            ("practitioners", 0),
            ("stakeholders", 0),
            ("plan_review", 1)
        ])
    );
    assert_eq!(count(&r, "plans_created"), 2);
    assert_eq!(count(&r, "plans_revised"), 1);
    let months: Vec<(&str, &[u64])> = r
        .months
        .iter()
        .map(|m| (m.month.as_str(), m.by_kind.as_slice()))
        .collect();
    assert_eq!(
        months,
        vec![
            ("2026-04", &[0, 0, 1, 1, 0][..]),
            ("2026-05", &[1, 0, 0, 0, 0][..]),
            ("2026-06", &[1, 0, 0, 0, 1][..]),
        ]
    );
}

#[test]
fn process_indicators_match_the_hand_count() {
    let r = report(&[]);
    // A's 05-10 met by 05-05; B's 05-20 missed (next contact 06-25).
    assert_eq!(rate(&r, "reviewed_on_time"), (1, 2));
    // Received: R1 in 1 day, R2 in 3 days. Sent: R5 in 2 and 6 days.
    assert_eq!(days(&r, "receipt_days_received"), (2, Some(2.0), Some(3.0)));
    assert_eq!(days(&r, "receipt_days_sent"), (2, Some(4.0), Some(6.0)));
    assert_eq!(days(&r, "reply_days_received"), (1, Some(4.0), Some(4.0)));
    assert_eq!(days(&r, "reply_days_sent"), (1, Some(10.0), Some(10.0)));
    // R3 and R6 of R1, R2, R3, R5, R6.
    assert_eq!(rate(&r, "past_deadline"), (2, 5));
    // P1 v1 (review 06-15) revised 06-10; P2 v1 (05-01) never.
    assert_eq!(rate(&r, "plans_reviewed_on_time"), (1, 2));
}

#[test]
fn structure_outcome_and_companion_indicators_match_the_hand_count() {
    let r = report(&[]);
    assert_eq!(count(&r, "agencies_connected"), 4);
    assert_eq!(count(&r, "staff_accounts"), 3);
    assert_eq!(count(&r, "meeting_bodies"), 2);
    // B 特定妊婦 → 支援プラン (toward), A 支援プラン → 特定妊婦 (away);
    // D's change was in March.
    assert_eq!(rate(&r, "toward_independent"), (1, 2));
    // R1 (A: no contact 04-02..04-16) and R2 (D: walk-in 04-10); R3's 14
    // days have not passed, R4 is before the period.
    assert_eq!(rate(&r, "epds_follow_up"), (1, 2));
    // A done, F not, G closed before its window closed.
    assert_eq!(rate(&r, "point_notification"), (1, 2));
    // B's window closed 05-23 (the due date less four weeks); done 04-20.
    assert_eq!(rate(&r, "point_month8"), (1, 1));
    // D's child born 01-25: the window closed 05-25; no visit.
    assert_eq!(rate(&r, "point_infant_visit"), (0, 1));
    assert_eq!(r.fiscal_year, 2026);
}

#[test]
fn targets_give_the_achievement_and_the_judgement() {
    let r = report(&[
        ("consultations", 4.0),
        ("reviewed_on_time", 60.0),
        ("receipt_days_sent", 2.0),
        ("past_deadline", 10.0),
        ("point_notification", 50.0),
    ]);
    let judged = |id: &str| {
        let i = r.get(id).unwrap();
        (
            i.actual.unwrap(),
            i.target.unwrap(),
            i.achievement.unwrap(),
            i.judgement.unwrap(),
        )
    };
    // 5 of 4: 125 %.
    assert_eq!(
        judged("consultations"),
        (5.0, 4.0, 125.0, Judgement::OnTrack)
    );
    // 50 % of 60 %: 83.3 %.
    let (a, _, ach, j) = judged("reviewed_on_time");
    assert_eq!(a, 50.0);
    assert!((ach - 250.0 / 3.0).abs() < 1e-9, "{ach}");
    assert_eq!(j, Judgement::SlightlyBehind);
    // Fewer days is better: 2 days aimed, 4 taken: 50 %.
    assert_eq!(
        judged("receipt_days_sent"),
        (4.0, 2.0, 50.0, Judgement::Behind)
    );
    // 40 % past the deadline against 10 %: 25 %.
    assert_eq!(
        judged("past_deadline"),
        (40.0, 10.0, 25.0, Judgement::Behind)
    );
    // Exactly on target is 順調.
    assert_eq!(
        judged("point_notification"),
        (50.0, 50.0, 100.0, Judgement::OnTrack)
    );
    // No target: no judgement.
    let none = r.get("plans_created").unwrap();
    assert_eq!(
        (none.target, none.achievement, none.judgement),
        (None, None, None)
    );
}

#[test]
fn the_judgement_thresholds_are_100_and_80_per_cent() {
    assert_eq!(judge(100.0), Judgement::OnTrack);
    assert_eq!(judge(99.9), Judgement::SlightlyBehind);
    assert_eq!(judge(80.0), Judgement::SlightlyBehind);
    assert_eq!(judge(79.9), Judgement::Behind);
    assert_eq!(achievement(3.0, 0.0, Better::Higher), None);
    assert_eq!(achievement(0.0, 2.0, Better::Lower), Some(100.0));
}

#[test]
fn median_and_90th_percentile_by_nearest_rank() {
    let ten: Vec<f64> = (1..=10).map(f64::from).collect();
    assert_eq!(process::median(&ten), Some(5.5));
    assert_eq!(process::percentile(&ten, 90), Some(9.0));
    assert_eq!(process::percentile(&[7.0], 90), Some(7.0));
    assert_eq!(process::median(&[]), None);
}

#[test]
fn a_period_ending_before_it_starts_is_refused() {
    let e = Period::parse("2026-06-30", "2026-04-01").unwrap_err();
    assert_eq!(
        e,
        PeriodError::EndsBeforeStart {
            from: day("2026-06-30"),
            to: day("2026-04-01")
        }
    );
    assert_eq!(e.field(), "to");
    assert!(
        e.text(Lang::Ja)
            .contains("終了日（2026-04-01）が開始日（2026-06-30）より前です")
    );
    assert_eq!(
        Period::parse("2026-13-01", "2026-04-01")
            .unwrap_err()
            .field(),
        "from"
    );
    assert!(
        Period::parse("2026-04-01", "2026-04-01").is_ok(),
        "one day is a period"
    );
}

#[test]
fn the_fiscal_year_starts_in_april() {
    assert_eq!(Period::fiscal_year_of(day("2026-03-31")), 2025);
    assert_eq!(Period::fiscal_year_of(day("2026-04-01")), 2026);
    let fy = Period::of_fiscal_year(2026).unwrap();
    assert_eq!((fy.from, fy.to), (day("2026-04-01"), day("2027-03-31")));
    assert_eq!(fy.months().len(), 12);
}

#[test]
fn a_target_is_checked_before_it_is_kept() {
    assert_eq!(checked_target(2026, "consultations", " 120 "), Ok(120.0));
    assert_eq!(
        checked_target(2026, "nope", "1"),
        Err(TargetError::UnknownIndicator("nope".into()))
    );
    assert_eq!(
        checked_target(2026, "consultations", "十"),
        Err(TargetError::NotANumber("十".into()))
    );
    assert_eq!(
        checked_target(2026, "consultations", "NaN"),
        Err(TargetError::NotANumber("NaN".into()))
    );
    assert_eq!(
        checked_target(2026, "consultations", "-1"),
        Err(TargetError::Negative)
    );
    assert_eq!(
        checked_target(2026, "reviewed_on_time", "120"),
        Err(TargetError::OverHundred)
    );
    assert_eq!(
        checked_target(1999, "consultations", "1"),
        Err(TargetError::Year(1999))
    );
}

#[test]
fn every_indicator_is_defined_once_and_reported() {
    let r = report(&[]);
    assert_eq!(r.indicators.len(), DEFS.len());
    let mut ids: Vec<&str> = DEFS.iter().map(|d| d.id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), DEFS.len());
    for d in DEFS.iter().filter(|d| d.unit == Unit::Percent) {
        assert!(
            !d.denominator.0.is_empty(),
            "{} states its denominator",
            d.id
        );
    }
}

#[test]
fn charts_are_svg_with_japanese_labels_and_png() {
    let r = report(&[]);
    let Ok(fonts) = charts::fonts() else {
        eprintln!("skipped: no font installed for the charts");
        return;
    };
    let svg = charts::svg(&r, charts::Chart::Trend, Lang::Ja).unwrap();
    assert!(svg.starts_with("<svg"), "{}", &svg[..40.min(svg.len())]);
    assert!(svg.contains("月別の相談・接触件数") && svg.contains("電話"));
    let bars = charts::svg(&r, charts::Chart::Breakdown, Lang::Ja).unwrap();
    assert!(bars.contains("関係機関から"));
    let png = charts::png(&r, charts::Chart::Breakdown, Lang::Ja).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(
        charts::png_lang(Lang::Ja, fonts) == Lang::Ja,
        fonts == charts::Fonts::Cjk
    );
}
