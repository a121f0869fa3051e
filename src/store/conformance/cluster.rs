//! What several hub processes on one database coordinate through: the
//! delivery heads their catch-up compares, and the lease that lets one of
//! them run the deadline checks.

use std::sync::Arc;

use super::support::{allow, at, envelope, stored};
use crate::protocol::{AgencyId, Seq};
use crate::store::HubStore;

const LEASE: &str = "deadline-checks";

async fn heads(store: &Arc<dyn HubStore>) -> Vec<(String, u64)> {
    let mut v: Vec<_> = store
        .delivery_heads()
        .await
        .unwrap()
        .into_iter()
        .map(|(a, s): (AgencyId, Seq)| (a.to_string(), s.0))
        .collect();
    v.sort();
    v
}

pub async fn delivery_heads_are_each_agencys_last_sequence(store: Arc<dyn HubStore>) {
    assert!(heads(&store).await.is_empty());
    stored(&store, &envelope(&["center", "welfare"], b"one"), allow()).await;
    stored(&store, &envelope(&["center"], b"two"), allow()).await;
    assert_eq!(
        heads(&store).await,
        [("center".to_owned(), 2), ("welfare".to_owned(), 1)]
    );
    // Acknowledging moves nothing: only a new delivery does.
    store
        .ack_through(&"center".parse().unwrap(), Seq(2))
        .await
        .unwrap();
    assert_eq!(heads(&store).await[0], ("center".to_owned(), 2));
}

pub async fn a_lease_is_its_holders_until_it_expires_or_is_released(store: Arc<dyn HubStore>) {
    let (t0, t1) = (
        at("2026-12-01T00:00:00.000Z"),
        at("2026-12-01T00:01:30.000Z"),
    );
    let t2 = at("2026-12-01T00:03:00.000Z");
    let lease = store.take_lease(LEASE, "a", &t0, &t1).await.unwrap();
    assert_eq!((lease.holder.as_str(), lease.expires_at), ("a", t1));
    // Another hub is told who holds it, and changes nothing.
    let seen = store.take_lease(LEASE, "b", &t0, &t1).await.unwrap();
    assert_eq!((seen.holder.as_str(), seen.expires_at), ("a", t1));
    // The holder renews it.
    let renewed = store.take_lease(LEASE, "a", &t1, &t2).await.unwrap();
    assert_eq!((renewed.holder.as_str(), renewed.expires_at), ("a", t2));
    // Not renewed past its expiry (the holder died): the next taker gets it.
    let t3 = at("2026-12-01T00:04:30.000Z");
    let taken = store.take_lease(LEASE, "b", &t2, &t3).await.unwrap();
    assert_eq!(taken.holder, "b");
    // A release by someone who does not hold it does nothing; the holder's
    // frees it at once.
    store.release_lease(LEASE, "a").await.unwrap();
    assert_eq!(
        store.take_lease(LEASE, "a", &t2, &t3).await.unwrap().holder,
        "b"
    );
    store.release_lease(LEASE, "b").await.unwrap();
    assert_eq!(
        store.take_lease(LEASE, "a", &t2, &t3).await.unwrap().holder,
        "a"
    );
}

pub async fn hubs_racing_for_a_free_lease_agree_on_one_holder(store: Arc<dyn HubStore>) {
    let (now, until) = (
        at("2026-12-01T00:00:00.000Z"),
        at("2026-12-01T00:01:30.000Z"),
    );
    let takers = (0..8).map(|i| {
        let store = store.clone();
        tokio::spawn(async move {
            let me = format!("hub-{i}");
            let lease = store.take_lease(LEASE, &me, &now, &until).await.unwrap();
            (me, lease.holder)
        })
    });
    let results = futures::future::join_all(takers).await;
    let holders: Vec<_> = results.into_iter().map(|r| r.unwrap()).collect();
    let winners = holders.iter().filter(|(me, holder)| me == holder).count();
    assert_eq!(winners, 1, "{holders:?}");
    assert!(
        holders.iter().all(|(_, h)| *h == holders[0].1),
        "{holders:?}"
    );
}
