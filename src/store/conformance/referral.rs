//! The closed loop: referral states, 受理 deadlines, escalation.

use std::sync::{Arc, Mutex};

use super::support::{
    agency, at, audit_events, case_id, envelope, meta, notices, sealed, stored, with,
};
use crate::protocol::{
    EnvelopeId, InfoCategory, MessageKind, Metadata, Notice, ReferralState, Urgency,
};
use crate::store::model::{DueReferral, Effects, Facts, FactsQuery, Policy};
use crate::store::{HubStore, NewEnvelope};

const DEADLINE: &str = "2030-01-01T00:00:00.000Z";

/// A referral from the clinic in case-1 with a 受理 deadline.
async fn open_referral(store: &Arc<dyn HubStore>, recipients: &[&str]) -> NewEnvelope {
    let case = case_id("case-1");
    store.open_case(&case, &agency("center")).await.unwrap();
    let referral = sealed(
        Metadata {
            case_id: Some(case),
            ..meta("clinic", recipients)
        },
        b"r",
    );
    let effects = Effects {
        open_referral: Some(at(DEADLINE)),
        ..Effects::default()
    };
    stored(store, &referral, with(effects)).await;
    referral
}

/// `from` moves its own state of `referral` to `state`; returns the facts
/// the policy saw.
async fn update(
    store: &Arc<dyn HubStore>,
    referral: EnvelopeId,
    from: &str,
    state: ReferralState,
) -> Facts {
    let e = sealed(
        Metadata {
            kind: MessageKind::ReferralUpdate,
            ..meta(from, &["clinic"])
        },
        b"u",
    );
    let seen = Arc::new(Mutex::new(None));
    let spy = seen.clone();
    let effects = Effects {
        update_referral: Some((referral, vec![(agency(from), state)])),
        ..Effects::default()
    };
    let policy: Policy = Arc::new(move |facts: &Facts| {
        *spy.lock().unwrap() = Some(facts.clone());
        Ok(effects.clone())
    });
    let query = FactsQuery {
        referral: Some(referral),
        ..FactsQuery::default()
    };
    store.accept(e, query, policy).await.unwrap();
    seen.lock().unwrap().take().unwrap()
}

async fn due_recipients(store: &Arc<dyn HubStore>, now: &str) -> Vec<String> {
    let due = store.due_referrals(&at(now)).await.unwrap();
    due.into_iter().map(|d| d.recipient.to_string()).collect()
}

pub async fn open_referrals_wait_for_receipt_until_their_deadline(store: Arc<dyn HubStore>) {
    let referral = open_referral(&store, &["welfare", "center"]).await;
    let id = referral.envelope.meta().id;
    let record = store.referral(id).await.unwrap().unwrap();
    assert_eq!((record.referral, record.sender.as_str()), (id, "clinic"));
    assert_eq!(
        (
            record.case_id.clone(),
            record.categories.clone(),
            record.urgency
        ),
        (
            Some(case_id("case-1")),
            vec![InfoCategory::Basic],
            Urgency::Early
        )
    );
    assert_eq!(
        record.states,
        [
            (agency("center"), ReferralState::Sent),
            (agency("welfare"), ReferralState::Sent)
        ]
    );
    assert_eq!(store.referral(EnvelopeId::new()).await.unwrap(), None);

    assert!(
        due_recipients(&store, "2029-12-31T23:59:59.999Z")
            .await
            .is_empty()
    );
    assert_eq!(
        due_recipients(&store, DEADLINE).await,
        ["center", "welfare"]
    );

    let facts = update(&store, id, "center", ReferralState::Received).await;
    assert_eq!(facts.referral, Some(record));
    assert_eq!(
        facts.case,
        store.case(&case_id("case-1")).await.unwrap(),
        "the referral's case"
    );
    let states = store.referral(id).await.unwrap().unwrap().states;
    assert_eq!(
        states,
        [
            (agency("center"), ReferralState::Received),
            (agency("welfare"), ReferralState::Sent)
        ]
    );
    assert_eq!(
        due_recipients(&store, "2999-01-01T00:00:00.000Z").await,
        ["welfare"],
        "受理 clears the deadline"
    );
    let update_id = {
        let e = envelope(&["center"], b"not a referral");
        stored(&store, &e, with(Effects::default())).await;
        e.envelope.meta().id
    };
    assert_eq!(
        store.referral(update_id).await.unwrap().map(|r| r.referral),
        Some(update_id),
        "a plain referral"
    );
}

fn missed(due: &DueReferral) -> Notice {
    Notice::DeadlineMissed {
        referral: due.referral,
        recipient: due.recipient.clone(),
        urgency: due.urgency,
        level: due.escalations + 1,
        deadline: due.deadline,
    }
}

pub async fn a_missed_deadline_escalates_once(store: Arc<dyn HubStore>) {
    let referral = open_referral(&store, &["welfare"]).await;
    let due = store
        .due_referrals(&at(DEADLINE))
        .await
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!(
        (due.referral, due.sender.as_str(), due.recipient.as_str()),
        (referral.envelope.meta().id, "clinic", "welfare")
    );
    assert_eq!(
        (due.deadline, due.escalations, due.case_id.clone()),
        (at(DEADLINE), 0, Some(case_id("case-1")))
    );
    let next = at("2030-01-02T00:00:00.000Z");
    let told = vec![
        (agency("clinic"), missed(&due)),
        (agency("center"), missed(&due)),
    ];
    assert!(store.escalate(&due, &next, told.clone()).await.unwrap());
    assert!(
        !store.escalate(&due, &next, told).await.unwrap(),
        "someone else handled it"
    );
    assert_eq!(notices(&store, "clinic").await, [missed(&due)]);
    assert_eq!(notices(&store, "center").await, [missed(&due)]);

    assert!(store.due_referrals(&at(DEADLINE)).await.unwrap().is_empty());
    let again = store.due_referrals(&next).await.unwrap().pop().unwrap();
    assert_eq!((again.escalations, &again.deadline), (1, &next));
    update(
        &store,
        referral.envelope.meta().id,
        "welfare",
        ReferralState::Received,
    )
    .await;
    assert!(
        store
            .due_referrals(&at("2999-01-01T00:00:00.000Z"))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        !store
            .escalate(&again, &next, vec![(agency("clinic"), missed(&again))])
            .await
            .unwrap(),
        "received meanwhile"
    );
    let escalations = audit_events(&store)
        .await
        .into_iter()
        .filter(|e| e == "escalation")
        .count();
    assert_eq!(escalations, 1);
}
