//! The database's epoch: made once, kept, renewed by hand.

use std::sync::Arc;

use super::support::agency;
use crate::store::HubStore;
use crate::store::model::AuditEvent;

pub async fn the_epoch_is_made_once_and_renewed_only_by_hand(store: Arc<dyn HubStore>) {
    let opened = AuditEvent::new(
        "connection_opened",
        Some(&agency("center")),
        None,
        serde_json::json!({}),
    );
    store.audit(opened).await.unwrap();
    let (first, made) = store.epoch().await.unwrap();
    assert!(made, "a new database has no epoch until first asked");
    let (again, made) = store.epoch().await.unwrap();
    assert!(!made);
    assert_eq!(
        again, first,
        "kept across calls (and restarts: it is stored)"
    );
    let newest = store
        .audit_entries(None, None)
        .await
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!(first.since, newest.at, "since the newest audit entry");

    let renewed = store.renew_epoch().await.unwrap();
    assert_ne!(renewed.id, first.id);
    assert_eq!(store.epoch().await.unwrap(), (renewed, false));
}
