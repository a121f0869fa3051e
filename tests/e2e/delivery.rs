//! Referrals travel from a clinic to the center and child welfare: stored,
//! verified, decrypted and acknowledged, exactly once, whatever restarts.

use tsunagu::agency::{NodeEvent, Sent};
use tsunagu::protocol::Seq;

use crate::helpers::*;

both_backends!(
    referral_reaches_both_recipients_and_not_the_nursery,
    offline_recipient_gets_everything_on_reconnect_exactly_once,
    accepted_referral_survives_a_hub_restart_and_arrives_once,
    a_node_that_reconnects_mid_stream_stores_each_envelope_once,
    sending_while_the_hub_is_down_queues_and_delivers_after_it_returns,
);

async fn referral_reaches_both_recipients_and_not_the_nursery(db: Db) {
    let hub = TestHub::start(&db).await;
    let data = tempfile::tempdir().unwrap();
    let clinic = TestNode::connect(&hub.url, CLINIC, data.path()).await;
    let mut center = TestNode::connect(&hub.url, CENTER, data.path()).await;
    let mut welfare = TestNode::connect(&hub.url, WELFARE, data.path()).await;
    let nursery = TestNode::connect(&hub.url, NURSERY, data.path()).await;

    let case = clinic.node.open_case().await.unwrap();
    let sent = clinic
        .node
        .send(&referral_draft(&case, &[CENTER, WELFARE]))
        .await
        .unwrap();
    let Sent::Accepted {
        id,
        duplicate: false,
    } = sent
    else {
        panic!("expected accepted, got {sent:?}")
    };
    center.wait_stored(id).await;
    welfare.wait_stored(id).await;

    for node in [&center, &welfare] {
        let row = node.node.records().inbox_item(id).await.unwrap().unwrap();
        assert_eq!(row.sender, CLINIC);
        assert!(row.payload.contains(MARKER), "decrypted referral is stored");
        assert!(row.payload.contains("助産師"), "the author names herself");
    }
    let outbox = clinic
        .node
        .records()
        .outbox_item(id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(outbox.status, "accepted");
    assert!(nursery.node.records().inbox().await.unwrap().is_empty());
    assert_eq!(hub.store.last_seq(&agency(NURSERY)).await.unwrap(), Seq(0));
    for n in [clinic, center, welfare, nursery] {
        n.stop().await;
    }
    hub.stop().await;
}

async fn offline_recipient_gets_everything_on_reconnect_exactly_once(db: Db) {
    let hub = TestHub::start(&db).await;
    let data = tempfile::tempdir().unwrap();
    let clinic = TestNode::connect(&hub.url, CLINIC, data.path()).await;
    let case = clinic.node.open_case().await.unwrap();

    // Welfare is offline while three referrals are sent.
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(sent(&clinic, &referral_draft(&case, &[WELFARE])).await);
    }
    let mut welfare = TestNode::open(&hub.url, WELFARE, data.path()).await;
    welfare.start();
    for id in &ids {
        welfare.wait_stored(*id).await;
    }
    // Stop the node and reconnect: nothing arrives twice.
    welfare.stop().await;
    let mut welfare = TestNode::connect(&hub.url, WELFARE, data.path()).await;
    let another = sent(&clinic, &referral_draft(&case, &[WELFARE])).await;
    welfare.wait_stored(another).await;
    let inbox = welfare.node.records().inbox().await.unwrap();
    let seqs: Vec<i64> = inbox.iter().rev().map(|r| r.seq).collect();
    assert_eq!(seqs, [1, 2, 3, 4]);
    clinic.stop().await;
    welfare.stop().await;
    hub.stop().await;
}

async fn accepted_referral_survives_a_hub_restart_and_arrives_once(db: Db) {
    let hub = TestHub::start(&db).await;
    let data = tempfile::tempdir().unwrap();
    let clinic = TestNode::connect(&hub.url, CLINIC, data.path()).await;
    let case = clinic.node.open_case().await.unwrap();
    let id = sent(&clinic, &referral_draft(&case, &[CENTER])).await;
    clinic.stop().await;
    let previous = (hub.addr, hub.dir.clone());
    hub.stop().await;

    let hub = TestHub::restart(&db, previous).await;
    let mut center = TestNode::connect(&hub.url, CENTER, data.path()).await;
    center.wait_stored(id).await;
    assert_eq!(center.node.records().inbox().await.unwrap().len(), 1);
    center.stop().await;
    hub.stop().await;
}

async fn a_node_that_reconnects_mid_stream_stores_each_envelope_once(db: Db) {
    let hub = TestHub::start(&db).await;
    let data = tempfile::tempdir().unwrap();
    let clinic = TestNode::connect(&hub.url, CLINIC, data.path()).await;
    let case = clinic.node.open_case().await.unwrap();
    let mut ids = Vec::new();
    for _ in 0..30 {
        let id = sent(&clinic, &referral_draft(&case, &[CENTER])).await;
        ids.push(id);
    }
    // The center stops right after its first stored delivery, mid-stream.
    let mut center = TestNode::open(&hub.url, CENTER, data.path()).await;
    center.start();
    center
        .wait_for(|e| matches!(e, NodeEvent::Stored { .. }))
        .await;
    center.stop().await;
    let mut center = TestNode::connect(&hub.url, CENTER, data.path()).await;
    for id in &ids {
        center.wait_stored(*id).await;
    }
    let inbox = center.node.records().inbox().await.unwrap();
    assert_eq!(inbox.len(), 30);
    clinic.stop().await;
    center.stop().await;
    hub.stop().await;
}

async fn sending_while_the_hub_is_down_queues_and_delivers_after_it_returns(db: Db) {
    let hub = TestHub::start(&db).await;
    let data = tempfile::tempdir().unwrap();
    let previous = (hub.addr, hub.dir.clone());
    let mut clinic = TestNode::open(&hub.url, CLINIC, data.path()).await;
    let case = clinic.node.open_case().await.unwrap();
    hub.stop().await;

    let Sent::Queued { id, .. } = clinic
        .node
        .send(&referral_draft(&case, &[CENTER]))
        .await
        .unwrap()
    else {
        panic!("expected queued while the hub is down")
    };
    assert_eq!(
        clinic
            .node
            .records()
            .outbox_item(id)
            .await
            .unwrap()
            .unwrap()
            .status,
        "pending"
    );

    let hub = TestHub::restart(&db, previous).await;
    clinic.start(); // the running node sends its outbox
    let mut center = TestNode::connect(&hub.url, CENTER, data.path()).await;
    center.wait_stored(id).await;
    clinic.stop().await;
    center.stop().await;
    hub.stop().await;
}

// SQLite only: it searches the hub's database files for plaintext.
#[tokio::test]
async fn the_hub_database_holds_no_plaintext() {
    let (hub, data, clinic, center, _) = referral_received(&Db::Sqlite).await;
    clinic.stop().await;
    center.stop().await;
    let dir = hub.dir.clone();
    hub.stop().await;

    let hub_files = files_containing(dir.path(), MARKER.as_bytes());
    assert!(
        hub_files.is_empty(),
        "plaintext found in hub files: {hub_files:?}"
    );
    let hub_files = files_containing(dir.path(), "やまだ".as_bytes());
    assert!(
        hub_files.is_empty(),
        "identity found in hub files: {hub_files:?}"
    );
    // The search itself works: it finds the marker where it is in clear.
    std::fs::write(data.path().join("probe"), MARKER).unwrap();
    assert!(!files_containing(data.path(), MARKER.as_bytes()).is_empty());
}

fn files_containing(dir: &std::path::Path, needle: &[u8]) -> Vec<std::path::PathBuf> {
    let mut hits = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let bytes = std::fs::read(&path).unwrap();
            if bytes.windows(needle.len()).any(|w| w == needle) {
                hits.push(path);
            }
        }
    }
    hits
}

// PostgreSQL only: two hubs share one database and wake each other by NOTIFY.
#[tokio::test]
#[cfg_attr(
    not(tsunagu_pg),
    ignore = "PostgreSQL not installed: install Debian's postgresql package or set TSUNAGU_TEST_PG_URL"
)]
async fn two_hub_processes_on_one_postgres_database_deliver_to_each_others_sockets() {
    let db = Db::postgres().await;
    let hub_a = TestHub::start(&db).await;
    let hub_b = TestHub::start(&db).await;
    let data = tempfile::tempdir().unwrap();
    let clinic = TestNode::connect(&hub_a.url, CLINIC, data.path()).await;
    let mut center = TestNode::connect(&hub_b.url, CENTER, data.path()).await;
    let case = clinic.node.open_case().await.unwrap();
    let id = sent(&clinic, &referral_draft(&case, &[CENTER])).await;
    // The center's socket is on hub B; only a NOTIFY from A's commit wakes it.
    center.wait_stored(id).await;
    clinic.stop().await;
    center.stop().await;
    hub_a.stop().await;
    hub_b.stop().await;
}
