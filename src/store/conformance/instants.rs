//! Every bound compares as an instant: an entry at `00:00:00.123Z` is after
//! `00:00:00Z`, though as text `'.' < 'Z'` put it before.

use std::sync::Arc;

use super::support::{
    agency, allow, at, audit_chain, case_id, meta, record_consent, sealed, stored, under_consent,
    with,
};
use crate::protocol::{Metadata, Timestamp};
use crate::store::HubStore;
use crate::store::audit::AuditEntry;
use crate::store::model::{AuditEvent, Effects};

/// An audit entry stamped after the start of its second (a whole-second
/// entry would not tell text order from instant order).
async fn entry_inside_a_second(store: &Arc<dyn HubStore>) -> AuditEntry {
    for _ in 0..1000 {
        let event = AuditEvent::new(
            "connected",
            Some(&agency("center")),
            None,
            serde_json::json!({}),
        );
        store.audit(event).await.unwrap();
        let last = audit_chain(store).await.pop().unwrap();
        if last.at.datetime().millisecond() != 0 {
            return last;
        }
    }
    panic!("every entry landed on a whole second");
}

/// The second `t` falls in, written as staff type it: `…T00:00:00Z`.
fn whole_second(t: Timestamp) -> Timestamp {
    at(&format!("{}Z", &t.to_string()[..19]))
}

pub async fn audit_export_from_a_whole_second_keeps_that_second(store: Arc<dyn HubStore>) {
    let entry = entry_inside_a_second(&store).await;
    let from = whole_second(entry.at);
    let next = Timestamp::from_datetime(from.datetime() + time::Duration::SECOND);
    let listed = |from: Option<Timestamp>, to: Option<Timestamp>| {
        let store = store.clone();
        async move {
            let entries = store
                .audit_entries(from.as_ref(), to.as_ref())
                .await
                .unwrap();
            entries.into_iter().map(|e| e.seq).collect::<Vec<_>>()
        }
    };
    assert!(listed(Some(from), None).await.contains(&entry.seq));
    assert!(listed(Some(from), Some(next)).await.contains(&entry.seq));
    assert!(!listed(None, Some(from)).await.contains(&entry.seq));
    assert!(listed(Some(entry.at), None).await.contains(&entry.seq));
    assert!(!listed(None, Some(entry.at)).await.contains(&entry.seq));
}

pub async fn deadlines_and_expiry_fall_due_at_the_instant(store: Arc<dyn HubStore>) {
    let case = case_id("case-1");
    store.open_case(&case, &agency("center")).await.unwrap();
    let referral = sealed(
        Metadata {
            case_id: Some(case.clone()),
            ..meta("clinic", &["welfare"])
        },
        b"r",
    );
    let effects = Effects {
        open_referral: Some(at("2030-01-01T00:00:00.123Z")),
        ..Effects::default()
    };
    stored(&store, &referral, with(effects)).await;
    let consent = record_consent(&store, &case, Some(at("2030-01-01T00:00:00.123Z"))).await;
    let shared = sealed(under_consent("clinic", &["welfare"], &case, consent), b"s");
    stored(&store, &shared, allow()).await;

    let before = at("2030-01-01T00:00:00Z");
    assert!(store.due_referrals(&before).await.unwrap().is_empty());
    assert!(store.due_consents(&before).await.unwrap().is_empty());
    let due_at = at("2030-01-01T00:00:00.123Z");
    assert_eq!(store.due_referrals(&due_at).await.unwrap().len(), 1);
    assert_eq!(store.due_consents(&due_at).await.unwrap(), [consent]);
}
