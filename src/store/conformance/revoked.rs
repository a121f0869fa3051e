//! A revoked agency's queue: what waits for it is cancelled, each sender is
//! told, what it already acknowledged stays as it was.

use std::sync::Arc;

use super::support::{agency, allow, meta, notices, pending_envelopes, sealed, stored};
use crate::protocol::{Notice, Timestamp};
use crate::store::HubStore;

pub async fn revoking_an_agency_cancels_its_queue_and_tells_each_sender(store: Arc<dyn HubStore>) {
    let first = sealed(meta("clinic", &["nursery", "welfare"]), b"a");
    let second = sealed(meta("center", &["nursery"]), b"b");
    let seqs = stored(&store, &first, allow()).await;
    stored(&store, &second, allow()).await;
    // The nursery already holds the first; only the second waits.
    let nursery = seqs
        .iter()
        .find(|(a, _)| a.as_str() == "nursery")
        .unwrap()
        .1;
    store
        .ack_through(&agency("nursery"), nursery)
        .await
        .unwrap();

    let cancelled = store
        .cancel_deliveries_to_revoked(&agency("nursery"), &Timestamp::now())
        .await
        .unwrap();
    let second_id = second.envelope.meta().id;
    assert_eq!(cancelled, [(second_id, agency("center"))]);
    assert!(pending_envelopes(&store, "nursery").await.is_empty());
    assert_eq!(
        notices(&store, "center").await,
        [Notice::RecipientRevoked {
            envelope_id: second_id,
            recipient: agency("nursery"),
        }]
    );
    assert!(notices(&store, "clinic").await.is_empty());
    // Another recipient of the same envelope is untouched.
    assert_eq!(pending_envelopes(&store, "welfare").await.len(), 1);
    let audited = store.audit_entries(None, None).await.unwrap();
    let entry = audited
        .iter()
        .find(|e| e.event == "deliveries_cancelled_revoked")
        .unwrap();
    assert_eq!(entry.agency.as_deref(), Some("nursery"));
    assert!(entry.detail.contains(&second_id.to_string()));
    // Nothing left the second time.
    let again = store
        .cancel_deliveries_to_revoked(&agency("nursery"), &Timestamp::now())
        .await
        .unwrap();
    assert!(again.is_empty());
}
