use super::*;
use crate::protocol::meeting::{Minutes, Role};

fn day(s: &str) -> Day {
    s.parse().unwrap()
}

fn id(s: &str) -> AgencyId {
    s.parse().unwrap()
}

fn action(agency: &str, what: &str, frequency: &str, until: Option<&str>) -> PlanAction {
    PlanAction {
        what: what.into(),
        agency: id(agency),
        frequency: frequency.into(),
        from: Some(day("2026-06-01")),
        until: until.map(day),
    }
}

fn plan() -> SupportPlan {
    SupportPlan {
        wishes: "赤ちゃんと上の子と一緒に暮らしたい".into(),
        goals: vec!["安心して出産を迎える".into(), "上の子の登園が続く".into()],
        actions: vec![
            action("minato-center", "家庭訪問", "週1回", None),
            action("sakura-clinic", "妊婦健診", "2週に1回", Some("2026-08-20")),
            action("hikari-nursery", "上の子の登園見守り", "毎日", None),
        ],
        lead: id("minato-center"),
        lead_contact: "母子保健係 田中 03-0000-0001".into(),
        key_person: "実母".into(),
        person_took_part: true,
        copy_given: false,
        made_on: day("2026-06-01"),
        review_on: day("2026-09-01"),
        from_meeting: None,
        categories: vec![InfoCategory::Family, InfoCategory::PregnancyMedical],
    }
}

#[test]
fn a_diff_names_every_changed_field_and_nothing_else() {
    let a = plan();
    assert!(diff(&a, &a).is_empty());
    let mut b = a.clone();
    b.goals[1] = "上の子が毎日登園できる".into();
    b.actions[0].frequency = "2週に1回".into();
    b.actions.remove(1);
    b.actions.push(action(
        "minato-child-welfare",
        "養育状況の確認",
        "月1回",
        None,
    ));
    b.copy_given = true;
    b.review_on = day("2026-10-01");
    let d = diff(&a, &b);
    assert_eq!(d.goals_added, ["上の子が毎日登園できる"]);
    assert_eq!(d.goals_removed, ["上の子の登園が続く"]);
    assert_eq!(d.actions_removed, [a.actions[1].clone()]);
    assert_eq!(d.actions_added.len(), 1);
    assert_eq!(d.actions_added[0].agency, id("minato-child-welfare"));
    assert_eq!(d.actions_changed.len(), 1);
    assert_eq!(d.actions_changed[0].before.frequency, "週1回");
    assert_eq!(d.actions_changed[0].after.frequency, "2週に1回");
    assert_eq!(
        d.copy_given,
        Some(Change {
            before: false,
            after: true
        })
    );
    assert_eq!(d.review_on.unwrap().after, day("2026-10-01"));
    assert_eq!(
        (d.wishes, d.lead, d.key_person, d.made_on),
        (None, None, None, None)
    );
}

#[test]
fn a_revision_changes_only_what_staff_give() {
    let base = plan();
    let changes = PlanChanges {
        review_on: Some(day("2026-10-01")),
        add_goals: vec!["産後の休養がとれる".into()],
        drop_goals: vec!["安心して出産を迎える".into()],
        copy_given: Some(true),
        ..PlanChanges::default()
    };
    let next = changes.apply(&base, day("2026-07-01"));
    assert_eq!(next.goals, ["上の子の登園が続く", "産後の休養がとれる"]);
    assert_eq!(next.made_on, day("2026-07-01"));
    assert!(next.copy_given);
    let d = diff(&base, &next);
    assert!(d.wishes.is_none() && d.lead.is_none() && d.actions_changed.is_empty());
    assert!(d.actions_added.is_empty() && d.actions_removed.is_empty());
}

#[test]
fn a_meetings_roles_become_the_actions_keeping_known_details() {
    let base = plan();
    let meeting = crate::protocol::MeetingId::new();
    let minutes = Minutes {
        roles: vec![
            Role {
                agency: id("minato-center"),
                task: "家庭訪問".into(),
            },
            Role {
                agency: id("minato-child-welfare"),
                task: "養育状況の確認".into(),
            },
        ],
        lead: Some(id("minato-child-welfare")),
        next_review: Some(day("2026-08-01")),
        ..Minutes::default()
    };
    let next = PlanChanges::from_minutes(&minutes, meeting, &base).apply(&base, day("2026-07-01"));
    assert_eq!(next.actions.len(), 2);
    assert_eq!(next.actions[0].frequency, "週1回", "kept from the plan");
    assert_eq!(next.actions[1].what, "養育状況の確認");
    assert_eq!(next.lead, id("minato-child-welfare"));
    assert_eq!(next.review_on, day("2026-08-01"));
    assert_eq!(next.from_meeting, Some(meeting));
    assert_eq!(next.key_person, "実母", "not decided: kept");
}

fn held(plan_id: PlanId, version: u32, content: Held) -> HeldVersion {
    HeldVersion {
        envelope_id: EnvelopeId::new(),
        plan_id,
        case_id: "case-1".parse().unwrap(),
        version,
        based_on: None,
        from: None,
        author: Author {
            name: "田中".into(),
            role: "保健師".into(),
            contact: String::new(),
        },
        created_at: Timestamp::now(),
        content,
        consent_end_reason: None,
    }
}

#[test]
fn our_actions_come_from_the_latest_version_of_each_plan_soonest_first() {
    let nursery = id("hikari-nursery");
    let clinic = id("sakura-clinic");
    let (one, two) = (PlanId::new(), PlanId::new());
    let v1 = plan();
    let mut v2 = plan();
    v2.actions[2].frequency = "週3回".into();
    v2.review_on = day("2026-12-01");
    let mut other = plan();
    other.review_on = day("2026-07-15");
    let all = vec![
        held(one, 1, Held::Whole(Box::new(v1.clone()))),
        held(one, 2, Held::Part(v2.part_for(&nursery, vec![]))),
        held(two, 1, Held::Whole(Box::new(other))),
    ];
    let ours = our_actions(all.clone(), &nursery);
    assert_eq!(ours.len(), 2);
    assert_eq!((ours[0].plan_id, ours[0].due), (two, day("2026-07-15")));
    assert_eq!((ours[1].plan_id, ours[1].version), (one, 2));
    assert_eq!(ours[1].action.frequency, "週3回");
    assert_eq!(ours[1].due, day("2026-12-01"));
    // An action that ends before the review is due when it ends.
    let clinics = our_actions(all, &clinic);
    assert_eq!(clinics.len(), 1, "plan one's latest is a part without it");
    assert_eq!(clinics[0].due, day("2026-07-15"));
    assert!(our_actions(Vec::new(), &clinic).is_empty());
}

#[test]
fn a_version_travels_whole_first_then_one_part_per_agency() {
    let send = PlanSend {
        case: "case-1".parse().unwrap(),
        plan_id: PlanId::new(),
        version: 2,
        based_on: Some(1),
        plan: plan(),
        whole: vec![id("minato-child-welfare")],
        parts: vec![id("hikari-nursery"), id("sakura-clinic")],
        part_categories: vec![InfoCategory::Childcare],
        basis: LegalBasis::YotaikyoSharing,
        justification: Some("要対協".into()),
        author: held(
            PlanId::new(),
            1,
            Held::Part(plan().part_for(&id("x"), vec![])),
        )
        .author,
    };
    let drafts = send.drafts();
    assert_eq!(drafts.len(), 3);
    let Some(Action::RecordPlan { version }) = &drafts[0].action else {
        panic!("whole first")
    };
    assert_eq!((version.version, version.based_on), (2, Some(1)));
    assert_eq!(version.roles.len(), 3);
    let Body::PlanPart(part) = &drafts[1].payload.body else {
        panic!("then parts")
    };
    assert_eq!(drafts[1].recipients, [id("hikari-nursery")]);
    assert_eq!(part.actions.len(), 1);
    assert_eq!(part.categories, [InfoCategory::Childcare]);
    assert!(
        drafts
            .iter()
            .all(|d| d.purpose == Some(Purpose::SupportPlan))
    );
}
