use super::rules::{ContactFact, Context, compute, months_between};
use super::*;

fn day(s: &str) -> Day {
    s.parse().unwrap()
}

fn pregnant(number: &str) -> Subject {
    Subject {
        number: number.into(),
        kind: SubjectKind::Pregnant,
        name: "港 花子".into(),
        furigana: "みなと はなこ".into(),
        birth_date: Some(day("1998-05-02")),
        notified_on: Some(day("2026-05-11")),
        due_date: Some(day("2026-12-20")),
        tier: Tier::SupportPlan,
        ..Subject::default()
    }
}

#[test]
fn months_are_counted_as_getsurei() {
    assert_eq!(months_between(day("2026-01-31"), day("2026-02-27")), 0);
    assert_eq!(months_between(day("2026-01-31"), day("2026-02-28")), 1);
    assert_eq!(months_between(day("2026-01-15"), day("2027-01-14")), 11);
    assert_eq!(months_between(day("2026-01-15"), day("2027-01-15")), 12);
    assert_eq!(months_between(day("2026-01-15"), day("2025-01-15")), 0);
}

#[test]
fn the_next_contact_is_the_earliest_rule_and_names_it() {
    let s = pregnant("R8-0001");
    let contacts = [ContactFact {
        day: day("2026-09-01"),
        staff: "保健師A".into(),
        point: Some(ContactPoint::Notification),
    }];
    let ctx = Context::default();
    // Two months after the last contact (11-01) is later than the 8th-month
    // interview, due at 30 weeks (12-20 − 70 days = 10-11).
    let c = compute(&s, &contacts, &ctx, day("2026-09-10"));
    assert_eq!(c.last_contact, Some(day("2026-09-01")));
    assert_eq!(
        c.next_contact,
        Some(Dated {
            day: day("2026-10-11"),
            rule: Rule::ContactPointDue
        })
    );
    assert_eq!(
        c.points[0].1,
        Progress::Done {
            day: day("2026-09-01"),
            staff: "保健師A".into()
        }
    );
    // Once the 8th-month interview is done, the tier's interval decides.
    let mut later = contacts.to_vec();
    later.push(ContactFact {
        day: day("2026-10-12"),
        staff: "保健師B".into(),
        point: Some(ContactPoint::Month8),
    });
    let c = compute(&s, &later, &ctx, day("2026-10-13"));
    assert_eq!(
        c.next_contact,
        Some(Dated {
            day: day("2026-12-12"),
            rule: Rule::SupportPlanBimonthly
        })
    );
    // A day set by hand wins; a closed row has none.
    let manual = Subject {
        next_contact_on: Some(day("2026-10-20")),
        ..s.clone()
    };
    assert_eq!(
        compute(&manual, &later, &ctx, day("2026-10-13")).next_contact,
        Some(Dated {
            day: day("2026-10-20"),
            rule: Rule::Manual
        })
    );
    let closed = Subject {
        closed_on: Some(day("2026-10-13")),
        ..s
    };
    assert_eq!(
        compute(&closed, &later, &ctx, day("2026-10-13")).next_contact,
        None
    );
}

#[test]
fn contact_points_are_due_then_missed() {
    let s = pregnant("R8-0002");
    let ctx = Context::default();
    let c = compute(&s, &[], &ctx, day("2026-05-20"));
    assert!(matches!(c.points[0].1, Progress::Due { .. }), "{c:?}");
    assert!(matches!(c.points[1].1, Progress::Upcoming { .. }), "{c:?}");
    let c = compute(&s, &[], &ctx, day("2026-06-12"));
    assert_eq!(
        c.points[0].1,
        Progress::Missed {
            due: day("2026-05-11"),
            until: day("2026-06-11")
        }
    );
    // The birth recorded on the ledger moves the infant visit's window.
    let born = Context {
        child_born_on: Some(day("2026-12-01")),
        ..Context::default()
    };
    let c = compute(&s, &[], &born, day("2027-03-31"));
    assert!(matches!(c.points[2].1, Progress::Due { until, .. } if until == day("2027-04-01")));
    let c = compute(&s, &[], &born, day("2027-04-02"));
    assert!(matches!(c.points[2].1, Progress::Missed { .. }));
}

#[test]
fn a_specified_mothers_child_is_followed_until_three() {
    let child = Subject {
        number: "R8-0003".into(),
        kind: SubjectKind::Child,
        name: "港 太郎".into(),
        birth_date: Some(day("2026-01-10")),
        mother: Some("R8-0002".into()),
        tier: Tier::Independent,
        ..Subject::default()
    };
    let ctx = Context {
        mother_was_specified: true,
        ..Context::default()
    };
    let c = compute(&child, &[], &ctx, day("2028-12-31"));
    assert_eq!(
        (c.tier, c.tier_rule),
        (Tier::Specified, Some(Rule::FollowedChild))
    );
    assert_eq!(c.age_months, Some(35));
    assert_eq!(
        c.next_contact,
        Some(Dated {
            day: day("2026-02-10"),
            rule: Rule::FollowedChild
        })
    );
    let c = compute(&child, &[], &ctx, day("2029-01-10"));
    assert_eq!((c.tier, c.tier_rule), (Tier::Independent, None));
    // Checkups: 3 months done, 18 months missed, 3 years due.
    let child = Subject {
        checkup_month3: Some(day("2026-04-20")),
        ..child
    };
    let c = compute(&child, &[], &ctx, day("2029-01-10"));
    assert_eq!(
        c.checkups
            .iter()
            .map(|(_, p)| p.label(crate::i18n::Lang::Ja))
            .collect::<Vec<_>>(),
        ["実施済", "未実施", "実施時期"]
    );
}

#[tokio::test]
async fn rows_contacts_tiers_and_links_are_kept_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let records = Records::open(&crate::store::testing::sqlite_url(dir.path(), "node.db"))
        .await
        .unwrap();
    let now = Timestamp::now();
    let ids = add(
        &records,
        vec![pregnant("R8-0001")],
        "妊娠届出",
        "保健師A",
        now,
    )
    .await
    .unwrap();
    let id = &ids[0];
    // The same number twice is refused, and nothing of the batch is written.
    let twice = add(
        &records,
        vec![pregnant("R8-0009"), pregnant("R8-0001")],
        "取込",
        "保健師A",
        now,
    )
    .await;
    assert!(matches!(twice, Err(SupportLedgerError::NumberTaken(ref n)) if n == "R8-0001"));
    let ledger = load(&records, Day::of(now)).await.unwrap();
    assert_eq!(ledger.subjects.len(), 1);
    // A tier change needs a reason and is kept in the history.
    let v = &ledger.subjects[0];
    let raised = Subject {
        tier: Tier::Specified,
        ..v.subject.clone()
    };
    let no_reason = update(
        &records,
        id,
        v.version,
        raised.clone(),
        None,
        "保健師B",
        now,
    )
    .await;
    assert!(matches!(
        no_reason,
        Err(SupportLedgerError::TierReasonMissing)
    ));
    update(
        &records,
        id,
        v.version,
        raised.clone(),
        Some("DV の訴え"),
        "保健師B",
        now,
    )
    .await
    .unwrap();
    // An edit from a stale read is refused.
    let stale = update(&records, id, v.version, raised, None, "保健師C", now).await;
    assert!(matches!(stale, Err(SupportLedgerError::Stale)), "{stale:?}");
    // A future contact is refused; a real one is kept.
    let contact = Contact {
        day: Day::of(now).plus_days(1),
        kind: ContactKind::Visit,
        staff: "保健師B".into(),
        summary: "家庭訪問".into(),
        point: None,
        recorded_by: "保健師B".into(),
        recorded_at: now,
    };
    assert!(matches!(
        record_contact(&records, id, contact.clone()).await,
        Err(SupportLedgerError::BadContact(_))
    ));
    record_contact(
        &records,
        id,
        Contact {
            day: Day::of(now),
            ..contact
        },
    )
    .await
    .unwrap();
    let case: CaseId = "case-1".parse().unwrap();
    link_case(&records, id, &case, "保健師B", now)
        .await
        .unwrap();
    let other = add(
        &records,
        vec![pregnant("R8-0002")],
        "妊娠届出",
        "保健師A",
        now,
    )
    .await
    .unwrap();
    assert!(matches!(
        link_case(&records, &other[0], &case, "保健師B", now).await,
        Err(SupportLedgerError::CaseLinked(_))
    ));
    let ledger = load(&records, Day::of(now)).await.unwrap();
    let v = ledger.by_case(&case).unwrap();
    assert_eq!(v.subject.tier, Tier::Specified);
    assert_eq!(
        v.tiers
            .iter()
            .map(|t| (t.from, t.to, t.reason.as_str(), t.by.as_str()))
            .collect::<Vec<_>>(),
        [
            (None, Tier::SupportPlan, "妊娠届出", "保健師A"),
            (
                Some(Tier::SupportPlan),
                Tier::Specified,
                "DV の訴え",
                "保健師B"
            )
        ]
    );
    assert_eq!(v.contacts.len(), 1);
    assert_eq!(v.computed.last_contact, Some(Day::of(now)));
    // The morning list: due within a month, or not at all for a closed row.
    let filter = MorningFilter {
        due_by: Some(Day::of(now).plus_months(1)),
        ..MorningFilter::default()
    };
    assert!(filter.apply(&ledger).iter().any(|r| r.id == *id));
    records.close().await;
}

#[test]
fn a_row_started_from_a_referral_carries_what_it_says() {
    let today = time::macros::date!(2026 - 11 - 30);
    let referral = crate::protocol::referral::demo_referral(today);
    let m = prefill::mother(&referral, "R8-0100");
    assert_eq!(m.name, referral.mother.name);
    assert_eq!(m.due_date, Some(day("2027-06-14")));
    assert!(m.needs_support && m.needs_reason.contains("若年"), "{m:?}");
    assert!(m.problems(Day::from(today)).is_empty(), "{m:?}");
    // A referral written during pregnancy carries no baby.
    assert_eq!(prefill::child(&referral, "R8-0101", "R8-0100"), None);
}

#[tokio::test]
async fn a_mother_and_her_baby_are_added_with_the_case_in_one_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let records = Records::open(&crate::store::testing::sqlite_url(dir.path(), "node.db"))
        .await
        .unwrap();
    let now = Timestamp::now();
    let case: CaseId = "case-7".parse().unwrap();
    let baby = |number: &str| Subject {
        number: number.into(),
        kind: SubjectKind::Child,
        name: "港 花子の子".into(),
        birth_date: Some(Day::of(now).plus_days(-3)),
        mother: Some("R8-0001".into()),
        tier: Tier::SupportPlan,
        ..Subject::default()
    };
    // The baby's number is taken: neither row, nor the link, is written.
    add(&records, vec![pregnant("R8-0005")], "取込", "保健師A", now)
        .await
        .unwrap();
    let taken = add_linked_with(
        &records,
        pregnant("R8-0001"),
        &case,
        vec![baby("R8-0005")],
        "出生連絡",
        "保健師A",
        now,
    )
    .await;
    assert!(
        matches!(taken, Err(SupportLedgerError::NumberTaken(_))),
        "{taken:?}"
    );
    assert_eq!(
        load(&records, Day::of(now)).await.unwrap().subjects.len(),
        1
    );
    let ids = add_linked_with(
        &records,
        pregnant("R8-0001"),
        &case,
        vec![baby("R8-0002")],
        "出生連絡",
        "保健師A",
        now,
    )
    .await
    .unwrap();
    let ledger = load(&records, Day::of(now)).await.unwrap();
    assert_eq!(ledger.by_case(&case).unwrap().id, ids[0]);
    assert_eq!(ledger.get(&ids[1]).unwrap().subject.number, "R8-0002");
    records.close().await;
}

#[test]
fn a_pregnant_womans_own_birth_date_never_schedules_her_next_contact() {
    let mut s = pregnant("R8-0009");
    s.notified_on = None;
    s.due_date = None;
    let c = compute(&s, &[], &Context::default(), day("2026-09-10"));
    assert_eq!(c.next_contact, None);
    // Added to the ledger (from a referral) and not yet seen: her tier's
    // interval counts from that day, so she is never off the list.
    let added = Context {
        added_on: Some(day("2026-09-01")),
        ..Context::default()
    };
    let c = compute(&s, &[], &added, day("2026-09-10"));
    assert_eq!(
        c.next_contact,
        Some(Dated {
            day: day("2026-11-01"),
            rule: Rule::SupportPlanBimonthly
        })
    );
}
