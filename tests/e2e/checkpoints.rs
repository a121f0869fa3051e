//! History anchored outside the hub: nodes keep the hub's signed audit
//! checkpoints, `tsunagu audit verify --checkpoints` catches with them what
//! the chain alone cannot (a deleted tail, a chain recomputed after an
//! edit), a node notices a rewritten history itself, and a node acts only
//! on notices the hub signed for it at their position.

use std::path::PathBuf;

use axum::Router;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::routing::get;
use sqlx::Connection;
use tokio::sync::mpsc;
use tsunagu::agency::NodeEvent;
use tsunagu::agency::sealed::seal_draft;
use tsunagu::crypto::hub_signed::{sign_checkpoint, sign_notice, verify_checkpoint};
use tsunagu::crypto::keys::{generate_signing_key, load_signing_key};
use tsunagu::directory::Directory;
use tsunagu::protocol::checkpoint::{Checkpoint, CheckpointFile};
use tsunagu::protocol::frame::{ClientFrame, HubFrame};
use tsunagu::protocol::notice::{ConsentEnd, SignedNotice};
use tsunagu::protocol::{CaseId, ConsentId, Notice, Seq, Timestamp};

use crate::helpers::*;
use crate::newer_hub::serve_fake;

both_backends!(
    a_node_keeps_checkpoints_and_an_intact_chain_passes_with_them,
    a_deleted_tail_of_the_audit_chain_is_caught_with_a_nodes_checkpoints,
    a_chain_recomputed_after_an_edit_is_caught_with_a_nodes_checkpoints,
);

/// A hub that carried a consent and a referral, with the center's node
/// connected again after it (so the checkpoint after its welcome covers the
/// traffic); both nodes stopped, the hub still running.
struct Traffic {
    hub: TestHub,
    data: tempfile::TempDir,
    /// The chain length of the center's newest checkpoint.
    count: u64,
}

async fn traffic(db: &Db) -> Traffic {
    let hub = TestHub::start(db).await;
    let data = tempfile::tempdir().unwrap();
    let clinic = TestNode::connect(&hub.url, CLINIC, data.path()).await;
    let mut center = TestNode::connect(&hub.url, CENTER, data.path()).await;
    consented_referral(&clinic, &mut center).await;
    center.stop().await;
    clinic.stop().await;
    let mut center = TestNode::connect(&hub.url, CENTER, data.path()).await;
    let count = checkpoint_count(&mut center).await;
    center.stop().await;
    Traffic { hub, data, count }
}

async fn checkpoint_count(node: &mut TestNode) -> u64 {
    match node
        .wait_for(|e| matches!(e, NodeEvent::Checkpoint { .. }))
        .await
    {
        NodeEvent::Checkpoint { count } => count,
        _ => unreachable!(),
    }
}

/// The stopped hub's database and the center's exported checkpoints.
struct Held {
    url: String,
    export: PathBuf,
    count: u64,
    _hub_dir: std::sync::Arc<tempfile::TempDir>,
    _data: tempfile::TempDir,
}

async fn held(db: &Db) -> Held {
    let Traffic { hub, data, count } = traffic(db).await;
    let url = db.hub_url(hub.dir.path());
    let hub_dir = hub.dir.clone();
    let config = agency_toml(data.path(), &hub.url, CENTER);
    hub.stop().await;
    let export = data.path().join("checkpoints.json");
    let (ok, text) = run_tsunagu(&[
        "agency",
        "checkpoints",
        "export",
        "--config",
        &config,
        "--out",
        export.to_str().unwrap(),
    ]);
    assert!(ok, "{text}");
    Held {
        url,
        export,
        count,
        _hub_dir: hub_dir,
        _data: data,
    }
}

/// `audit verify` alone, and with the node's checkpoints.
fn verify(held: &Held) -> ((bool, String), (bool, String)) {
    let directory = certs().join("directory.toml");
    let alone = run_tsunagu(&["audit", "verify", "--database-url", &held.url]);
    let with = run_tsunagu(&[
        "audit",
        "--lang",
        "en",
        "verify",
        "--database-url",
        &held.url,
        "--checkpoints",
        held.export.to_str().unwrap(),
        "--directory",
        directory.to_str().unwrap(),
    ]);
    (alone, with)
}

async fn a_node_keeps_checkpoints_and_an_intact_chain_passes_with_them(db: Db) {
    let held = held(&db).await;
    let file: CheckpointFile =
        serde_json::from_str(&std::fs::read_to_string(&held.export).unwrap()).unwrap();
    assert_eq!(file.agency, agency(CENTER));
    // One after each welcome: the first connection's and the reconnection's.
    assert!(file.checkpoints.len() >= 2, "{file:?}");
    let hub_key = Directory::load(&certs().join("directory.toml")).unwrap();
    let newest = file.checkpoints.last().unwrap();
    let newest = verify_checkpoint(newest, hub_key.hub_signing_key()).unwrap();
    assert_eq!(newest.count, held.count);

    let (_, (ok, text)) = verify(&held);
    assert!(ok, "{text}");
    assert!(
        text.contains(&format!("checkpoints checked: {}", file.checkpoints.len())),
        "{text}"
    );
}

/// Change the hub's database directly, as an intruder with write access
/// could: each statement with its binds.
async fn tamper(db: &Db, url: &str, statements: Vec<(&'static str, Vec<Bind>)>) {
    macro_rules! run {
        ($conn:expr) => {{
            let mut conn = $conn;
            for (sql, binds) in &statements {
                let mut q = sqlx::query(*sql);
                for b in binds {
                    q = match b {
                        Bind::Int(v) => q.bind(*v),
                        Bind::Text(v) => q.bind(v.clone()),
                        Bind::Bytes(v) => q.bind(v.clone()),
                    };
                }
                q.execute(&mut conn).await.unwrap();
            }
            conn.close().await.unwrap();
        }};
    }
    match db {
        Db::Sqlite => run!(sqlx::SqliteConnection::connect(url).await.unwrap()),
        Db::Postgres(_) => run!(sqlx::PgConnection::connect(url).await.unwrap()),
    }
}

enum Bind {
    Int(i64),
    Text(Option<String>),
    Bytes(Vec<u8>),
}

/// Delete every entry after the first `keep`.
async fn truncate(db: &Db, url: &str, keep: u64) {
    let sql = "DELETE FROM audit_log WHERE seq > $1";
    let keep = i64::try_from(keep).unwrap();
    tamper(db, url, vec![(sql, vec![Bind::Int(keep)])]).await;
}

async fn a_deleted_tail_of_the_audit_chain_is_caught_with_a_nodes_checkpoints(db: Db) {
    let held = held(&db).await;
    truncate(&db, &held.url, held.count - 3).await;
    let ((ok, text), (caught, report)) = verify(&held);
    assert!(ok, "the chain alone cannot see a deleted tail: {text}");
    assert!(!caught, "verify --checkpoints must fail: {report}");
    assert!(
        report.contains(&format!(
            "the chain has {} entries, fewer than the {} this checkpoint signed",
            held.count - 3,
            held.count
        )),
        "{report}"
    );
    assert!(report.contains("minato-center"), "{report}");
}

/// Edit entry `seq` and recompute every hash after it, so the chain
/// verifies again: what an intruder who knows the hash function does.
async fn rewrite_from(db: &Db, url: &str, seq: i64) {
    let store = tsunagu::store::open(url).await.unwrap();
    let mut entries = store.audit_entries(None, None).await.unwrap();
    store.close().await;
    let start = entries.iter().position(|e| e.seq == seq).unwrap();
    entries[start].agency = Some(NURSERY.into());
    let mut statements = Vec::new();
    for i in start..entries.len() {
        let prev = entries[i - 1].hash.clone();
        entries[i].prev_hash = prev.clone();
        entries[i].hash = entries[i].expected_hash(&prev).to_vec();
        let e = &entries[i];
        statements.push((
            "UPDATE audit_log SET agency = $1, prev_hash = $2, hash = $3 WHERE seq = $4",
            vec![
                Bind::Text(e.agency.clone()),
                Bind::Bytes(e.prev_hash.clone()),
                Bind::Bytes(e.hash.clone()),
                Bind::Int(e.seq),
            ],
        ));
    }
    tamper(db, url, statements).await;
}

async fn a_chain_recomputed_after_an_edit_is_caught_with_a_nodes_checkpoints(db: Db) {
    let held = held(&db).await;
    rewrite_from(&db, &held.url, 4).await;
    let ((ok, text), (caught, report)) = verify(&held);
    assert!(ok, "the recomputed chain alone looks intact: {text}");
    assert!(!caught, "verify --checkpoints must fail: {report}");
    assert!(
        report.contains(&format!("entry {} has hash", held.count))
            && report.contains("the chain was rewritten"),
        "{report}"
    );
}

/// While a node stays connected, the chain's growth reaches it as a new
/// checkpoint at the next `checkpoint_interval_secs` tick (1 s here; the
/// wait is bounded only by the tests' patience).
#[tokio::test]
async fn a_connected_node_gets_a_new_checkpoint_once_the_chain_grows() {
    let limits = tsunagu::hub::Limits {
        checkpoint_interval_secs: 1,
        ..Default::default()
    };
    let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
    let hub = TestHub::start_with(&Db::Sqlite, limits, dir, None).await;
    let data = tempfile::tempdir().unwrap();
    let mut center = TestNode::connect(&hub.url, CENTER, data.path()).await;
    let first = checkpoint_count(&mut center).await;
    // Another agency's connection is audited: the chain grows.
    let clinic = TestNode::connect(&hub.url, CLINIC, data.path()).await;
    let grown = center
        .wait_for(|e| {
            matches!(e, NodeEvent::Checkpoint { count } if *count > first)
                || matches!(e, NodeEvent::Disconnected { .. })
        })
        .await;
    assert!(
        matches!(grown, NodeEvent::Checkpoint { .. }),
        "on the same socket: {grown:?}"
    );
    let held = center.node.records().checkpoints().await.unwrap();
    assert_eq!(held.len(), 2, "{held:?}");
    clinic.stop().await;
    center.stop().await;
    hub.stop().await;
}

/// The node itself sees a shorter chain than one the hub signed before,
/// raises it, keeps it as evidence, and its operator's command says so.
#[tokio::test]
async fn a_node_notices_when_the_hub_comes_back_with_a_shorter_history() {
    let db = Db::Sqlite;
    let Traffic { hub, data, count } = traffic(&db).await;
    let (addr, dir) = (hub.addr, hub.dir.clone());
    let url = db.hub_url(dir.path());
    hub.stop().await;
    truncate(&db, &url, count - 5).await;
    let hub = TestHub::restart(&db, (addr, dir)).await;
    let mut center = TestNode::open(&hub.url, CENTER, data.path()).await;
    center.start();
    let reason = match center
        .wait_for(|e| matches!(e, NodeEvent::HistoryRewritten { .. }))
        .await
    {
        NodeEvent::HistoryRewritten { reason } => reason,
        _ => unreachable!(),
    };
    assert!(reason.contains(&format!("had {count} entries")), "{reason}");
    center.stop().await;
    let config = agency_toml(data.path(), &hub.url, CENTER);
    let (ok, text) = run_tsunagu(&["agency", "checkpoints", "show", "--config", &config]);
    assert!(!ok, "a contradiction must fail the command: {text}");
    assert!(
        text.contains("ハブの監査ログが書き換えられた可能性があります"),
        "{text}"
    );
    hub.stop().await;
}

/// A file the hub never signed (another key), and a file with nothing to
/// check, are refused by name.
#[tokio::test]
async fn checkpoints_signed_by_another_key_or_none_at_all_are_refused_by_name() {
    let held = held(&Db::Sqlite).await;
    let forged = CheckpointFile {
        agency: agency(CENTER),
        checkpoints: vec![sign_checkpoint(
            &generate_signing_key(),
            &Checkpoint {
                count: 1,
                head: [0; 32],
                at: Timestamp::now(),
            },
        )],
    };
    std::fs::write(&held.export, serde_json::to_string(&forged).unwrap()).unwrap();
    let (_, (ok, text)) = verify(&held);
    assert!(
        !ok && text.contains("the hub's signature does not verify"),
        "{text}"
    );

    let empty = CheckpointFile {
        agency: agency(CENTER),
        checkpoints: vec![],
    };
    std::fs::write(&held.export, serde_json::to_string(&empty).unwrap()).unwrap();
    let (_, (ok, text)) = verify(&held);
    assert!(
        !ok && text.contains("the file holds no checkpoint"),
        "{text}"
    );

    std::fs::write(&held.export, "{}").unwrap();
    let (_, (ok, text)) = verify(&held);
    assert!(!ok && text.contains("not a checkpoint file"), "{text}");
}

/// Send `frames` after the node's hello; report every frame the node sends.
async fn scripted(
    mut ws: WebSocket,
    frames: Vec<String>,
    seen: mpsc::UnboundedSender<ClientFrame>,
) {
    let Some(Ok(Message::Text(hello))) = ws.recv().await else {
        return;
    };
    let _ = seen.send(serde_json::from_str(&hello).unwrap());
    for frame in frames {
        if ws.send(Message::Text(frame.into())).await.is_err() {
            return;
        }
    }
    while let Some(Ok(Message::Text(frame))) = ws.recv().await {
        let _ = seen.send(serde_json::from_str(&frame).unwrap());
    }
}

/// A hub that forges: notices unsigned, signed for another agency or
/// position, or by another key, all saying a consent ended for a record the
/// node holds; a checkpoint signed by another key. None is acted on or
/// kept; each notice is quarantined and acknowledged, and the stream goes
/// on to what the hub did sign.
#[tokio::test]
async fn forged_notices_are_quarantined_and_change_no_record_and_a_forged_checkpoint_is_not_kept() {
    let certs = certs();
    let directory = Directory::load(&certs.join("directory.toml")).unwrap();
    let clinic_key =
        load_signing_key(&certs.join("agencies").join(CLINIC).join("signing-key.txt")).unwrap();
    let case: CaseId = "case-1".parse().unwrap();
    let envelope = seal_draft(
        &agency(CLINIC),
        &clinic_key,
        &directory,
        &referral_draft(&case, &[CENTER]),
    )
    .unwrap();
    let id = envelope.meta().id;
    let ended = Notice::ConsentEnded {
        consent_id: ConsentId::new(),
        case_id: case.clone(),
        reason: ConsentEnd::Withdrawn,
        envelopes: vec![id],
        sent: vec![],
        ended_by: None,
        withdrawal: None,
    };
    let due = Notice::PlanReviewDue {
        plan_id: tsunagu::protocol::ids::PlanId::new(),
        version: 1,
        case_id: case.clone(),
        review_on: "2026-12-01".parse().unwrap(),
    };
    let (hub, forger) = (hub_signing_key(), generate_signing_key());
    let center = agency(CENTER);
    let notice = |seq: u64, signed: Option<SignedNotice>| HubFrame::Notice {
        seq: Seq(seq),
        notice: ended.clone(),
        signed,
    };
    let checkpoint = |count: u64| Checkpoint {
        count,
        head: [9; 32],
        at: Timestamp::now(),
    };
    let frames: Vec<String> = [
        HubFrame::Welcome {
            agency: center.clone(),
            last_seq: Seq(6),
            directory_version: 0,
            epoch: None,
        },
        HubFrame::Deliver {
            seq: Seq(1),
            envelope: String::from_utf8(envelope.bytes().to_vec()).unwrap(),
        },
        notice(2, None),
        notice(3, Some(sign_notice(&hub, &agency(CLINIC), Seq(3), &ended))),
        notice(4, Some(sign_notice(&hub, &center, Seq(2), &ended))),
        notice(5, Some(sign_notice(&forger, &center, Seq(5), &ended))),
        HubFrame::Checkpoint(sign_checkpoint(&forger, &checkpoint(10))),
        HubFrame::Checkpoint(sign_checkpoint(&hub, &checkpoint(3))),
        // The unsigned object says the consent ended; the signed text, the
        // only part a node reads, is a review reminder.
        notice(6, Some(sign_notice(&hub, &center, Seq(6), &due))),
    ]
    .iter()
    .map(|f| serde_json::to_string(f).unwrap())
    .collect();
    let (seen_tx, mut seen) = mpsc::unbounded_channel();
    let app = Router::new().route(
        "/v1/socket",
        get(move |upgrade: WebSocketUpgrade| {
            let (frames, seen) = (frames.clone(), seen_tx.clone());
            async move { upgrade.on_upgrade(move |ws| scripted(ws, frames, seen)) }
        }),
    );
    let addr = serve_fake(app).await;
    let data = tempfile::tempdir().unwrap();
    let mut node = TestNode::open(
        &format!("https://127.0.0.1:{}", addr.port()),
        CENTER,
        data.path(),
    )
    .await;
    node.start();

    let mut quarantined = Vec::new();
    let mut refused = Vec::new();
    loop {
        match node.wait_for(|_| true).await {
            NodeEvent::Quarantined { reason, .. } => quarantined.push(reason),
            NodeEvent::CheckpointRefused { reason } => refused.push(reason),
            NodeEvent::Notice { seq, notice } => {
                assert_eq!((seq, notice), (Seq(6), due.clone()));
                break;
            }
            NodeEvent::Disconnected { reason } => panic!("no reconnect expected: {reason}"),
            _ => {}
        }
    }
    assert_eq!(quarantined.len(), 4, "{quarantined:?}");
    assert!(
        quarantined[0].contains("not signed by the hub"),
        "{quarantined:?}"
    );
    for reason in &quarantined[1..] {
        assert!(reason.contains("signature does not verify"), "{reason}");
    }
    assert_eq!(refused.len(), 1, "{refused:?}");

    let records = node.node.records();
    let row = records
        .inbox_item(id)
        .await
        .unwrap()
        .expect("the referral is held");
    assert_eq!(row.consent_end_reason, None, "no forged notice marked it");
    let notices = records.notices().await.unwrap();
    assert_eq!(notices.len(), 1);
    assert_eq!(notices[0].0, "plan_review_due");
    let held = records.checkpoints().await.unwrap();
    assert_eq!(held.len(), 1, "only the hub's checkpoint is kept");
    assert_eq!(held[0].count, 3);
    assert_eq!(records.quarantined().await.unwrap(), 4);
    assert_eq!(records.cursor().await.unwrap(), Seq(6));
    assert!(matches!(seen.recv().await, Some(ClientFrame::Hello { .. })));
    for seq in 1..=6 {
        assert_eq!(seen.recv().await, Some(ClientFrame::Ack { seq: Seq(seq) }));
    }
    node.stop().await;
}
