//! Backup and restore, drilled: hub and nodes exchange envelopes, an online
//! backup is taken while they run (`tsunagu admin backup`), more envelopes
//! follow, the hub stops and a fresh hub starts from the backup on the same
//! address. The nodes notice the new database epoch by themselves, resume
//! from what the restored hub holds and send again what it lost; every node
//! ends with every envelope once. The `drill` lines printed are the
//! measurements docs/operations.md §6 quotes.

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use tsunagu::agency::NodeEvent;
use tsunagu::agency::outbox::HubAnswer;
use tsunagu::hub::Limits;
use tsunagu::protocol::{CaseId, EnvelopeId};

use crate::helpers::*;

both_backends!(a_hub_restored_from_a_backup_leaves_every_node_with_every_envelope_once);

/// Envelopes before the backup, after it (lost by the restore), and after
/// the restore.
const BEFORE: usize = 20;
const AFTER: usize = 20;
const RESTORED: usize = 5;

async fn a_hub_restored_from_a_backup_leaves_every_node_with_every_envelope_once(db: Db) {
    let hub = TestHub::start(&db).await;
    let data = tempfile::tempdir().unwrap();
    let mut clinic = TestNode::connect(&hub.url, CLINIC, data.path()).await;
    let mut center = TestNode::connect(&hub.url, CENTER, data.path()).await;
    let mut welfare = TestNode::connect(&hub.url, WELFARE, data.path()).await;
    let case = clinic.node.open_case().await.unwrap();

    let before = send_all(&clinic, &case, BEFORE).await;
    stored_everywhere(&mut [&mut center, &mut welfare], &before).await;

    let backups = tempfile::tempdir().unwrap();
    let file = backups.path().join("hub.backup");
    let started = Instant::now();
    let (ok, out) = backup_cli(&db, hub.dir.path(), &file).await;
    assert!(ok, "{out}");
    let backup_ms = started.elapsed().as_millis();
    let size = std::fs::metadata(&file).unwrap().len();

    // Welfare is away while more is sent: only the clinic's resend after
    // the restore can bring it these.
    welfare.stop().await;
    let after = send_all(&clinic, &case, AFTER).await;
    stored_everywhere(&mut [&mut center], &after).await;

    // Receivers of their own: `answered` below skips every other event.
    let clinic_events = clinic.node.subscribe();
    let center_events = center.node.subscribe();
    let addr = hub.addr;
    hub.stop().await;
    let started = Instant::now();
    let (restored_db, dir) = restore(&db, &file).await;
    let hub = TestHub::start_with(&restored_db, Limits::default(), dir, Some(addr)).await;
    let restore_ms = started.elapsed().as_millis();

    // The clinic sends again what the restored hub lost; it answers
    // `duplicate` for everything it still holds.
    let answers = answered(&mut clinic, before.iter().chain(&after)).await;
    for id in &after {
        assert_eq!(answers[id], HubAnswer::Accepted { duplicate: false });
    }
    for id in &before {
        assert_eq!(answers[id], HubAnswer::Accepted { duplicate: true });
    }
    let mut welfare = TestNode::open(&hub.url, WELFARE, data.path()).await;
    welfare.start();
    stored_everywhere(&mut [&mut welfare], &after).await;
    let caught_up_ms = started.elapsed().as_millis();
    for (mut events, node) in [(clinic_events, &clinic), (center_events, &center)] {
        // Recorded with the chain's length before (the newest checkpoint
        // the node held) and after; the older checkpoints are kept, and a
        // restore is not taken for a rewritten history.
        let restore = hub_restored(&mut events).await;
        assert!(restore.chain_before.is_some() && restore.chain_after.is_some());
        let held = node.node.records().checkpoints().await.unwrap();
        assert!(held.iter().all(|c| c.contradicts.is_none()), "{held:?}");
        assert!(
            held.iter()
                .any(|c| c.count == restore.chain_before.unwrap())
        );
    }

    // New envelopes after the restore arrive too: the nodes' cursors
    // follow the restored hub's numbering.
    let later = send_all(&clinic, &case, RESTORED).await;
    stored_everywhere(&mut [&mut center, &mut welfare], &later).await;

    let everything: Vec<EnvelopeId> = [before, after, later].concat();
    for node in [&center, &welfare] {
        exactly_once(node, &everything).await;
    }
    for id in &everything {
        assert!(hub.store.envelope_body(*id).await.unwrap().is_some());
    }
    let restores = clinic.node.records().restores().await.unwrap();
    assert_eq!(restores.len(), 1, "{restores:?}");
    eprintln!(
        "drill ({}): {} envelopes, backup {backup_ms} ms, {size} bytes; restore {restore_ms} ms; all nodes caught up {caught_up_ms} ms after the restore began",
        if matches!(db, Db::Sqlite) {
            "SQLite"
        } else {
            "PostgreSQL"
        },
        everything.len() - RESTORED
    );
    for n in [clinic, center, welfare] {
        n.stop().await;
    }
    hub.stop().await;
}

/// The node's restore event (raised at the first checkpoint after it).
async fn hub_restored(
    events: &mut tokio::sync::broadcast::Receiver<NodeEvent>,
) -> tsunagu::store::records::RestoreRow {
    tokio::time::timeout(PATIENCE, async {
        loop {
            if let Ok(NodeEvent::HubRestored(restore)) = events.recv().await {
                return restore;
            }
        }
    })
    .await
    .expect("timed out waiting for the restore to be noticed")
}

async fn send_all(clinic: &TestNode, case: &CaseId, n: usize) -> Vec<EnvelopeId> {
    let mut ids = Vec::with_capacity(n);
    for _ in 0..n {
        ids.push(sent(clinic, &referral_draft(case, &[CENTER, WELFARE])).await);
    }
    ids
}

async fn stored_everywhere(nodes: &mut [&mut TestNode], ids: &[EnvelopeId]) {
    for node in nodes.iter_mut() {
        for id in ids {
            node.wait_stored(*id).await;
        }
    }
}

/// The hub's answer to each of `ids`, sent again from the outbox.
async fn answered<'a>(
    node: &mut TestNode,
    ids: impl Iterator<Item = &'a EnvelopeId>,
) -> std::collections::HashMap<EnvelopeId, HubAnswer> {
    let mut waiting: HashSet<EnvelopeId> = ids.copied().collect();
    let mut answers = std::collections::HashMap::new();
    while !waiting.is_empty() {
        if let NodeEvent::Answered { id, answer } = node
            .wait_for(|e| matches!(e, NodeEvent::Answered { .. }))
            .await
            && waiting.remove(&id)
        {
            answers.insert(id, answer);
        }
    }
    answers
}

/// Missing = 0 and duplicated = 0, counted by envelope id in the records.
async fn exactly_once(node: &TestNode, expected: &[EnvelopeId]) {
    let inbox = node.node.records().inbox().await.unwrap();
    let held: Vec<String> = inbox.iter().map(|r| r.envelope_id.clone()).collect();
    let distinct: BTreeSet<&String> = held.iter().collect();
    let expected: BTreeSet<String> = expected.iter().map(ToString::to_string).collect();
    let missing = expected.iter().filter(|id| !distinct.contains(id)).count();
    assert_eq!(missing, 0, "missing at {}", node.node.id());
    assert_eq!(
        held.len() - distinct.len(),
        0,
        "duplicated at {}",
        node.node.id()
    );
    assert_eq!(
        distinct.len(),
        expected.len(),
        "nothing else at {}",
        node.node.id()
    );
    let seqs: BTreeSet<i64> = inbox.iter().map(|r| r.seq).collect();
    assert_eq!(
        seqs.len(),
        inbox.len(),
        "each record keeps its own sequence"
    );
    assert_eq!(node.node.records().quarantined().await.unwrap(), 0);
}

/// `tsunagu admin backup` against the running hub's database.
async fn backup_cli(db: &Db, hub_dir: &Path, out: &Path) -> (bool, String) {
    let config = hub_dir.join("hub-backup.toml");
    let url = db.hub_url(hub_dir);
    std::fs::write(&config, format!("database_url = {url:?}\n")).unwrap();
    let args: Vec<String> = ["admin", "backup", "--config"]
        .iter()
        .map(ToString::to_string)
        .chain([
            config.display().to_string(),
            "--out".into(),
            out.display().to_string(),
        ])
        .collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run_tsunagu(&args)
    })
    .await
    .unwrap()
}

/// A fresh hub database from the backup: the file put in place, or the
/// dump restored into a new database of the same server.
async fn restore(db: &Db, file: &PathBuf) -> (Db, Arc<tempfile::TempDir>) {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    match db {
        Db::Sqlite => {
            std::fs::copy(file, dir.path().join("hub.db")).unwrap();
            (Db::Sqlite, dir)
        }
        Db::Postgres(_) => {
            let Db::Postgres(url) = Db::postgres().await else {
                unreachable!()
            };
            let status = tokio::process::Command::new("pg_restore")
                .arg("--no-owner")
                .arg("--exit-on-error")
                .arg("--dbname")
                .arg(&url)
                .arg(file)
                .status()
                .await
                .unwrap();
            assert!(status.success(), "pg_restore failed");
            (Db::Postgres(url), dir)
        }
    }
}
