//! The chain's head, which the hub signs into its checkpoints.

use std::sync::Arc;

use super::support::{agency, audit_chain};
use crate::store::HubStore;
use crate::store::model::AuditEvent;

pub async fn the_audit_head_is_the_last_entry_of_the_chain(store: Arc<dyn HubStore>) {
    assert_eq!(store.audit_head().await.unwrap(), None, "an empty chain");
    for n in 0..3 {
        let event = AuditEvent::new(
            "connection_opened",
            Some(&agency("center")),
            None,
            serde_json::json!({ "n": n }),
        );
        store.audit(event).await.unwrap();
        let chain = audit_chain(&store).await;
        let last = chain.last().unwrap();
        let (count, head) = store.audit_head().await.unwrap().unwrap();
        assert_eq!(count, chain.len() as u64);
        assert_eq!(i64::try_from(count).unwrap(), last.seq);
        assert_eq!(head.as_slice(), last.hash.as_slice());
    }
}
