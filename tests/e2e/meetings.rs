//! Case meetings: invitations checked like any sharing, answers seen live
//! by the organiser, moves and cancellations to every invitee, minutes in
//! full only to those at the table, and reminders fired by the hub clock.

use std::sync::Arc;

use tsunagu::agency::NodeEvent;
use tsunagu::agency::meetings::{
    HeldMinutes, MeetingView, Sharing, answer_draft, cancel_draft, invitation_draft, meeting,
    minutes_drafts, reschedule_draft,
};
use tsunagu::hub::clock::ManualClock;
use tsunagu::protocol::meeting::{
    Answer, Attendance, Invitation, MeetingKind, MeetingSchedule, Minutes, Role,
};
use tsunagu::protocol::{
    CaseId, ConsentId, ErrorCode, InfoCategory, LegalBasis, MeetingId, Notice, Timestamp,
};

use crate::helpers::*;

both_backends!(
    an_invitation_reaches_the_invitees_its_basis_covers_and_names_the_one_it_does_not,
    the_organiser_sees_each_answer_and_only_invitees_may_answer,
    moving_and_cancelling_reach_every_invitee_and_the_past_is_refused,
    only_the_coordinating_body_schedules_a_practitioners_meeting,
    full_minutes_go_only_to_those_who_attended_and_an_excerpt_to_the_absent,
    a_meeting_about_a_case_the_organiser_is_not_involved_in_is_refused,
    reminders_reach_every_invitee_before_the_meeting_across_a_hub_restart,
    staff_schedule_answer_and_minute_a_meeting_from_the_command_line,
    the_organisers_running_node_shows_each_answer_as_it_arrives,
    a_practitioners_meeting_from_the_ledger_takes_the_due_cases_and_invites_the_members_with_a_role,
);

struct World {
    hub: TestHub,
    clock: Arc<ManualClock>,
    clinic: TestNode,
    center: TestNode,
    welfare: TestNode,
    nursery: TestNode,
    yotaikyo: TestNode,
    data: tempfile::TempDir,
}

impl World {
    async fn start(db: &Db) -> World {
        let clock = Arc::new(ManualClock::new());
        let hub = TestHub::start_with_clock(
            db,
            Arc::new(tempfile::tempdir().unwrap()),
            None,
            clock.clone(),
        )
        .await;
        let data = tempfile::tempdir().unwrap();
        World {
            clinic: TestNode::connect(&hub.url, CLINIC, data.path()).await,
            center: TestNode::connect(&hub.url, CENTER, data.path()).await,
            welfare: TestNode::connect(&hub.url, WELFARE, data.path()).await,
            nursery: TestNode::connect(&hub.url, NURSERY, data.path()).await,
            yotaikyo: TestNode::connect(&hub.url, YOTAIKYO, data.path()).await,
            hub,
            clock,
            data,
        }
    }

    async fn stop(self) {
        for n in [
            self.clinic,
            self.center,
            self.welfare,
            self.nursery,
            self.yotaikyo,
        ] {
            n.stop().await;
        }
        self.hub.stop().await;
    }

    /// The clinic opens the case, records her consent (center and child
    /// welfare, referral and case meetings) and refers her to both: the
    /// center is now involved and may convene a meeting.
    async fn referred_case(&mut self) -> (CaseId, ConsentId) {
        let case = self.clinic.node.open_case().await.unwrap();
        let scope = consent_scope(&case, &[CENTER, WELFARE]);
        let consent = scope.consent_id;
        sent(&self.clinic, &consent_record_draft(scope)).await;
        let referral = sent(
            &self.clinic,
            &consent_referral_draft(&case, consent, &[CENTER, WELFARE]),
        )
        .await;
        self.center.wait_stored(referral).await;
        self.welfare.wait_stored(referral).await;
        (case, consent)
    }

    async fn register(&self, case: &CaseId) {
        sent(&self.yotaikyo, &registration_draft(case)).await;
    }

    /// The center invites the clinic and child welfare under her consent,
    /// `days` from now; returns once both hold the invitation.
    async fn center_invites(&mut self, case: &CaseId, consent: ConsentId, days: i64) -> MeetingId {
        let m = schedule(MeetingKind::IndividualCase, self.in_days(days));
        let id = sent(
            &self.center,
            &invitation_draft(
                case,
                m.clone(),
                vec![agency(CLINIC), agency(WELFARE)],
                invitation(),
                &under_consent(consent),
            ),
        )
        .await;
        self.clinic.wait_stored(id).await;
        self.welfare.wait_stored(id).await;
        m.meeting_id
    }

    fn in_days(&self, days: i64) -> Timestamp {
        Timestamp::from_datetime(self.clock.now_for_test() + time::Duration::days(days))
    }
}

/// What `node` knows of the meeting (it must hold the invitation).
async fn seen_by(node: &TestNode, id: MeetingId) -> MeetingView {
    meeting(node.node.records(), node.node.id(), id)
        .await
        .unwrap()
        .unwrap()
}

fn under_consent(consent: ConsentId) -> Sharing {
    Sharing {
        basis: LegalBasis::Consent {
            consent_id: consent,
        },
        justification: None,
        author: hokenshi(),
    }
}

fn schedule(kind: MeetingKind, starts_at: Timestamp) -> MeetingSchedule {
    MeetingSchedule {
        meeting_id: MeetingId::new(),
        kind,
        more_cases: vec![],
        starts_at,
        duration_minutes: 60,
    }
}

fn invitation() -> Invitation {
    Invitation {
        place: "みなと市役所 3階 会議室B".into(),
        online: None,
        agenda: "妊娠後期の支援体制と出産後の役割分担".into(),
        expectations: vec![],
        note: String::new(),
        categories: vec![InfoCategory::Basic, InfoCategory::PregnancyMedical],
    }
}

fn attending(name: &str) -> Answer {
    Answer {
        attendee_name: name.into(),
        attendee_role: "担当".into(),
        note: String::new(),
    }
}

fn minutes() -> Minutes {
    Minutes {
        held_at: None,
        place: "みなと市役所 3階 会議室B".into(),
        attendees: vec![],
        case_summary: "初産、若年、支援者が少ない。".into(),
        information_shared: "妊婦健診は2回未受診。パートナーとの関係に不安。".into(),
        risk: Some(tsunagu::protocol::meeting::Level::Medium),
        urgency: Some(tsunagu::protocol::meeting::Level::Medium),
        assessment: "出産前後の支援が途切れる危険がある。".into(),
        decisions: vec!["センターが主担当として週1回訪問する".into()],
        lead: Some(agency(CENTER)),
        lead_contact: "保健師 田中 内線 301".into(),
        key_person: "実母".into(),
        roles: vec![
            Role {
                agency: agency(CLINIC),
                task: "妊婦健診の受診状況をセンターへ連絡".into(),
            },
            Role {
                agency: agency(WELFARE),
                task: "出産後の養育状況を確認".into(),
            },
        ],
        next_support: "出産まで週1回の家庭訪問".into(),
        next_review: Some("2027-03-01".parse().unwrap()),
        categories: vec![
            InfoCategory::Basic,
            InfoCategory::PregnancyMedical,
            InfoCategory::Family,
        ],
    }
}

async fn an_invitation_reaches_the_invitees_its_basis_covers_and_names_the_one_it_does_not(db: Db) {
    let mut w = World::start(&db).await;
    let (case, consent) = w.referred_case().await;
    let m = schedule(MeetingKind::IndividualCase, w.in_days(3));
    let with_nursery = invitation_draft(
        &case,
        m.clone(),
        vec![agency(CLINIC), agency(WELFARE), agency(NURSERY)],
        invitation(),
        &under_consent(consent),
    );
    let before = w.hub.store.last_seq(&agency(CLINIC)).await.unwrap();
    let refusal = refused_with(&w.center, &with_nursery, ErrorCode::RecipientNotCovered).await;
    assert!(
        refusal.message.contains("ひかり保育園"),
        "{}",
        refusal.message
    );
    assert!(refusal.message.contains(NURSERY), "{}", refusal.message);
    assert_eq!(
        w.hub.store.last_seq(&agency(CLINIC)).await.unwrap(),
        before,
        "nothing delivered to anyone"
    );

    let draft = invitation_draft(
        &case,
        m.clone(),
        vec![agency(CLINIC), agency(WELFARE)],
        invitation(),
        &under_consent(consent),
    );
    let id = sent(&w.center, &draft).await;
    w.clinic.wait_stored(id).await;
    w.welfare.wait_stored(id).await;
    let seen = seen_by(&w.clinic, m.meeting_id).await;
    assert_eq!(seen.organiser, agency(CENTER));
    assert_eq!(seen.kind, MeetingKind::IndividualCase);
    assert_eq!(seen.starts_at, m.starts_at);
    assert_eq!(seen.invitation.agenda, invitation().agenda);
    assert_eq!(seen.invitee_ids(), [agency(CLINIC), agency(WELFARE)]);
    w.stop().await;
}

async fn the_organiser_sees_each_answer_and_only_invitees_may_answer(db: Db) {
    let mut w = World::start(&db).await;
    let (case, consent) = w.referred_case().await;
    let m = schedule(MeetingKind::IndividualCase, w.in_days(3));
    let invite = invitation_draft(
        &case,
        m.clone(),
        vec![agency(CLINIC), agency(WELFARE)],
        invitation(),
        &under_consent(consent),
    );
    let id = sent(&w.center, &invite).await;
    w.clinic.wait_stored(id).await;
    w.welfare.wait_stored(id).await;
    let at_clinic = seen_by(&w.clinic, m.meeting_id).await;
    let at_welfare = seen_by(&w.welfare, m.meeting_id).await;

    let yes = answer_draft(
        &at_clinic,
        Attendance::Attend,
        attending("佐藤 美咲"),
        &midwife(),
    );
    let a = sent(&w.clinic, &yes).await;
    w.center.wait_stored(a).await;
    let proxy = answer_draft(
        &at_welfare,
        Attendance::Proxy,
        attending("鈴木 健（代理）"),
        &hokenshi(),
    );
    let b = sent(&w.welfare, &proxy).await;
    w.center.wait_stored(b).await;

    let at_center = seen_by(&w.center, m.meeting_id).await;
    let answers: Vec<_> = at_center
        .invitees
        .iter()
        .map(|i| (i.agency.as_str().to_owned(), i.attendance))
        .collect();
    assert_eq!(
        answers,
        [
            (CLINIC.to_owned(), Some(Attendance::Attend)),
            (WELFARE.to_owned(), Some(Attendance::Proxy)),
        ]
    );
    assert_eq!(
        at_center.invitees[1].answer.as_ref().unwrap().attendee_name,
        "鈴木 健（代理）"
    );

    // The nursery was not invited: it cannot answer, even knowing the id.
    let mut forged = answer_draft(&at_clinic, Attendance::Attend, attending("x"), &midwife());
    forged.payload.author.name = "保育士".into();
    let before = w.hub.store.last_seq(&agency(CENTER)).await.unwrap();
    let refusal = refused_with(&w.nursery, &forged, ErrorCode::NotPermitted).await;
    assert!(
        refusal.message.contains("招待されていない"),
        "{}",
        refusal.message
    );
    assert_eq!(w.hub.store.last_seq(&agency(CENTER)).await.unwrap(), before);
    w.stop().await;
}

async fn moving_and_cancelling_reach_every_invitee_and_the_past_is_refused(db: Db) {
    let mut w = World::start(&db).await;
    let (case, consent) = w.referred_case().await;

    let past = schedule(MeetingKind::IndividualCase, w.in_days(-1));
    let draft = invitation_draft(
        &case,
        past,
        vec![agency(CLINIC)],
        invitation(),
        &under_consent(consent),
    );
    let refusal = refused_with(&w.center, &draft, ErrorCode::MeetingTime).await;
    assert!(
        refusal.message.contains("過ぎています"),
        "{}",
        refusal.message
    );

    let m = schedule(MeetingKind::IndividualCase, w.in_days(3));
    let invite = invitation_draft(
        &case,
        m.clone(),
        vec![agency(CLINIC), agency(WELFARE)],
        invitation(),
        &under_consent(consent),
    );
    let id = sent(&w.center, &invite).await;
    w.clinic.wait_stored(id).await;
    w.welfare.wait_stored(id).await;
    let view = seen_by(&w.center, m.meeting_id).await;

    let into_past = reschedule_draft(&view, w.in_days(-2), 60, invitation(), &hokenshi());
    refused_with(&w.center, &into_past, ErrorCode::MeetingTime).await;

    let later = w.in_days(5);
    let mut moved_invitation = invitation();
    moved_invitation.note = "会場の都合により変更".into();
    moved_invitation.place = "こども家庭センター 相談室1".into();
    let moved = sent(
        &w.center,
        &reschedule_draft(&view, later, 90, moved_invitation, &hokenshi()),
    )
    .await;
    for node in [&mut w.clinic, &mut w.welfare] {
        node.wait_stored(moved).await;
        let seen = seen_by(node, m.meeting_id).await;
        assert_eq!(seen.starts_at, later);
        assert_eq!(seen.duration_minutes, 90);
        assert_eq!(seen.invitation.place, "こども家庭センター 相談室1");
        assert_eq!(seen.moved.as_deref(), Some("会場の都合により変更"));
    }

    // Only the organiser moves it, and only to every invitee at once.
    let mut to_one = reschedule_draft(&view, w.in_days(6), 60, invitation(), &hokenshi());
    to_one.recipients = vec![agency(CLINIC)];
    refused_with(&w.center, &to_one, ErrorCode::InvalidRecipients).await;

    let cancelled = sent(
        &w.center,
        &cancel_draft(&view, "本人の入院のため中止".into(), &hokenshi()),
    )
    .await;
    for node in [&mut w.clinic, &mut w.welfare] {
        node.wait_stored(cancelled).await;
        let seen = seen_by(node, m.meeting_id).await;
        assert_eq!(seen.cancelled.as_deref(), Some("本人の入院のため中止"));
    }
    let at_clinic = seen_by(&w.clinic, m.meeting_id).await;
    let late = answer_draft(
        &at_clinic,
        Attendance::Attend,
        attending("佐藤"),
        &midwife(),
    );
    let refusal = refused_with(&w.clinic, &late, ErrorCode::MeetingCancelled).await;
    assert!(refusal.message.contains("中止"), "{}", refusal.message);
    w.stop().await;
}

async fn only_the_coordinating_body_schedules_a_practitioners_meeting(db: Db) {
    let mut w = World::start(&db).await;
    let (case, _) = w.referred_case().await;
    w.register(&case).await;
    let council = Sharing {
        basis: LegalBasis::YotaikyoSharing,
        justification: Some("要対協登録ケースの進行管理のため".into()),
        author: hokenshi(),
    };
    let m = schedule(MeetingKind::Practitioners, w.in_days(7));
    let members = vec![agency(CENTER), agency(WELFARE), agency(NURSERY)];
    let mut by_center = invitation_draft(
        &case,
        m.clone(),
        vec![agency(WELFARE), agency(NURSERY)],
        invitation(),
        &council,
    );
    by_center.payload.author = hokenshi();
    let refusal = refused_with(&w.center, &by_center, ErrorCode::NotPermitted).await;
    assert!(refusal.message.contains("調整機関"), "{}", refusal.message);

    let id = sent(
        &w.yotaikyo,
        &invitation_draft(&case, m.clone(), members, invitation(), &council),
    )
    .await;
    w.nursery.wait_stored(id).await;
    let seen = seen_by(&w.nursery, m.meeting_id).await;
    assert_eq!(seen.kind, MeetingKind::Practitioners);
    assert_eq!(seen.organiser, agency(YOTAIKYO));
    w.stop().await;
}

async fn full_minutes_go_only_to_those_who_attended_and_an_excerpt_to_the_absent(db: Db) {
    let mut w = World::start(&db).await;
    let (case, consent) = w.referred_case().await;
    let meeting_id = w.center_invites(&case, consent, 1).await;
    let at_clinic = seen_by(&w.clinic, meeting_id).await;
    let at_welfare = seen_by(&w.welfare, meeting_id).await;
    let a = sent(
        &w.clinic,
        &answer_draft(
            &at_clinic,
            Attendance::Attend,
            attending("佐藤 美咲"),
            &midwife(),
        ),
    )
    .await;
    let b = sent(
        &w.welfare,
        &answer_draft(
            &at_welfare,
            Attendance::Decline,
            Answer::default(),
            &hokenshi(),
        ),
    )
    .await;
    w.center.wait_stored(a).await;
    w.center.wait_stored(b).await;
    let view = seen_by(&w.center, meeting_id).await;
    let sharing = under_consent(consent);

    // Before it has started, there are no minutes.
    let early = minutes_drafts(&view, &minutes(), vec![agency(CLINIC)], &[], &[], &sharing);
    refused_with(&w.center, &early[0], ErrorCode::MeetingTime).await;
    w.clock
        .advance(time::Duration::days(1) + time::Duration::hours(2));

    // Child welfare declined: the full minutes are refused, naming it.
    let wrong = minutes_drafts(
        &view,
        &minutes(),
        vec![agency(CLINIC), agency(WELFARE)],
        &[],
        &[],
        &sharing,
    );
    let before = w.hub.store.last_seq(&agency(CLINIC)).await.unwrap();
    let refusal = refused_with(&w.center, &wrong[0], ErrorCode::NotAttended).await;
    assert!(refusal.message.contains(WELFARE), "{}", refusal.message);
    assert!(refusal.message.contains("抜粋"), "{}", refusal.message);
    assert_eq!(w.hub.store.last_seq(&agency(CLINIC)).await.unwrap(), before);

    let drafts = minutes_drafts(
        &view,
        &minutes(),
        view.attending(),
        &[agency(WELFARE)],
        &[InfoCategory::Basic],
        &sharing,
    );
    assert_eq!(drafts.len(), 2);
    let full = sent(&w.center, &drafts[0]).await;
    let excerpt = sent(&w.center, &drafts[1]).await;
    w.clinic.wait_stored(full).await;
    w.welfare.wait_stored(excerpt).await;

    let clinic_view = seen_by(&w.clinic, meeting_id).await;
    let Some(HeldMinutes::Full(held)) = clinic_view.minutes else {
        panic!("the clinic attended and holds the full minutes");
    };
    assert_eq!(held.assessment, minutes().assessment);
    let welfare_view = seen_by(&w.welfare, meeting_id).await;
    let Some(HeldMinutes::Excerpt(part)) = welfare_view.minutes else {
        panic!("child welfare was absent and holds the excerpt");
    };
    assert_eq!(part.roles.len(), 1);
    assert_eq!(part.roles[0].agency, agency(WELFARE));
    assert_eq!(part.lead, Some(agency(CENTER)));
    assert_eq!(part.next_review, minutes().next_review);
    let inbox = w.welfare.node.records().inbox().await.unwrap();
    let stored = &inbox
        .iter()
        .find(|r| r.envelope_id == excerpt.to_string())
        .unwrap()
        .payload;
    assert!(
        !stored.contains("パートナー"),
        "no discussion in the excerpt"
    );
    assert!(!stored.contains("危険"), "no assessment in the excerpt");
    w.stop().await;
}

async fn a_meeting_about_a_case_the_organiser_is_not_involved_in_is_refused(db: Db) {
    let w = World::start(&db).await;
    // The clinic opened a case and shared nothing: the center has no part in it.
    let case = w.clinic.node.open_case().await.unwrap();
    let m = schedule(MeetingKind::IndividualCase, w.in_days(2));
    let draft = invitation_draft(
        &case,
        m,
        vec![agency(WELFARE)],
        invitation(),
        &Sharing {
            basis: LegalBasis::ProvisionToMunicipality,
            justification: Some("x".into()),
            author: hokenshi(),
        },
    );
    let refusal = refused_with(&w.center, &draft, ErrorCode::NotPermitted).await;
    assert!(
        refusal.message.contains("関わっていません"),
        "{}",
        refusal.message
    );
    w.stop().await;
}

async fn reminders_reach_every_invitee_before_the_meeting_across_a_hub_restart(db: Db) {
    let mut w = World::start(&db).await;
    let (case, consent) = w.referred_case().await;
    let m = schedule(MeetingKind::IndividualCase, w.in_days(2));
    let id = sent(
        &w.center,
        &invitation_draft(
            &case,
            m.clone(),
            vec![agency(CLINIC), agency(WELFARE)],
            invitation(),
            &under_consent(consent),
        ),
    )
    .await;
    w.clinic.wait_stored(id).await;
    assert_eq!(
        w.hub.hub.tick().await.unwrap().reminders,
        0,
        "nothing due yet"
    );

    // A day before: every invitee and the organiser.
    w.clock
        .advance(time::Duration::days(1) + time::Duration::minutes(1));
    assert_eq!(w.hub.hub.tick().await.unwrap().reminders, 1);
    let is_reminder = |e: &NodeEvent| matches!(e, NodeEvent::Notice { notice: Notice::MeetingReminder { meeting_id, .. }, .. } if *meeting_id == m.meeting_id);
    for node in [&mut w.clinic, &mut w.welfare, &mut w.center] {
        node.wait_for(is_reminder).await;
    }
    assert_eq!(w.hub.hub.tick().await.unwrap().reminders, 0, "sent once");

    // The hub restarts; the hour-before reminder is still due.
    let (addr, dir) = (w.hub.addr, w.hub.dir.clone());
    let World {
        hub,
        clock,
        clinic,
        center,
        welfare,
        nursery,
        yotaikyo,
        data,
    } = w;
    hub.stop().await;
    let hub = TestHub::start_with_clock(&db, dir, Some(addr), clock.clone()).await;
    let mut w = World {
        hub,
        clock,
        clinic,
        center,
        welfare,
        nursery,
        yotaikyo,
        data,
    };
    w.clock.advance(time::Duration::hours(23));
    assert_eq!(w.hub.hub.tick().await.unwrap().reminders, 1);
    for node in [&mut w.clinic, &mut w.welfare] {
        node.wait_for(is_reminder).await;
    }
    w.stop().await;
}

async fn staff(args: &[&str]) -> (bool, String, String) {
    staff_as(&hokenshi(), args).await
}

async fn json(args: &[&str]) -> serde_json::Value {
    staff_json_as(&hokenshi(), args).await
}

async fn staff_schedule_answer_and_minute_a_meeting_from_the_command_line(db: Db) {
    let mut w = World::start(&db).await;
    let (case, consent) = w.referred_case().await;
    let dir = w.data.path().to_owned();
    let center = agency_toml(&dir, &w.hub.url, CENTER);
    let clinic = agency_toml(&dir, &w.hub.url, CLINIC);
    let at = tsunagu::protocol::day::show_local(w.in_days(2));
    let consent = consent.to_string();

    // The nursery is outside her consent: refused, named, nothing sent.
    let (ok, _, err) = staff(&[
        "meeting",
        "schedule",
        "--config",
        &center,
        "--kind",
        "individual-case",
        "--case",
        case.as_str(),
        "--at",
        &at,
        "--agenda",
        "出産後の支援体制",
        "--invite",
        &format!("{CLINIC},{NURSERY}"),
        "--category",
        "basic",
        "--basis",
        "consent",
        "--consent-id",
        &consent,
    ])
    .await;
    assert!(!ok);
    assert!(err.contains("ひかり保育園"), "{err}");

    let scheduled = json(&[
        "meeting",
        "schedule",
        "--config",
        &center,
        "--kind",
        "individual-case",
        "--case",
        case.as_str(),
        "--at",
        &at,
        "--minutes",
        "90",
        "--place",
        "みなと市役所 会議室B",
        "--agenda",
        "出産後の支援体制",
        "--invite",
        &format!("{CLINIC},{WELFARE}"),
        "--expect",
        &format!("{CLINIC}=健診の受診状況を報告"),
        "--category",
        "basic",
        "--basis",
        "consent",
        "--consent-id",
        &consent,
    ])
    .await;
    let meeting_id = scheduled["meeting_id"].as_str().unwrap().to_owned();
    let invitation: tsunagu::protocol::EnvelopeId = scheduled["sent"][0]["envelope_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    w.clinic.wait_stored(invitation).await;

    let answered = json(&[
        "meeting",
        "answer",
        "--config",
        &clinic,
        &meeting_id,
        "--attendance",
        "attend",
        "--attendee-name",
        "佐藤 美咲",
        "--attendee-role",
        "助産師",
    ])
    .await;
    let answer: tsunagu::protocol::EnvelopeId = answered["sent"][0]["envelope_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    w.center.wait_stored(answer).await;

    let shown = json(&["meeting", "show", "--config", &center, &meeting_id]).await;
    assert_eq!(shown["kind"]["label"], "個別ケース検討会議");
    assert_eq!(shown["starts_at_jst"], at.as_str());
    assert_eq!(shown["duration_minutes"], 90);
    assert_eq!(
        shown["invitees"][0]["agency"]["name"],
        "さくらレディースクリニック"
    );
    assert_eq!(shown["invitees"][0]["attendance"]["label"], "出席");
    assert!(shown["invitees"][1]["attendance"].is_null(), "{shown}");
    let (ok, text, _) = staff(&["meeting", "show", "--config", &center, &meeting_id]).await;
    assert!(ok);
    assert!(
        text.contains("出欠") && text.contains("佐藤 美咲（助産師）"),
        "{text}"
    );
    assert!(
        text.contains("さくらレディースクリニック（sakura-clinic）: 健診の受診状況を報告"),
        "agencies by name: {text}"
    );

    w.clock.advance(time::Duration::days(3));
    let minuted = json(&[
        "meeting",
        "minutes",
        "--config",
        &center,
        &meeting_id,
        "--file",
        "examples/minutes.toml",
        "--excerpt-to",
        WELFARE,
        "--basis",
        "consent",
        "--consent-id",
        &consent,
    ])
    .await;
    let sent = minuted["sent"].as_array().unwrap();
    assert_eq!(sent.len(), 2, "{minuted}");
    assert_eq!(sent[0]["to"], serde_json::json!([CLINIC]));
    assert_eq!(sent[1]["to"], serde_json::json!([WELFARE]));
    let full: tsunagu::protocol::EnvelopeId =
        sent[0]["envelope_id"].as_str().unwrap().parse().unwrap();
    w.clinic.wait_stored(full).await;
    let listed = json(&["meeting", "list", "--config", &clinic]).await;
    assert_eq!(listed[0]["status"]["name"], "minuted");
    assert_eq!(listed[0]["minutes"]["scope"], "full");
    assert_eq!(listed[0]["minutes"]["key_person"], "本人の実母（隣市在住）");
    w.stop().await;
}

async fn the_organisers_running_node_shows_each_answer_as_it_arrives(db: Db) {
    use tokio::io::{AsyncBufReadExt, BufReader};

    let mut w = World::start(&db).await;
    let (case, consent) = w.referred_case().await;
    let m = schedule(MeetingKind::IndividualCase, w.in_days(2));
    let id = sent(
        &w.center,
        &invitation_draft(
            &case,
            m.clone(),
            vec![agency(CLINIC)],
            invitation(),
            &under_consent(consent),
        ),
    )
    .await;
    w.clinic.wait_stored(id).await;

    // The center's staff run their node from the terminal.
    let World {
        hub,
        center,
        clinic,
        welfare,
        nursery,
        yotaikyo,
        data,
        ..
    } = w;
    center.stop().await;
    let config = agency_toml(data.path(), &hub.url, CENTER);
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_tsunagu"))
        .args(["agency", "run", "--config", &config])
        .env_remove("TSUNAGU_LANG")
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let line_with = async |lines: &mut tokio::io::Lines<_>, text: &str| -> String {
        tokio::time::timeout(PATIENCE, async {
            while let Some(line) = lines.next_line().await.unwrap() {
                if line.contains(text) {
                    return line;
                }
            }
            panic!("agency run ended before printing {text:?}");
        })
        .await
        .unwrap_or_else(|_| panic!("agency run never printed {text:?}"))
    };
    line_with(&mut lines, "ハブに接続しました").await;

    let view = seen_by(&clinic, m.meeting_id).await;
    sent(
        &clinic,
        &answer_draft(
            &view,
            Attendance::Attend,
            attending("佐藤 美咲"),
            &midwife(),
        ),
    )
    .await;
    let line = line_with(&mut lines, "出欠の回答（出席）").await;
    assert!(line.contains("さくらレディースクリニック"), "{line}");
    assert!(
        !line.contains("佐藤"),
        "no content on the terminal log: {line}"
    );

    child.start_kill().unwrap();
    child.wait().await.unwrap();
    for n in [clinic, welfare, nursery, yotaikyo] {
        n.stop().await;
    }
    hub.stop().await;
}

async fn a_practitioners_meeting_from_the_ledger_takes_the_due_cases_and_invites_the_members_with_a_role(
    db: Db,
) {
    let mut w = World::start(&db).await;
    let (first, _) = w.referred_case().await;
    let (second, _) = w.referred_case().await;
    w.register(&first).await;
    w.register(&second).await;
    let dir = w.data.path().to_owned();
    let council = agency_toml(&dir, &w.hub.url, YOTAIKYO);
    let center = agency_toml(&dir, &w.hub.url, CENTER);
    let at = tsunagu::protocol::day::show_local(w.in_days(1));
    // Registered today: each is due for review three months on.
    let until = tsunagu::protocol::day::Day::of(w.in_days(100)).to_string();
    let args = |config: &str| {
        vec![
            "meeting".to_owned(),
            "schedule".into(),
            "--config".into(),
            config.into(),
            "--kind".into(),
            "practitioners".into(),
            "--from-ledger".into(),
            "--until".into(),
            until.clone(),
            "--at".into(),
            at.clone(),
            "--category".into(),
            "basic".into(),
            "--basis".into(),
            "yotaikyo-sharing".into(),
            "--justification".into(),
            "要対協登録ケースの進行管理のため".into(),
        ]
    };
    let center_args = args(&center);
    let (ok, _, err) = staff(&center_args.iter().map(String::as_str).collect::<Vec<_>>()).await;
    assert!(!ok);
    assert!(err.contains("調整機関"), "{err}");

    let council_args = args(&council);
    let scheduled = json(&council_args.iter().map(String::as_str).collect::<Vec<_>>()).await;
    let invitation: tsunagu::protocol::EnvelopeId = scheduled["sent"][0]["envelope_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let invited: Vec<&str> = scheduled["sent"][0]["to"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(invited, [CENTER, WELFARE, NURSERY]);
    w.nursery.wait_stored(invitation).await;
    let meeting_id: MeetingId = scheduled["meeting_id"].as_str().unwrap().parse().unwrap();
    let seen = seen_by(&w.nursery, meeting_id).await;
    assert_eq!(seen.kind, MeetingKind::Practitioners);
    let mut cases = vec![seen.case_id.clone()];
    cases.extend(seen.more_cases.iter().cloned());
    cases.sort();
    let mut expected = vec![first.clone(), second.clone()];
    expected.sort();
    assert_eq!(cases, expected);
    assert!(
        seen.invitation.agenda.contains(first.as_str()),
        "{}",
        seen.invitation.agenda
    );
    assert!(
        seen.invitation.agenda.contains(second.as_str()),
        "{}",
        seen.invitation.agenda
    );
    w.stop().await;
}
