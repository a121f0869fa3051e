//! Ordered, acknowledged delivery.

use std::sync::Arc;
use std::time::Duration;

use super::support::{
    agency, allow, audit_chain, envelope, first_miss, meta, sealed, stored, with,
};
use crate::protocol::{EnvelopeId, Metadata, Seq, Timestamp};
use crate::store::model::{Effects, FactsQuery};
use crate::store::{AcceptOutcome, AckOutcome, DeliveryItem, HubStore};

fn sorted(seqs: Vec<(crate::protocol::AgencyId, Seq)>) -> Vec<(String, u64)> {
    let mut v: Vec<_> = seqs
        .into_iter()
        .map(|(a, q)| (a.to_string(), q.0))
        .collect();
    v.sort();
    v
}

fn bodies(items: &[crate::store::Delivery]) -> Vec<&[u8]> {
    items
        .iter()
        .map(|d| match &d.item {
            DeliveryItem::Envelope { body, .. } => body.as_slice(),
            DeliveryItem::Notice(n) => panic!("expected an envelope, got {n:?}"),
        })
        .collect()
}

pub async fn each_recipient_gets_its_own_increasing_sequence(store: Arc<dyn HubStore>) {
    let first = stored(&store, &envelope(&["welfare", "center"], b"1"), allow()).await;
    assert_eq!(
        first,
        [(agency("welfare"), Seq(1)), (agency("center"), Seq(1))],
        "in the envelope's order"
    );
    let second = stored(&store, &envelope(&["center"], b"2"), allow()).await;
    assert_eq!(sorted(second), [("center".into(), 2)]);
    assert_eq!(store.last_seq(&agency("center")).await.unwrap(), Seq(2));
    assert_eq!(store.last_seq(&agency("welfare")).await.unwrap(), Seq(1));
    assert_eq!(store.last_seq(&agency("nursery")).await.unwrap(), Seq(0));
}

pub async fn resending_the_same_bytes_changes_nothing(store: Arc<dyn HubStore>) {
    let e = envelope(&["center"], b"x");
    stored(&store, &e, allow()).await;
    let again = store
        .accept(e, FactsQuery::default(), allow())
        .await
        .unwrap();
    assert_eq!(again, AcceptOutcome::Duplicate);
    assert_eq!(store.last_seq(&agency("center")).await.unwrap(), Seq(1));
    assert_eq!(
        store
            .pending(&agency("center"), Seq(0), 10)
            .await
            .unwrap()
            .len(),
        1
    );
}

pub async fn reusing_an_id_for_other_bytes_is_refused(store: Arc<dyn HubStore>) {
    let e = envelope(&["center"], b"original");
    stored(&store, &e, allow()).await;
    let forged = sealed(
        Metadata {
            id: e.envelope.meta().id,
            ..meta("clinic", &["center"])
        },
        b"forged",
    );
    let outcome = store
        .accept(forged, FactsQuery::default(), allow())
        .await
        .unwrap();
    assert_eq!(outcome, AcceptOutcome::IdReused);
    let pending = store.pending(&agency("center"), Seq(0), 10).await.unwrap();
    assert_eq!(bodies(&pending), [e.body.as_slice()]);
    let kept = store.envelope_body(e.envelope.meta().id).await.unwrap();
    assert_eq!(kept, Some(e.body));
    assert_eq!(store.envelope_body(EnvelopeId::new()).await.unwrap(), None);
}

pub async fn pending_lists_unacked_deliveries_in_order(store: Arc<dyn HubStore>) {
    let sent: Vec<_> = (0..5u8).map(|i| envelope(&["center"], &[i])).collect();
    for e in &sent {
        stored(&store, e, allow()).await;
    }
    let center = agency("center");
    assert_eq!(store.ack(&center, Seq(2)).await.unwrap(), AckOutcome::Acked);
    let pending = store.pending(&center, Seq(0), 10).await.unwrap();
    let got: Vec<u64> = pending.iter().map(|d| d.seq.0).collect();
    assert_eq!(got, [1, 3, 4, 5]);
    let expected = DeliveryItem::Envelope {
        id: sent[3].envelope.meta().id,
        body: sent[3].body.clone(),
    };
    assert_eq!(pending[2].item, expected);
    let later = store.pending(&center, Seq(3), 1).await.unwrap();
    assert_eq!(later.iter().map(|d| d.seq.0).collect::<Vec<_>>(), [4]);
}

pub async fn acks_are_checked_against_what_was_delivered(store: Arc<dyn HubStore>) {
    stored(&store, &envelope(&["center"], b"a"), allow()).await;
    let center = agency("center");
    assert_eq!(store.ack(&center, Seq(1)).await.unwrap(), AckOutcome::Acked);
    assert_eq!(
        store.ack(&center, Seq(1)).await.unwrap(),
        AckOutcome::AlreadyAcked
    );
    assert_eq!(
        store.ack(&center, Seq(2)).await.unwrap(),
        AckOutcome::Unknown
    );
    assert_eq!(
        store.ack(&agency("welfare"), Seq(1)).await.unwrap(),
        AckOutcome::Unknown
    );
}

/// A burst from one socket is one transaction, but each ack in it is
/// judged alone: an unknown one changes nothing and costs the others nothing.
pub async fn a_burst_of_acks_commits_each_known_one_and_answers_each(store: Arc<dyn HubStore>) {
    for i in 0..3u8 {
        stored(&store, &envelope(&["center"], &[i]), allow()).await;
    }
    let center = agency("center");
    let before = audit_chain(&store).await.len();
    let outcomes = store
        .ack_burst(&center, vec![Seq(1), Seq(99), Seq(3), Seq(1)])
        .await
        .unwrap();
    use AckOutcome::*;
    assert_eq!(outcomes, [Acked, Unknown, Acked, AlreadyAcked]);
    let pending = store.pending(&center, Seq(0), 10).await.unwrap();
    assert_eq!(pending.iter().map(|d| d.seq.0).collect::<Vec<_>>(), [2]);
    // One `delivery_acked` per ack that changed something, chained in order.
    let acked: Vec<_> = audit_chain(&store).await[before..]
        .iter()
        .map(|e| (e.event.clone(), e.detail.clone()))
        .collect();
    let entry = |seq: u64| {
        let detail = serde_json::json!({ "seq": seq, "after_cancel": false });
        ("delivery_acked".to_owned(), detail.to_string())
    };
    assert_eq!(acked, [entry(1), entry(3)]);
    // A burst of nothing known writes nothing.
    let none = store.ack_burst(&center, vec![Seq(7)]).await.unwrap();
    assert_eq!(none, [Unknown]);
    assert_eq!(audit_chain(&store).await.len(), before + 2);
}

pub async fn ack_through_marks_everything_up_to_the_cursor(store: Arc<dyn HubStore>) {
    for i in 0..4u8 {
        stored(&store, &envelope(&["center"], &[i]), allow()).await;
    }
    let center = agency("center");
    assert_eq!(store.ack_through(&center, Seq(3)).await.unwrap(), 3);
    assert_eq!(store.ack_through(&center, Seq(3)).await.unwrap(), 0);
    let left: Vec<u64> = store
        .pending(&center, Seq(0), 10)
        .await
        .unwrap()
        .iter()
        .map(|d| d.seq.0)
        .collect();
    assert_eq!(left, [4]);
}

/// A store shared by several hub processes wakes the one holding a
/// recipient's socket for notices as for envelopes. (Single-process stores
/// have no wakeups.)
pub async fn notices_wake_listeners_like_envelopes(store: Arc<dyn HubStore>) {
    let Some(mut wakeups) = store.delivery_wakeups().await.unwrap() else {
        return;
    };
    let deadline = Timestamp::now();
    let effects = Effects {
        open_referral: Some(deadline),
        ..Effects::default()
    };
    stored(&store, &envelope(&["center"], b"r"), with(effects)).await;
    let woken = tokio::time::timeout(Duration::from_secs(10), wakeups.recv())
        .await
        .unwrap();
    assert_eq!(woken, Some(Some(agency("center"))));
    let due = store.due_referrals(&deadline).await.unwrap().pop().unwrap();
    let notice = first_miss(&due);
    assert!(
        store
            .escalate(&due, &Timestamp::now(), vec![(agency("clinic"), notice)])
            .await
            .unwrap()
    );
    let woken = tokio::time::timeout(Duration::from_secs(10), wakeups.recv())
        .await
        .unwrap();
    assert_eq!(woken, Some(Some(agency("clinic"))));
}
