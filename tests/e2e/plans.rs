//! Support plans (支援プラン): a version shared whole to some agencies and as
//! their own part to others, revised from the latest, diffed, each agency's
//! actions listed; what the hub refuses (a stale revision, an unknown
//! agency, a review before the plan's date, a writer outside the case); and
//! the review reminders, which survive a hub restart.

use std::sync::Arc;

use serde_json::Value;
use tsunagu::agency::NodeEvent;
use tsunagu::agency::plans::{self, Held, PlanChanges, PlanSend, diff, our_actions};
use tsunagu::hub::clock::ManualClock;
use tsunagu::protocol::day::Day;
use tsunagu::protocol::plan::{PlanAction, SupportPlan};
use tsunagu::protocol::{CaseId, ErrorCode, InfoCategory, LegalBasis, Notice, PlanId, Seq};

use crate::helpers::*;

both_backends!(
    a_plan_goes_whole_to_child_welfare_and_only_her_part_to_the_nursery_then_is_revised,
    a_revision_of_a_version_that_is_not_the_latest_is_refused_naming_both,
    an_action_for_an_unknown_agency_or_a_review_before_the_plans_date_is_refused,
    a_plan_from_an_agency_not_involved_in_the_case_is_refused,
    review_reminders_reach_the_lead_before_and_everyone_concerned_after_a_hub_restart,
    staff_write_a_plan_from_the_example_file_and_list_their_actions_as_json,
);

const WISHES: &str = "上の子を保育園に通わせながら、赤ちゃんを元気に産みたい";

struct World {
    hub: TestHub,
    clinic: TestNode,
    center: TestNode,
    welfare: TestNode,
    nursery: TestNode,
    yotaikyo: TestNode,
    data: tempfile::TempDir,
}

impl World {
    async fn start(db: &Db) -> World {
        Self::on(TestHub::start(db).await).await
    }

    async fn on(hub: TestHub) -> World {
        Self::connect(hub, tempfile::tempdir().unwrap()).await
    }

    /// Every node connected to `hub`, its records in `data`.
    async fn connect(hub: TestHub, data: tempfile::TempDir) -> World {
        World {
            clinic: TestNode::connect(&hub.url, CLINIC, data.path()).await,
            center: TestNode::connect(&hub.url, CENTER, data.path()).await,
            welfare: TestNode::connect(&hub.url, WELFARE, data.path()).await,
            nursery: TestNode::connect(&hub.url, NURSERY, data.path()).await,
            yotaikyo: TestNode::connect(&hub.url, YOTAIKYO, data.path()).await,
            hub,
            data,
        }
    }

    /// Stop everything; the hub's directory (and database) and the nodes'
    /// records are returned for a restart.
    async fn stop_all(self) -> (TestHub, tempfile::TempDir) {
        let World {
            hub,
            clinic,
            center,
            welfare,
            nursery,
            yotaikyo,
            data,
        } = self;
        for n in [clinic, center, welfare, nursery, yotaikyo] {
            n.stop().await;
        }
        (hub, data)
    }

    async fn stop(self) {
        let (hub, _) = self.stop_all().await;
        hub.stop().await;
    }

    /// The same hub again (same database, same port, same clock) and the
    /// same nodes.
    async fn restart(self, db: &Db, clock: Arc<ManualClock>) -> World {
        let (hub, data) = self.stop_all().await;
        let (addr, dir) = (hub.addr, hub.dir.clone());
        hub.stop().await;
        let hub = TestHub::start_with_clock(db, dir, Some(addr), clock).await;
        Self::connect(hub, data).await
    }

    async fn register(&self, case: &CaseId) {
        sent(&self.yotaikyo, &registration_draft(case)).await;
    }

    async fn seq(&self, id: &str) -> Seq {
        self.hub.store.last_seq(&agency(id)).await.unwrap()
    }
}

fn act(agency_id: &str, what: &str, frequency: &str, made_on: Day) -> PlanAction {
    PlanAction {
        what: what.into(),
        agency: agency(agency_id),
        frequency: frequency.into(),
        from: Some(made_on),
        until: None,
    }
}

/// The center's plan for a 特定妊婦, made on `made_on`, reviewed 30 days on.
fn plan(made_on: Day) -> SupportPlan {
    SupportPlan {
        wishes: WISHES.into(),
        goals: vec![
            "妊婦健診を毎回受ける".into(),
            "上の子の登園が途切れない".into(),
        ],
        actions: vec![
            act(CENTER, "家庭訪問", "週1回", made_on),
            act(CLINIC, "妊婦健診", "2週に1回", made_on),
            act(WELFARE, "養育状況の確認", "月1回", made_on),
            act(NURSERY, "上の子の登園見守り", "登園日ごと", made_on),
        ],
        lead: agency(CENTER),
        lead_contact: "母子保健係 田中 03-0000-0001".into(),
        key_person: "実母".into(),
        person_took_part: true,
        copy_given: false,
        made_on,
        review_on: made_on.plus_days(30),
        from_meeting: None,
        categories: vec![
            InfoCategory::PregnancyMedical,
            InfoCategory::Family,
            InfoCategory::Childcare,
        ],
    }
}

fn today() -> Day {
    Day::of(tsunagu::protocol::Timestamp::now())
}

/// Version 1 of a new plan, whole to child welfare and the nursery's part,
/// under council sharing.
fn version_one(case: &CaseId, made_on: Day) -> PlanSend {
    PlanSend {
        case: case.clone(),
        plan_id: PlanId::new(),
        version: 1,
        based_on: None,
        plan: plan(made_on),
        whole: vec![agency(WELFARE)],
        parts: vec![agency(NURSERY)],
        part_categories: vec![InfoCategory::Childcare],
        basis: LegalBasis::YotaikyoSharing,
        justification: Some("要対協登録ケースの支援方針を構成機関で共有するため".into()),
        author: midwife(),
    }
}

/// Send a version and expect the hub to take every envelope; the ids of
/// the whole plan and the parts.
async fn shared(node: &TestNode, send: &PlanSend) -> Vec<tsunagu::protocol::EnvelopeId> {
    let out = plans::send_plan(&node.node, send).await;
    let mut ids = vec![accepted(out.whole)];
    ids.extend(out.parts.into_iter().map(|(_, r)| accepted(r)));
    ids
}

fn accepted(
    r: Result<tsunagu::agency::Sent, tsunagu::agency::NodeError>,
) -> tsunagu::protocol::EnvelopeId {
    match r {
        Ok(tsunagu::agency::Sent::Accepted { id, .. }) => id,
        other => panic!("expected accepted, got {other:?}"),
    }
}

/// The next version from the latest the center holds, with `changes`.
async fn revision(center: &TestNode, plan_id: PlanId, changes: PlanChanges) -> PlanSend {
    let latest = plans::latest(center.node.records(), plan_id)
        .await
        .unwrap()
        .unwrap();
    let Held::Whole(base) = &latest.content else {
        panic!("the author holds the whole plan")
    };
    let mut send = version_one(&latest.case_id, today());
    send.plan_id = plan_id;
    send.version = latest.version + 1;
    send.based_on = Some(latest.version);
    send.plan = changes.apply(base, today());
    send
}

pub async fn a_plan_goes_whole_to_child_welfare_and_only_her_part_to_the_nursery_then_is_revised(
    db: Db,
) {
    let mut w = World::start(&db).await;
    let case = w.center.node.open_case().await.unwrap();
    w.register(&case).await;
    let v1 = version_one(&case, today());
    let ids = shared(&w.center, &v1).await;
    let (whole, part) = (ids[0], ids[1]);
    w.welfare.wait_stored(whole).await;
    w.nursery.wait_stored(part).await;

    // The nursery holds its part: its own action, the lead and the review
    // date — not her wishes, nor anyone else's actions.
    let inbox = w.nursery.node.records().inbox().await.unwrap();
    assert!(inbox.iter().all(|r| !r.payload.contains("元気に産みたい")));
    assert!(inbox.iter().all(|r| !r.payload.contains("家庭訪問")));
    let held = plans::held_versions(w.nursery.node.records())
        .await
        .unwrap();
    assert_eq!(held.len(), 1);
    let Held::Part(p) = &held[0].content else {
        panic!("the nursery holds a part: {held:?}")
    };
    assert_eq!((held[0].plan_id, held[0].version), (v1.plan_id, 1));
    assert_eq!(p.actions.len(), 1);
    assert_eq!(p.lead, agency(CENTER));
    let ours = our_actions(held, &agency(NURSERY));
    assert_eq!(ours.len(), 1);
    assert_eq!(ours[0].action.what, "上の子の登園見守り");
    assert_eq!(ours[0].due, v1.plan.review_on);
    // Child welfare holds the whole.
    let held = plans::versions(w.welfare.node.records(), v1.plan_id)
        .await
        .unwrap();
    assert!(matches!(&held[0].content, Held::Whole(p) if p.wishes == WISHES));

    // Version 2, revised from version 1 in one step.
    let changes = PlanChanges {
        review_on: Some(today().plus_days(60)),
        add_goals: vec!["産後の休養がとれる".into()],
        copy_given: Some(true),
        ..PlanChanges::default()
    };
    let v2 = revision(&w.center, v1.plan_id, changes).await;
    assert_eq!((v2.version, v2.based_on), (2, Some(1)));
    let ids = shared(&w.center, &v2).await;
    w.welfare.wait_stored(ids[0]).await;
    w.nursery.wait_stored(ids[1]).await;
    let held = plans::versions(w.welfare.node.records(), v1.plan_id)
        .await
        .unwrap();
    let versions: Vec<u32> = held.iter().map(|v| v.version).collect();
    assert_eq!(versions, [1, 2]);
    let (Held::Whole(a), Held::Whole(b)) = (&held[0].content, &held[1].content) else {
        panic!("child welfare holds both whole")
    };
    let d = diff(a, b);
    assert_eq!(d.goals_added, ["産後の休養がとれる"]);
    assert_eq!(d.review_on.unwrap().after, today().plus_days(60));
    assert!(d.copy_given.is_some() && d.wishes.is_none() && d.actions_changed.is_empty());
    // The nursery's actions follow the latest version.
    let ours = our_actions(
        plans::held_versions(w.nursery.node.records())
            .await
            .unwrap(),
        &agency(NURSERY),
    );
    assert_eq!((ours.len(), ours[0].version), (1, 2));
    assert_eq!(ours[0].review_on, today().plus_days(60));
    w.stop().await;
}

pub async fn a_revision_of_a_version_that_is_not_the_latest_is_refused_naming_both(db: Db) {
    let w = World::start(&db).await;
    let case = w.center.node.open_case().await.unwrap();
    w.register(&case).await;
    let v1 = version_one(&case, today());
    shared(&w.center, &v1).await;
    let v2 = revision(&w.center, v1.plan_id, PlanChanges::default()).await;
    shared(&w.center, &v2).await;
    let (welfare, nursery) = (w.seq(WELFARE).await, w.seq(NURSERY).await);

    // Another revision still based on version 1.
    let mut stale = v2.clone();
    stale.plan.key_person = "パートナー".into();
    let body = refused_with(&w.center, &stale.drafts()[0], ErrorCode::StalePlanVersion).await;
    assert!(
        body.message.contains("版 1") && body.message.contains("版 2"),
        "{body:?}"
    );
    assert!(body.message_en.contains("version 1") && body.message_en.contains("version 2"));
    // Sent as a version: refused whole, so no part goes either.
    let out = plans::send_plan(&w.center.node, &stale).await;
    assert!(out.whole.is_err() && out.parts.is_empty(), "{out:?}");
    assert_eq!(
        (w.seq(WELFARE).await, w.seq(NURSERY).await),
        (welfare, nursery),
        "nothing delivered"
    );
    // Nor kept as a version by its author.
    let held = plans::versions(w.center.node.records(), v1.plan_id)
        .await
        .unwrap();
    assert_eq!(held.last().map(|v| v.version), Some(2));
    assert!(matches!(&held[1].content, Held::Whole(p) if p.key_person == "実母"));
    w.stop().await;
}

pub async fn an_action_for_an_unknown_agency_or_a_review_before_the_plans_date_is_refused(db: Db) {
    let w = World::start(&db).await;
    let case = w.center.node.open_case().await.unwrap();
    w.register(&case).await;
    let mut unknown = version_one(&case, today());
    unknown
        .plan
        .actions
        .push(act("nowhere-clinic", "産後ケア", "月1回", today()));
    let body = refused_with(&w.center, &unknown.drafts()[0], ErrorCode::UnknownRecipient).await;
    assert!(body.message.contains("nowhere-clinic"), "{body:?}");

    let mut early = version_one(&case, today());
    early.plan.review_on = today().plus_days(-1);
    let body = refused_with(&w.center, &early.drafts()[0], ErrorCode::InvalidAction).await;
    assert!(body.message.contains("見直し日"), "{body:?}");
    assert_eq!(w.seq(WELFARE).await, Seq(0), "nothing delivered");
    assert_eq!(w.seq(NURSERY).await, Seq(0), "nothing delivered");
    // Nothing recorded either: version 1 of the same plan is still to come.
    let ok = PlanSend {
        plan: plan(today()),
        ..early
    };
    shared(&w.center, &ok).await;
    w.stop().await;
}

pub async fn a_plan_from_an_agency_not_involved_in_the_case_is_refused(db: Db) {
    let w = World::start(&db).await;
    let case = w.center.node.open_case().await.unwrap();
    w.register(&case).await;
    // The clinic has had nothing to do with this case.
    let mut from_clinic = version_one(&case, today());
    from_clinic.basis = LegalBasis::VitalInterest;
    let body = refused_with(&w.clinic, &from_clinic.drafts()[0], ErrorCode::NotPermitted).await;
    assert!(body.message.contains(case.as_str()), "{body:?}");
    let out = plans::send_plan(&w.clinic.node, &from_clinic).await;
    assert!(out.whole.is_err() && out.parts.is_empty());
    assert_eq!(w.seq(WELFARE).await, Seq(0), "nothing delivered");
    assert_eq!(w.seq(NURSERY).await, Seq(0), "nothing delivered");
    assert!(
        plans::held_versions(w.clinic.node.records())
            .await
            .unwrap()
            .is_empty()
    );
    w.stop().await;
}

/// The next notice matching `pred` at `node`.
async fn notice(node: &mut TestNode, pred: impl Fn(&Notice) -> bool) -> Notice {
    let event = node
        .wait_for(|e| matches!(e, NodeEvent::Notice { notice, .. } if pred(notice)))
        .await;
    let NodeEvent::Notice { notice, .. } = event else {
        unreachable!()
    };
    notice
}

/// Move the hub's clock to a minute past the start of `day` (JST).
fn move_to(clock: &ManualClock, day: Day) {
    let by = day.start().datetime() - clock.now_for_test() + time::Duration::minutes(1);
    clock.advance(by);
}

pub async fn review_reminders_reach_the_lead_before_and_everyone_concerned_after_a_hub_restart(
    db: Db,
) {
    let clock = Arc::new(ManualClock::new());
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let hub = TestHub::start_with_clock(&db, dir, None, clock.clone()).await;
    let mut w = World::on(hub).await;
    let case = w.center.node.open_case().await.unwrap();
    w.register(&case).await;
    let made_on = Day::of(tsunagu::protocol::Timestamp::from_datetime(
        clock.now_for_test(),
    ));
    let v1 = version_one(&case, made_on);
    let review_on = v1.plan.review_on;
    shared(&w.center, &v1).await;

    // A week before the review: the lead (and every agency with a role).
    move_to(&clock, review_on.plus_days(-7));
    assert_eq!(w.hub.hub.tick().await.unwrap().reminders, 1);
    let is_due = |n: &Notice| matches!(n, Notice::PlanReviewDue { .. });
    let due = notice(&mut w.center, is_due).await;
    let Notice::PlanReviewDue {
        plan_id,
        version,
        review_on: on,
        ..
    } = due
    else {
        unreachable!()
    };
    assert_eq!((plan_id, version, on), (v1.plan_id, 1, review_on));
    notice(&mut w.nursery, is_due).await;

    // The hub stops and starts again on the same database.
    let mut w = w.restart(&db, clock.clone()).await;

    // The day after the review, with no new version: overdue, to the lead
    // (the center) and the 調整機関 of a registered case.
    move_to(&clock, review_on.plus_days(1));
    let report = w.hub.hub.tick().await.unwrap();
    assert_eq!(
        report.reminders, 2,
        "the day-before reminder and the overdue one"
    );
    let is_overdue = |n: &Notice| matches!(n, Notice::PlanReviewOverdue { .. });
    for node in [&mut w.center, &mut w.yotaikyo] {
        let Notice::PlanReviewOverdue {
            plan_id, case_id, ..
        } = notice(node, is_overdue).await
        else {
            unreachable!()
        };
        assert_eq!((plan_id, &case_id), (v1.plan_id, &case));
    }
    // A tick later sends nothing twice.
    assert_eq!(w.hub.hub.tick().await.unwrap().reminders, 0);
    w.stop().await;
}

async fn staff(args: &[&str]) -> (bool, String, String) {
    staff_as(&hokenshi(), args).await
}

async fn staff_json(args: &[&str]) -> Value {
    staff_json_as(&hokenshi(), args).await
}

pub async fn staff_write_a_plan_from_the_example_file_and_list_their_actions_as_json(db: Db) {
    let mut w = World::start(&db).await;
    let center = agency_toml(w.data.path(), &w.hub.url, CENTER);
    let nursery = agency_toml(w.data.path(), &w.hub.url, NURSERY);
    let case = w.center.node.open_case().await.unwrap();
    w.register(&case).await;
    let share = [
        "--whole",
        "child-welfare",
        "--part",
        "ひかり保育園",
        "--part-category",
        "childcare",
        "--basis",
        "yotaikyo-sharing",
        "--justification",
        "要対協登録ケースの支援方針を構成機関で共有するため",
    ];
    let mut new = vec![
        "plan",
        "new",
        "--config",
        &center,
        "--case",
        case.as_str(),
        "--file",
        "examples/plan.toml",
    ];
    new.extend(share);
    let v1 = staff_json(&new).await;
    assert_eq!(v1["version"], 1, "{v1}");
    assert_eq!(v1["whole"]["status"], "stored", "{v1}");
    assert_eq!(v1["whole"]["recipients"][0]["id"], WELFARE, "{v1}");
    assert_eq!(
        v1["parts"][0]["recipients"][0]["name"], "ひかり保育園",
        "{v1}"
    );
    let plan_id = v1["plan_id"].as_str().unwrap().to_owned();
    let part: tsunagu::protocol::EnvelopeId = v1["parts"][0]["envelope_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    w.nursery.wait_stored(part).await;

    // The nursery's own action, with its due date and the lead by name.
    let actions = staff_json(&["plan", "actions", "--config", &nursery]).await;
    let actions = actions.as_array().unwrap();
    assert_eq!(actions.len(), 1, "{actions:?}");
    assert!(
        actions[0]["what"]
            .as_str()
            .unwrap()
            .contains("上の子の登園見守り")
    );
    assert_eq!(actions[0]["lead"]["name"], "みなと市こども家庭センター");
    assert_eq!(actions[0]["plan_id"], plan_id.as_str());
    let review = today().plus_months(3).to_string();
    assert_eq!(actions[0]["due"], review.as_str(), "{actions:?}");
    let shown = staff_json(&["plan", "show", "--config", &nursery, "--plan", &plan_id]).await;
    assert_eq!(
        (&shown["held"], &shown["plan"]),
        (&Value::from("part"), &Value::Null)
    );

    // Revised in one step, then what changed.
    let later = today().plus_months(4).to_string();
    let mut revise = vec![
        "plan",
        "revise",
        "--config",
        &center,
        "--plan",
        &plan_id,
        "--review-on",
        &later,
        "--add-goal",
        "産後の休養がとれる",
    ];
    revise.extend(share);
    let v2 = staff_json(&revise).await;
    assert_eq!(
        (&v2["version"], &v2["based_on"]),
        (&Value::from(2), &Value::from(1))
    );
    let d = staff_json(&[
        "plan", "diff", "--config", &center, "--plan", &plan_id, "--from", "1", "--to", "2",
    ])
    .await;
    assert_eq!(d["changes"]["goals_added"][0], "産後の休養がとれる", "{d}");
    assert_eq!(d["changes"]["review_on"]["after"], later.as_str(), "{d}");
    assert_eq!(d["changes"]["wishes"], Value::Null, "{d}");
    let ours = staff_json(&["plan", "actions", "--config", &center]).await;
    assert!(
        ours[0]["what"].as_str().unwrap().contains("家庭訪問"),
        "{ours}"
    );
    assert_eq!(ours[0]["version"], 2, "{ours}");

    // For people: Japanese first, agencies by name.
    let (ok, out, _) = staff(&[
        "plan", "diff", "--config", &center, "--plan", &plan_id, "--from", "1", "--to", "2",
    ])
    .await;
    assert!(
        ok && out.contains("目標（追加）: 産後の休養がとれる"),
        "{out}"
    );
    let (ok, out, _) = staff(&["plan", "actions", "--config", &nursery]).await;
    assert!(
        ok && out.contains("期限") && out.contains("みなと市こども家庭センター"),
        "{out}"
    );
    let (ok, out, _) = staff(&["plan", "show", "--config", &nursery, "--plan", &plan_id]).await;
    assert!(
        ok && out.contains("担当する支援:") && !out.contains("本人の意向"),
        "{out}"
    );
    // A review date before the plan's date: refused before anything leaves.
    let sent_before = w.seq(WELFARE).await;
    let mut early = new.clone();
    early.extend(["--made-on", "2026-12-01", "--review-on", "2026-11-30"]);
    let (ok, out, err) = staff(&early).await;
    assert!(
        !ok && err.contains("見直し日は作成日より後に"),
        "{out}{err}"
    );
    assert_eq!(w.seq(WELFARE).await, sent_before, "nothing delivered");
    w.stop().await;
}
