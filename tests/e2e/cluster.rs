//! Several hubs on one PostgreSQL database: a node on one hub receives, in
//! order and exactly once, what was sent through another; a missed
//! notification is recovered by catch-up; the deadline checks run on one hub
//! at a time; a hub killed mid-stream loses and duplicates nothing.
//! PostgreSQL only: one SQLite file is one hub's.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tsunagu::agency::{NodeEvent, Sent};
use tsunagu::hub::Limits;
use tsunagu::hub::clock::ManualClock;
use tsunagu::protocol::{Notice, Seq, Urgency};
use tsunagu::store::{self, DeliveryItem, HubStore};

use crate::faulty::FaultyStore;
use crate::helpers::*;
use crate::processes::{Forwarder, HubProcess};

/// A hub that hears no NOTIFY still delivers what another hub committed,
/// woken by its catch-up read alone, within one interval (plus slack).
#[tokio::test]
#[cfg_attr(
    not(tsunagu_pg),
    ignore = "PostgreSQL not installed: install Debian's postgresql package or set TSUNAGU_TEST_PG_URL"
)]
async fn a_hub_deaf_to_notifications_delivers_within_the_catch_up_interval() {
    let db = Db::postgres().await;
    let hub_a = TestHub::start(&db).await;
    let limits = Limits {
        catch_up_interval_secs: 1,
        ..Limits::default()
    };
    let deaf = |store: Arc<dyn HubStore>| -> Arc<dyn HubStore> { FaultyStore::deaf(store) };
    let hub_b = TestHub::start_wrapped_with(&db, limits, &deaf).await;
    let data = tempfile::tempdir().unwrap();
    let clinic = TestNode::connect(&hub_a.url, CLINIC, data.path()).await;
    let case = clinic.node.open_case().await.unwrap();
    // The center's session on B reads this one at its hello; once stored,
    // the session has read its queue and sleeps until something wakes it.
    let first = sent(&clinic, &referral_draft(&case, &[CENTER])).await;
    let mut center = TestNode::connect(&hub_b.url, CENTER, data.path()).await;
    center.wait_stored(first).await;

    // Committed by A: B's sockets hear no NOTIFY, and B sent nothing itself.
    let started = Instant::now();
    let second = sent(&clinic, &referral_draft(&case, &[CENTER])).await;
    center.wait_stored(second).await;
    let waited = started.elapsed();
    // A bound, not a benchmark: one 1 s interval, with room for a loaded
    // machine; without catch-up it would never arrive.
    assert!(waited < Duration::from_secs(10), "took {waited:?}");
    eprintln!("delivered by catch-up alone after {waited:?} (interval 1 s)");
    let inbox = center.node.records().inbox().await.unwrap();
    assert_eq!(inbox.iter().map(|r| r.seq).collect::<Vec<_>>(), [2, 1]);
    clinic.stop().await;
    center.stop().await;
    hub_a.stop().await;
    hub_b.stop().await;
}

/// The levels of the 受理 deadline notices waiting for the (offline) clinic.
async fn missed_levels(store: &Arc<dyn HubStore>) -> Vec<u8> {
    let pending = store.pending(&agency(CLINIC), Seq(0), 100).await.unwrap();
    pending
        .into_iter()
        .filter_map(|d| match d.item {
            DeliveryItem::Notice(Notice::DeadlineMissed { level, .. }) => Some(level),
            _ => None,
        })
        .collect()
}

/// Two hubs on one clock: the lease holder escalates, the other does no
/// work; when the holder stops renewing (dies), the other takes over after
/// the lease expires; a graceful stop hands over at once. Each miss is
/// escalated once.
#[tokio::test]
#[cfg_attr(
    not(tsunagu_pg),
    ignore = "PostgreSQL not installed: install Debian's postgresql package or set TSUNAGU_TEST_PG_URL"
)]
async fn two_hubs_on_one_clock_escalate_each_miss_once_and_only_the_lease_holder_checks() {
    let db = Db::postgres().await;
    let clock = Arc::new(ManualClock::new());
    let dir = || Arc::new(tempfile::tempdir().unwrap());
    let hub_a = TestHub::start_with_clock(&db, dir(), None, clock.clone()).await;
    let hub_b = TestHub::start_with_clock(&db, dir(), None, clock.clone()).await;
    assert_ne!(hub_a.hub.instance(), hub_b.hub.instance());
    let data = tempfile::tempdir().unwrap();
    // Not running: the notices for the clinic stay queued, to be counted.
    let clinic = TestNode::open(&hub_a.url, CLINIC, data.path()).await;
    let case = clinic.node.open_case().await.unwrap();
    let mut draft = referral_draft(&case, &[WELFARE]);
    draft.urgency = Urgency::Emergency;
    sent(&clinic, &draft).await;

    clock.advance(time::Duration::minutes(61));
    let a = hub_a.hub.tick().await.unwrap();
    let b = hub_b.hub.tick().await.unwrap();
    assert!(
        a.checked && !b.checked,
        "A took the lease first: {a:?} {b:?}"
    );
    assert_eq!((a.escalations, b.escalations), (1, 0));
    assert_eq!(missed_levels(&hub_a.store).await, [1]);

    // A stops renewing, as a dead hub would; its lease (90 s) runs out long
    // before the second miss is due.
    clock.advance(time::Duration::minutes(61));
    let b = hub_b.hub.tick().await.unwrap();
    assert!(b.checked, "B took over the expired lease");
    assert_eq!(b.escalations, 1);
    assert!(!hub_a.hub.tick().await.unwrap().checked, "A lost it to B");
    assert_eq!(missed_levels(&hub_a.store).await, [1, 2]);

    // A graceful stop releases it: A checks again at once, and finds
    // nothing left to do twice.
    hub_b.stop().await;
    let a = hub_a.hub.tick().await.unwrap();
    assert!(a.checked);
    assert_eq!(a.escalations, 0);
    assert_eq!(missed_levels(&hub_a.store).await, [1, 2]);
    clinic.stop().await;
    hub_a.stop().await;
}

/// Referrals sent in the stream below.
const STREAM: usize = 45;

/// Three `tsunagu serve` processes on one database behind forwarders. The
/// clinic and the center reach hub A, child welfare hub B. The clinic sends
/// a stream of referrals to both; a third of the way in, A is killed with
/// SIGKILL. The clinic and the center reconnect to C and carry on; welfare,
/// on B, receives what went through A and then C. Counted at the end: lost
/// 0, duplicated 0 (in the nodes' records and in the hub's), each
/// recipient's deliveries stored in sequence order.
#[tokio::test]
#[cfg_attr(
    not(tsunagu_pg),
    ignore = "PostgreSQL not installed: install Debian's postgresql package or set TSUNAGU_TEST_PG_URL"
)]
async fn a_hub_killed_mid_stream_loses_nothing_and_duplicates_nothing() {
    let Db::Postgres(url) = Db::postgres().await else {
        unreachable!("a PostgreSQL database")
    };
    let logs = tempfile::tempdir().unwrap();
    let mut hubs: Vec<HubProcess> = ["a", "b", "c"]
        .iter()
        .map(|n| HubProcess::spawn_logged(&url, &logs.path().join(format!("hub-{n}.log"))))
        .collect();
    let (a, b, c) = (hubs[0].addr, hubs[1].addr, hubs[2].addr);
    let via_a = Forwarder::start(vec![a, c, b]).await;
    let via_b = Forwarder::start(vec![b, c, a]).await;
    let data = tempfile::tempdir().unwrap();
    // Running, so that what could not be sent while A died goes from the
    // outbox once the clinic reconnects.
    let mut clinic = TestNode::open(&via_a.url, CLINIC, data.path()).await;
    clinic.start();
    let mut center = TestNode::connect(&via_a.url, CENTER, data.path()).await;
    let mut welfare = TestNode::connect(&via_b.url, WELFARE, data.path()).await;
    let case = clinic.node.open_case().await.unwrap();

    // The last third waits for the kill, so that part of the stream surely
    // goes after it; the kill itself may land in the middle of a send.
    let (killed, after_kill) = tokio::sync::oneshot::channel::<()>();
    let node = clinic.node.clone();
    let stream = tokio::spawn(async move {
        let (mut ids, mut queued) = (Vec::new(), 0);
        let mut after_kill = Some(after_kill);
        for i in 0..STREAM {
            if i == 2 * STREAM / 3
                && let Some(after_kill) = after_kill.take()
            {
                after_kill.await.unwrap();
            }
            match node.send(&referral_draft(&case, &[CENTER, WELFARE])).await {
                Ok(Sent::Accepted { id, .. }) => ids.push(id),
                Ok(Sent::Queued { id, .. }) => {
                    queued += 1;
                    ids.push(id)
                }
                Err(e) => panic!("the clinic could not send: {e}"),
            }
        }
        (ids, queued)
    });
    for _ in 0..STREAM / 3 {
        welfare
            .wait_for(|e| matches!(e, NodeEvent::Stored { .. }))
            .await;
    }
    hubs[0].kill();
    let kill = Instant::now();
    killed.send(()).unwrap();
    // The center's socket was on A: it comes back, through C.
    center
        .wait_for(|e| matches!(e, NodeEvent::Connected { .. }))
        .await;
    let (ids, queued) = stream.await.unwrap();
    assert_eq!(ids.len(), STREAM);
    eprintln!("{queued} of {STREAM} sends went through the clinic's outbox after the kill");
    for id in &ids {
        center.wait_stored(*id).await;
        welfare.wait_stored(*id).await;
    }

    eprintln!(
        "every envelope stored at both recipients {:?} after the kill",
        kill.elapsed()
    );

    // The three hubs agreed on one holder of the deadline lease.
    let holders = ["a", "b", "c"]
        .iter()
        .map(|n| std::fs::read_to_string(logs.path().join(format!("hub-{n}.log"))).unwrap())
        .filter(|log| log.contains("this hub holds the lease"))
        .count();
    assert_eq!(holders, 1, "hubs that ran the deadline checks");

    let hub_store = store::open(&url).await.unwrap();
    for (node, id) in [(&center, CENTER), (&welfare, WELFARE)] {
        // Nothing lost, nothing twice: every id once, in the node's records…
        let inbox = node.node.records().inbox().await.unwrap();
        let mut stored: Vec<_> = inbox.iter().map(|r| r.envelope_id.clone()).collect();
        stored.sort();
        stored.dedup();
        assert_eq!((inbox.len(), stored.len()), (STREAM, STREAM), "{id}");
        for sent in &ids {
            assert!(
                inbox.iter().any(|r| r.envelope_id == sent.to_string()),
                "{id} lost {sent}"
            );
        }
        // …and in the hub's: one delivery per envelope, no more.
        assert_eq!(
            hub_store.last_seq(&agency(id)).await.unwrap(),
            Seq(STREAM as u64),
            "{id}"
        );
        // Stored in the order of the recipient's sequence.
        assert_eq!(
            storage_order(data.path(), id).await,
            (1..=STREAM as i64).collect::<Vec<_>>(),
            "{id}"
        );
    }
    hub_store.close().await;
    for n in [clinic, center, welfare] {
        n.stop().await;
    }
}

/// A node's inbox sequence numbers in the order it stored them.
async fn storage_order(data: &std::path::Path, node: &str) -> Vec<i64> {
    let mut db = node_db(data, node).await;
    sqlx::query_scalar("SELECT seq FROM inbox ORDER BY rowid")
        .fetch_all(&mut db)
        .await
        .unwrap()
}
