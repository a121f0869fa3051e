//! What operations read: each agency's queue (the metrics scrape) and
//! whether the schema is current (`/readyz`).

use std::sync::Arc;

use super::support::{agency, allow, envelope, stored};
use crate::protocol::{Seq, Timestamp};
use crate::store::{HubStore, Readiness};

pub async fn the_backlog_counts_what_waits_per_agency_and_drains_with_acks(
    store: Arc<dyn HubStore>,
) {
    assert!(store.backlog().await.unwrap().is_empty());
    let before = Timestamp::now();
    stored(&store, &envelope(&["center", "welfare"], b"1"), allow()).await;
    stored(&store, &envelope(&["center"], b"2"), allow()).await;
    let after = Timestamp::now();

    let backlog = store.backlog().await.unwrap();
    let queues: Vec<_> = backlog
        .iter()
        .map(|b| (b.agency.as_str(), b.pending))
        .collect();
    assert_eq!(
        queues,
        [("center", 2), ("welfare", 1)],
        "one row per agency"
    );
    for b in &backlog {
        let oldest = b.oldest.expect("an envelope waits");
        // Stored to the millisecond: `before` may hold a fraction more.
        let earliest = before.datetime() - time::Duration::milliseconds(1);
        assert!(
            earliest <= oldest.datetime() && oldest <= after,
            "{oldest:?}"
        );
    }

    store.ack(&agency("center"), Seq(1)).await.unwrap();
    store.ack_through(&agency("welfare"), Seq(1)).await.unwrap();
    let backlog = store.backlog().await.unwrap();
    assert_eq!(backlog.len(), 1, "an empty queue has no row: {backlog:?}");
    assert_eq!(
        (backlog[0].agency.as_str(), backlog[0].pending),
        ("center", 1)
    );
}

pub async fn a_migrated_store_is_ready(store: Arc<dyn HubStore>) {
    assert_eq!(store.readiness().await.unwrap(), Readiness::Ready);
}
