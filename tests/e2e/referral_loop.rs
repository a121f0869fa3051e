//! The closed loop: 受理 → 対応決定 | 辞退 → 経過 → 返信, cancellation before
//! acceptance, and deadlines that escalate when 受理 does not come.

use std::sync::Arc;

use tsunagu::agency::NodeEvent;
use tsunagu::hub::clock::ManualClock;
use tsunagu::protocol::action::Action;
use tsunagu::protocol::case::{CaseClassification, Registration};
use tsunagu::protocol::payload::Body;
use tsunagu::protocol::{EnvelopeId, ErrorCode, Notice, ReferralState, Urgency};

use crate::helpers::*;

both_backends!(
    the_loop_closes_and_the_sender_sees_each_state_as_it_happens,
    invalid_transitions_are_refused_with_the_states_named,
    the_sender_may_cancel_only_before_acceptance,
    a_missed_deadline_escalates_to_the_center_then_the_council_and_survives_a_restart,
);

fn update(
    referral: EnvelopeId,
    to: &str,
    state: ReferralState,
    text: &str,
) -> tsunagu::agency::Draft {
    action_draft(
        None,
        &[to],
        Action::UpdateReferral { referral, state },
        Body::ReferralUpdate(note(text)),
    )
}

async fn state_at_hub(node: &TestNode, referral: EnvelopeId, of: &str) -> ReferralState {
    let status = node.node.referral_status(referral).await.unwrap();
    status
        .states
        .iter()
        .find(|s| s.agency.as_str() == of)
        .unwrap()
        .state
}

async fn the_loop_closes_and_the_sender_sees_each_state_as_it_happens(db: Db) {
    let hub = TestHub::start(&db).await;
    let data = tempfile::tempdir().unwrap();
    let mut clinic = TestNode::connect(&hub.url, CLINIC, data.path()).await;
    let mut center = TestNode::connect(&hub.url, CENTER, data.path()).await;
    let case = clinic.node.open_case().await.unwrap();
    let referral = sent(&clinic, &referral_draft(&case, &[CENTER, WELFARE])).await;
    center.wait_stored(referral).await;
    assert_eq!(
        state_at_hub(&clinic, referral, CENTER).await,
        ReferralState::Sent
    );

    for (state, text) in [
        (ReferralState::Received, "受理: 保健師 高橋"),
        (ReferralState::Accepted, "今週中に訪問します"),
        (ReferralState::InProgress, "初回訪問済み"),
        (ReferralState::InProgress, "2回目の訪問を予定"),
        (ReferralState::Completed, "返信: 支援プランを作成しました"),
    ] {
        let id = sent(&center, &update(referral, CLINIC, state, text)).await;
        clinic.wait_stored(id).await;
        let local = clinic
            .node
            .records()
            .referral_states(referral)
            .await
            .unwrap();
        assert!(
            local.contains(&(CENTER.to_owned(), state.as_str().to_owned())),
            "{local:?}"
        );
        assert_eq!(state_at_hub(&clinic, referral, CENTER).await, state);
    }
    // Welfare has not acknowledged: its state is untouched.
    assert_eq!(
        state_at_hub(&clinic, referral, WELFARE).await,
        ReferralState::Sent
    );
    clinic.stop().await;
    center.stop().await;
    hub.stop().await;
}

async fn invalid_transitions_are_refused_with_the_states_named(db: Db) {
    let hub = TestHub::start(&db).await;
    let data = tempfile::tempdir().unwrap();
    let clinic = TestNode::connect(&hub.url, CLINIC, data.path()).await;
    let mut center = TestNode::connect(&hub.url, CENTER, data.path()).await;
    let nursery = TestNode::connect(&hub.url, NURSERY, data.path()).await;
    let case = clinic.node.open_case().await.unwrap();
    let referral = sent(&clinic, &referral_draft(&case, &[CENTER])).await;
    center.wait_stored(referral).await;

    // Accepting before 受理.
    let body = refused_with(
        &center,
        &update(referral, CLINIC, ReferralState::Accepted, ""),
        ErrorCode::InvalidTransition,
    )
    .await;
    assert!(
        body.message.contains("送付済み") && body.message.contains("対応決定"),
        "{}",
        body.message
    );
    // Only the recipient acknowledges; only the sender cancels.
    refused_with(
        &center,
        &update(referral, CLINIC, ReferralState::Cancelled, ""),
        ErrorCode::InvalidTransition,
    )
    .await;
    // An agency not involved cannot touch it.
    refused_with(
        &nursery,
        &update(referral, CLINIC, ReferralState::Received, ""),
        ErrorCode::UnknownReferral,
    )
    .await;
    // Declined is final.
    sent(
        &center,
        &update(referral, CLINIC, ReferralState::Received, "受理"),
    )
    .await;
    sent(
        &center,
        &update(
            referral,
            CLINIC,
            ReferralState::Declined,
            "転居のため他市へ",
        ),
    )
    .await;
    refused_with(
        &center,
        &update(referral, CLINIC, ReferralState::Completed, ""),
        ErrorCode::InvalidTransition,
    )
    .await;
    assert_eq!(
        state_at_hub(&clinic, referral, CENTER).await,
        ReferralState::Declined
    );
    for n in [clinic, center, nursery] {
        n.stop().await;
    }
    hub.stop().await;
}

async fn the_sender_may_cancel_only_before_acceptance(db: Db) {
    let hub = TestHub::start(&db).await;
    let data = tempfile::tempdir().unwrap();
    let clinic = TestNode::connect(&hub.url, CLINIC, data.path()).await;
    let mut center = TestNode::connect(&hub.url, CENTER, data.path()).await;
    let mut welfare = TestNode::connect(&hub.url, WELFARE, data.path()).await;
    let case = clinic.node.open_case().await.unwrap();
    let referral = sent(&clinic, &referral_draft(&case, &[CENTER, WELFARE])).await;
    center.wait_stored(referral).await;
    welfare.wait_stored(referral).await;
    sent(
        &center,
        &update(referral, CLINIC, ReferralState::Received, ""),
    )
    .await;
    sent(
        &center,
        &update(referral, CLINIC, ReferralState::Accepted, ""),
    )
    .await;

    let cancel_both = action_draft(
        None,
        &[CENTER, WELFARE],
        Action::UpdateReferral {
            referral,
            state: ReferralState::Cancelled,
        },
        Body::ReferralUpdate(note("誤送信のため取消")),
    );
    let body = refused_with(&clinic, &cancel_both, ErrorCode::InvalidTransition).await;
    assert!(body.message.contains(CENTER));
    let cancel = sent(
        &clinic,
        &update(
            referral,
            WELFARE,
            ReferralState::Cancelled,
            "誤送信のため取消",
        ),
    )
    .await;
    welfare.wait_stored(cancel).await;
    assert_eq!(
        state_at_hub(&clinic, referral, WELFARE).await,
        ReferralState::Cancelled
    );
    assert_eq!(
        state_at_hub(&clinic, referral, CENTER).await,
        ReferralState::Accepted
    );
    for n in [clinic, center, welfare] {
        n.stop().await;
    }
    hub.stop().await;
}

async fn missed(node: &mut TestNode, level: u8) {
    node.wait_for(|e| matches!(e, NodeEvent::Notice { notice: Notice::DeadlineMissed { level: l, .. }, .. } if *l == level))
        .await;
}

async fn a_missed_deadline_escalates_to_the_center_then_the_council_and_survives_a_restart(db: Db) {
    let clock = Arc::new(ManualClock::new());
    let hub = TestHub::start_with_clock(
        &db,
        Arc::new(tempfile::tempdir().unwrap()),
        None,
        clock.clone(),
    )
    .await;
    let data = tempfile::tempdir().unwrap();
    let mut clinic = TestNode::connect(&hub.url, CLINIC, data.path()).await;
    let mut center = TestNode::connect(&hub.url, CENTER, data.path()).await;
    let mut yotaikyo = TestNode::connect(&hub.url, "minato-yotaikyo", data.path()).await;
    let case = clinic.node.open_case().await.unwrap();
    let registration = Registration {
        classification: CaseClassification::SpecifiedExpectantMother,
        lead: agency(CENTER),
        members: vec![agency(CENTER), agency(WELFARE)],
    };
    sent(
        &yotaikyo,
        &action_draft(
            Some(&case),
            &[],
            Action::RegisterCase { registration },
            Body::CaseUpdate(note("登録")),
        ),
    )
    .await;
    let mut draft = referral_draft(&case, &[WELFARE]);
    draft.urgency = Urgency::Emergency;
    let referral = sent(&clinic, &draft).await;

    // 59 minutes: nothing is due yet.
    clock.advance(time::Duration::minutes(59));
    assert_eq!(hub.hub.tick().await.unwrap().escalations, 0);
    // Past the hour: the sender, welfare (offline) and the center are told.
    clock.advance(time::Duration::minutes(2));
    assert_eq!(hub.hub.tick().await.unwrap().escalations, 1);
    assert_eq!(
        hub.hub.tick().await.unwrap().escalations,
        0,
        "one escalation per miss"
    );
    missed(&mut clinic, 1).await;
    missed(&mut center, 1).await;

    // The deadline lives in the database: restart the hub, miss it again.
    let previous = (hub.addr, hub.dir.clone());
    hub.stop().await;
    let hub = TestHub::start_with_clock(&db, previous.1, Some(previous.0), clock.clone()).await;
    clock.advance(time::Duration::minutes(61));
    assert_eq!(hub.hub.tick().await.unwrap().escalations, 1);
    missed(&mut yotaikyo, 2).await;
    missed(&mut clinic, 2).await;

    // Once welfare acknowledges, nothing more is due.
    let welfare = TestNode::connect(&hub.url, WELFARE, data.path()).await;
    sent(
        &welfare,
        &update(referral, CLINIC, ReferralState::Received, "受理"),
    )
    .await;
    clock.advance(time::Duration::days(2));
    assert_eq!(hub.hub.tick().await.unwrap().escalations, 0);
    for n in [clinic, center, yotaikyo, welfare] {
        n.stop().await;
    }
    hub.stop().await;
}
