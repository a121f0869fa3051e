//! The policy's facts and effects: refusals, cases, consent, disclosure
//! records, violations.

use std::sync::{Arc, Mutex};

use super::support::{
    agency, allow, at, audit_chain, audit_events, case_id, envelope, meta, notices,
    pending_envelopes, record_consent, refusal, refuse, scope, sealed, stored, under_consent, with,
};
use crate::protocol::case::{CaseClassification, Registration};
use crate::protocol::notice::ConsentEnd;
use crate::protocol::{
    InfoCategory, LegalBasis, MessageKind, Metadata, Notice, Purpose, Seq, Timestamp,
};
use crate::store::model::{AuditEvent, CaseChange, Effects, Facts, FactsQuery};
use crate::store::{AcceptOutcome, HubStore};

pub async fn a_refused_envelope_stores_nothing_but_is_audited(store: Arc<dyn HubStore>) {
    let e = envelope(&["center"], b"r");
    let outcome = store
        .accept(e.clone(), FactsQuery::default(), refuse())
        .await
        .unwrap();
    assert_eq!(outcome, AcceptOutcome::Refused(refusal()));
    assert!(
        store
            .pending(&agency("center"), Seq(0), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.last_seq(&agency("center")).await.unwrap(), Seq(0));
    assert_eq!(
        store.envelope_body(e.envelope.meta().id).await.unwrap(),
        None
    );
    let chain = audit_chain(&store).await;
    assert_eq!(chain.len(), 1);
    assert_eq!(chain[0].event, "refused");
    assert_eq!(chain[0].agency.as_deref(), Some("clinic"));
    assert_eq!(chain[0].subject, Some(e.envelope.meta().id.to_string()));
    // Nothing was stored, so the same envelope may be accepted later.
    stored(&store, &e, allow()).await;
    assert_eq!(audit_events(&store).await, ["refused", "envelope_accepted"]);
}

/// A policy that records what it was shown.
fn spy(seen: &Arc<Mutex<Vec<Facts>>>) -> crate::store::model::Policy {
    let seen = seen.clone();
    Arc::new(move |facts: &Facts| {
        seen.lock().unwrap().push(facts.clone());
        Ok(Effects::default())
    })
}

pub async fn the_policy_sees_the_facts_it_asked_for(store: Arc<dyn HubStore>) {
    let case = case_id("case-1");
    store.open_case(&case, &agency("center")).await.unwrap();
    let consent = record_consent(&store, &case, None).await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let query = FactsQuery {
        case_id: Some(case.clone()),
        consent_id: Some(consent),
        concerned: true,
        ..FactsQuery::default()
    };
    let e = sealed(under_consent("clinic", &["center"], &case, consent), b"r");
    store.accept(e, query, spy(&seen)).await.unwrap();
    let facts = seen.lock().unwrap().pop().unwrap();
    assert_eq!(facts.case, store.case(&case).await.unwrap());
    let recorded = facts.consent.unwrap();
    assert_eq!(recorded.scope, scope(consent, &case, None));
    assert_eq!(recorded.recorded_by, agency("clinic"));
    assert_eq!(recorded.ended, None);
    assert_eq!(facts.referral, None);
    // Nothing sent under it yet: only its recorder is concerned.
    assert_eq!(facts.concerned, [agency("clinic")]);
    store
        .accept(
            envelope(&["center"], b"n"),
            FactsQuery::default(),
            spy(&seen),
        )
        .await
        .unwrap();
    assert_eq!(seen.lock().unwrap().pop(), Some(Facts::default()));
}

fn case_update(
    case: &crate::protocol::CaseId,
    change: CaseChange,
) -> (crate::store::NewEnvelope, crate::store::model::Policy) {
    let e = sealed(
        Metadata {
            kind: MessageKind::CaseUpdate,
            case_id: Some(case.clone()),
            ..meta("yotaikyo", &["clinic"])
        },
        b"case",
    );
    let effects = Effects {
        case_change: Some(change),
        ..Effects::default()
    };
    (e, with(effects))
}

pub async fn cases_know_who_is_involved(store: Arc<dyn HubStore>) {
    let case = case_id("case-1");
    store.open_case(&case, &agency("center")).await.unwrap();
    let opened = store.case(&case).await.unwrap().unwrap();
    assert_eq!(
        (opened.opened_by, opened.registration, opened.closed_at),
        (agency("center"), None, None)
    );
    assert_eq!(store.case(&case_id("case-2")).await.unwrap(), None);
    let e = sealed(
        Metadata {
            case_id: Some(case.clone()),
            ..meta("clinic", &["welfare"])
        },
        b"r",
    );
    stored(&store, &e, allow()).await;
    let registration = Registration {
        classification: CaseClassification::SpecifiedExpectantMother,
        lead: agency("center"),
        members: vec![agency("nursery")],
    };
    let (e, policy) = case_update(&case, CaseChange::Register(registration.clone()));
    stored(&store, &e, policy).await;
    for (who, expected) in [
        ("center", true),
        ("clinic", true),
        ("welfare", true),
        ("nursery", true),
        ("school", false),
    ] {
        assert_eq!(
            store.involved(&case, &agency(who)).await.unwrap(),
            expected,
            "{who}"
        );
    }
    assert!(
        !store
            .involved(&case_id("case-2"), &agency("center"))
            .await
            .unwrap()
    );
    assert_eq!(
        store.case(&case).await.unwrap().unwrap().registration,
        Some(registration)
    );
    let (e, policy) = case_update(
        &case,
        CaseChange::Reclassify(CaseClassification::SupportNeeded),
    );
    stored(&store, &e, policy).await;
    let (e, policy) = case_update(&case, CaseChange::Close);
    stored(&store, &e, policy).await;
    let closed = store.case(&case).await.unwrap().unwrap();
    assert_eq!(
        closed.registration.unwrap().classification,
        CaseClassification::SupportNeeded
    );
    assert!(closed.closed_at.is_some());
    let events = audit_events(&store).await;
    assert_eq!(events[0], "case_opened");
    assert_eq!(events.len(), 5, "{events:?}");
}

fn withdrawal(
    case: &crate::protocol::CaseId,
    consent: crate::protocol::ConsentId,
) -> (crate::store::NewEnvelope, crate::store::model::Policy) {
    let e = sealed(
        Metadata {
            kind: MessageKind::ConsentWithdrawal,
            case_id: Some(case.clone()),
            ..meta("clinic", &["center"])
        },
        b"withdraw",
    );
    let effects = Effects {
        end_consent: Some((consent, ConsentEnd::Withdrawn)),
        ..Effects::default()
    };
    (e, with(effects))
}

pub async fn ending_a_consent_cancels_what_is_queued_and_tells_holders(store: Arc<dyn HubStore>) {
    let case = case_id("case-1");
    store.open_case(&case, &agency("center")).await.unwrap();
    let consent = record_consent(&store, &case, None).await;
    let referral = sealed(
        under_consent("clinic", &["center", "welfare"], &case, consent),
        b"r",
    );
    let seqs = stored(&store, &referral, allow()).await;
    store
        .ack_through(&agency("center"), seqs[0].1)
        .await
        .unwrap();
    let (e, policy) = withdrawal(&case, consent);
    stored(&store, &e, policy).await;

    let id = referral.envelope.meta().id;
    assert!(
        pending_envelopes(&store, "welfare").await.is_empty(),
        "the queued delivery is cancelled"
    );
    let cancelled = Notice::DeliveryCancelled {
        envelope_id: id,
        recipient: agency("welfare"),
        consent_id: consent,
    };
    // The clinic recorded the consent and sent under it: it hears of the
    // cancelled delivery and of the ending, naming what it sent.
    let ended = |envelopes: Vec<_>, sent: Vec<_>| Notice::ConsentEnded {
        consent_id: consent,
        case_id: case.clone(),
        reason: ConsentEnd::Withdrawn,
        envelopes,
        sent,
        ended_by: Some(agency("clinic")),
        withdrawal: Some(e.envelope.meta().id),
    };
    assert_eq!(
        notices(&store, "clinic").await,
        [cancelled, ended(vec![], vec![id])]
    );
    assert_eq!(notices(&store, "center").await, [ended(vec![id], vec![])]);
    // The chain names where she withdrew, as the notices do.
    let chain = audit_chain(&store).await;
    let entry = chain
        .iter()
        .find(|e| e.event == "consent_withdrawn")
        .unwrap();
    assert_eq!(entry.agency.as_deref(), Some("clinic"));
    // The welfare office's node never got it, whatever its cursor says.
    assert_eq!(
        store
            .ack_through(&agency("welfare"), seqs[1].1)
            .await
            .unwrap(),
        0
    );

    let query = FactsQuery {
        consent_id: Some(consent),
        ..FactsQuery::default()
    };
    let seen = Arc::new(Mutex::new(None));
    let spy = seen.clone();
    let (e, _) = withdrawal(&case, consent);
    let policy: crate::store::model::Policy = Arc::new(move |facts: &Facts| {
        *spy.lock().unwrap() = facts.consent.clone();
        Ok(Effects {
            end_consent: Some((consent, ConsentEnd::Withdrawn)),
            ..Effects::default()
        })
    });
    store.accept(e, query, policy).await.unwrap();
    let (_, reason) = seen.lock().unwrap().clone().unwrap().ended.unwrap();
    assert_eq!(reason, ConsentEnd::Withdrawn);
    assert_eq!(
        notices(&store, "clinic").await.len(),
        2,
        "ending twice does nothing the second time"
    );
    assert_eq!(notices(&store, "center").await.len(), 1);
    let ends = audit_events(&store)
        .await
        .into_iter()
        .filter(|e| e.starts_with("consent_"))
        .count();
    assert_eq!(ends, 1);
}

pub async fn expired_consents_end_like_withdrawals(store: Arc<dyn HubStore>) {
    let case = case_id("case-1");
    store.open_case(&case, &agency("center")).await.unwrap();
    // Not in the hub's own format: the store must still compare it right.
    let consent = record_consent(&store, &case, Some(at("2030-01-01T00:00:00Z"))).await;
    let referral = sealed(under_consent("clinic", &["welfare"], &case, consent), b"r");
    stored(&store, &referral, allow()).await;
    assert!(
        store
            .due_consents(&at("2029-12-31T23:59:59.999Z"))
            .await
            .unwrap()
            .is_empty()
    );
    let due_at = at("2030-01-01T00:00:00.000Z");
    assert_eq!(store.due_consents(&due_at).await.unwrap(), [consent]);

    assert!(store.expire_consent(consent, &due_at).await.unwrap());
    assert!(
        !store.expire_consent(consent, &due_at).await.unwrap(),
        "only once"
    );
    assert!(store.due_consents(&due_at).await.unwrap().is_empty());
    assert!(pending_envelopes(&store, "welfare").await.is_empty());
    let cancelled = Notice::DeliveryCancelled {
        envelope_id: referral.envelope.meta().id,
        recipient: agency("welfare"),
        consent_id: consent,
    };
    // The clinic sent under it and recorded it: told of the cancelled
    // delivery and of the expiry, which names no withdrawal.
    let ended = Notice::ConsentEnded {
        consent_id: consent,
        case_id: case.clone(),
        reason: ConsentEnd::Expired,
        envelopes: vec![],
        sent: vec![referral.envelope.meta().id],
        ended_by: None,
        withdrawal: None,
    };
    assert_eq!(notices(&store, "clinic").await, [cancelled, ended]);
    let events = audit_events(&store).await;
    assert_eq!(
        events.iter().filter(|e| *e == "consent_expired").count(),
        1,
        "{events:?}"
    );
    let chain = audit_chain(&store).await;
    let entry = chain.iter().find(|e| e.event == "consent_expired").unwrap();
    assert_eq!(entry.agency, None, "an expiry is no agency's act");
    let detail: serde_json::Value = serde_json::from_str(&entry.detail).unwrap();
    assert_eq!(
        detail,
        serde_json::json!({ "reason": "expired", "cancelled_deliveries": 1, "holders_notified": 0, "agencies_notified": 1 })
    );
}

fn with_basis(
    case: &crate::protocol::CaseId,
    recipients: &[&str],
    basis: Option<LegalBasis>,
) -> crate::store::NewEnvelope {
    let categories = vec![InfoCategory::Basic, InfoCategory::PregnancyMedical];
    let m = Metadata {
        case_id: Some(case.clone()),
        basis,
        purpose: Some(Purpose::Referral),
        categories,
        ..meta("clinic", recipients)
    };
    sealed(m, b"d")
}

pub async fn disclosures_and_statutory_uses_record_who_got_what(store: Arc<dyn HubStore>) {
    let (case, other) = (case_id("case-1"), case_id("case-2"));
    let statutory = with_basis(
        &case,
        &["center", "welfare"],
        Some(LegalBasis::ProvisionToMunicipality),
    );
    let seqs = stored(&store, &statutory, allow()).await;
    let consent = with_basis(
        &case,
        &["center"],
        Some(LegalBasis::Consent {
            consent_id: crate::protocol::ConsentId::new(),
        }),
    );
    stored(&store, &consent, allow()).await;
    stored(&store, &with_basis(&case, &["center"], None), allow()).await;
    let abuse = with_basis(&other, &["welfare"], Some(LegalBasis::AbuseNotification));
    stored(&store, &abuse, allow()).await;
    store.ack(&agency("center"), seqs[0].1).await.unwrap();

    let mut lines = store.disclosures(&case).await.unwrap();
    assert_eq!(lines.len(), 4);
    lines.retain(|d| d.envelope_id == statutory.envelope.meta().id);
    lines.sort_by(|a, b| a.recipient.cmp(&b.recipient));
    let [center, welfare] = &lines[..] else {
        panic!("{lines:?}")
    };
    assert_eq!(
        (center.recipient.as_str(), welfare.recipient.as_str()),
        ("center", "welfare")
    );
    assert_eq!(center.sender, Some(agency("clinic")));
    assert_eq!(center.kind, "referral");
    assert_eq!(
        center.categories,
        [InfoCategory::Basic, InfoCategory::PregnancyMedical]
    );
    assert_eq!(center.basis, Some(LegalBasis::ProvisionToMunicipality));
    assert!(center.delivered_at.is_some() && welfare.delivered_at.is_none());
    assert!(!center.cancelled && !welfare.cancelled);

    let mut uses = store.statutory_uses().await.unwrap();
    uses.sort_by_key(|u| u.basis.as_str());
    let bases: Vec<&str> = uses.iter().map(|u| u.basis.as_str()).collect();
    assert_eq!(bases, ["abuse_notification", "provision_to_municipality"]);
    assert_eq!(uses[1].envelope_id, statutory.envelope.meta().id);
    assert_eq!(uses[1].recipients, [agency("center"), agency("welfare")]);
    assert_eq!(uses[1].case_id, Some(case));
    assert_eq!(uses[0].case_id, Some(other));
    assert!(uses[0].accepted_at <= Timestamp::now());
}

pub async fn violations_are_listed_newest_first(store: Arc<dyn HubStore>) {
    let (first, second) = (envelope(&["center"], b"1"), envelope(&["welfare"], b"2"));
    let found = serde_json::json!({ "declared": ["basic"], "found": ["mental_health"] });
    store
        .record_violation(first.envelope.meta().id, &agency("center"), found.clone())
        .await
        .unwrap();
    store
        .record_violation(
            second.envelope.meta().id,
            &agency("welfare"),
            serde_json::json!({}),
        )
        .await
        .unwrap();
    let listed = store.violations().await.unwrap();
    let who: Vec<_> = listed
        .iter()
        .map(|(id, by, _, _)| (*id, by.as_str()))
        .collect();
    assert_eq!(
        who,
        [
            (second.envelope.meta().id, "welfare"),
            (first.envelope.meta().id, "center")
        ]
    );
    assert_eq!(listed[1].2, found);
    store
        .audit(AuditEvent::new(
            "connected",
            Some(&agency("center")),
            None,
            serde_json::json!({}),
        ))
        .await
        .unwrap();
    let chain = audit_chain(&store).await;
    let events: Vec<_> = chain.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(
        events,
        ["violation_reported", "violation_reported", "connected"]
    );
    assert_eq!(chain[0].subject, Some(first.envelope.meta().id.to_string()));
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&chain[0].detail).unwrap(),
        found
    );
    let after_all = at("2999-01-01T00:00:00.000Z");
    assert!(
        store
            .audit_entries(Some(&after_all), None)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .audit_entries(None, Some(&chain[0].at))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .audit_entries(Some(&chain[0].at), Some(&after_all))
            .await
            .unwrap(),
        chain
    );
}

pub async fn a_cancelled_delivery_acked_anyway_is_delivered_and_marked(store: Arc<dyn HubStore>) {
    let case = case_id("case-1");
    store.open_case(&case, &agency("center")).await.unwrap();
    let consent = record_consent(&store, &case, None).await;
    let referral = sealed(under_consent("clinic", &["welfare"], &case, consent), b"r");
    let effects = Effects {
        open_referral: Some(at("2099-01-01T00:00:00.000Z")),
        ..Effects::default()
    };
    let seqs = stored(&store, &referral, with(effects)).await;
    // Withdrawn while the delivery was on its way to the welfare node.
    let (e, policy) = withdrawal(&case, consent);
    stored(&store, &e, policy).await;
    let id = referral.envelope.meta().id;
    let states = store.referral(id).await.unwrap().unwrap().states;
    assert_eq!(
        states,
        [(agency("welfare"), crate::protocol::ReferralState::Cancelled)],
        "no 受理 deadline for what was cancelled"
    );
    assert!(
        store
            .due_referrals(&at("2100-01-01T00:00:00.000Z"))
            .await
            .unwrap()
            .is_empty()
    );

    // The node had stored it and acks: it holds the data after all.
    let outcome = store.ack(&agency("welfare"), seqs[0].1).await.unwrap();
    assert_eq!(outcome, crate::store::AckOutcome::AckedAfterCancel);
    // Acknowledged after the ending: a notice of its own, naming no
    // withdrawal (the hub learns of the holding only now).
    let ended = Notice::ConsentEnded {
        consent_id: consent,
        case_id: case.clone(),
        reason: ConsentEnd::Withdrawn,
        envelopes: vec![id],
        sent: vec![],
        ended_by: None,
        withdrawal: None,
    };
    assert_eq!(notices(&store, "welfare").await, [ended]);
    let record = store.disclosures(&case).await.unwrap();
    let to_welfare = record.iter().find(|d| d.envelope_id == id).unwrap();
    assert!(!to_welfare.cancelled && to_welfare.delivered_at.is_some());
}
