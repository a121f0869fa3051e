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
    // Staff see the restore, and it is not reported as a rewritten history.
    let config = agency_toml(data.path(), &hub.url, CLINIC);
    let (ok, text) = tokio::task::spawn_blocking(move || {
        run_tsunagu(&["agency", "checkpoints", "show", "--config", &config])
    })
    .await
    .unwrap();
    assert!(ok, "{text}");
    assert!(
        text.contains("ハブはバックアップから復元されました"),
        "{text}"
    );
    assert!(text.contains(&restores[0].to_epoch), "{text}");
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

#[tokio::test]
async fn a_backup_is_owner_only_audited_and_its_copy_starts_a_new_epoch() {
    use std::os::unix::fs::PermissionsExt;
    let hub = TestHub::start(&Db::Sqlite).await;
    let data = tempfile::tempdir().unwrap();
    let node = TestNode::connect(&hub.url, CENTER, data.path()).await;
    let (live, _) = hub.store.epoch().await.unwrap();
    let out = data.path().join("hub.backup");
    let (ok, text) = backup_cli(&Db::Sqlite, hub.dir.path(), &out).await;
    assert!(ok, "{text}");
    assert!(text.contains("バックアップを書き出しました"), "{text}");
    let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "owner-only");
    assert_eq!(leftovers(data.path()), vec!["hub.backup".to_owned()]);

    let chain = hub.store.audit_entries(None, None).await.unwrap();
    let taken = chain.last().unwrap();
    assert_eq!(taken.event, "backup_taken");
    let detail: serde_json::Value = serde_json::from_str(&taken.detail).unwrap();
    let size = std::fs::metadata(&out).unwrap().len();
    assert_eq!(detail["size"], size);
    assert!(
        detail["operator"]
            .as_str()
            .is_some_and(|o| !o.is_empty() && o != "unknown")
    );
    assert_eq!(
        detail["audit_count"],
        chain.len() as u64 - 1,
        "the head at the backup"
    );

    // The copy, put in place, begins its own epoch.
    let restored = tempfile::tempdir().unwrap();
    std::fs::copy(&out, restored.path().join("hub.db")).unwrap();
    let copy = tsunagu::store::open(&Db::Sqlite.hub_url(restored.path()))
        .await
        .unwrap();
    let (epoch, made) = copy.epoch().await.unwrap();
    assert!(
        made && epoch.id != live.id,
        "a restored copy presents another epoch"
    );
    copy.close().await;
    node.stop().await;
    hub.stop().await;
}

#[tokio::test]
async fn a_backup_refuses_bad_input_and_changes_nothing() {
    let hub = TestHub::start(&Db::Sqlite).await;
    let dir = tempfile::tempdir().unwrap();
    let chain = hub.store.audit_entries(None, None).await.unwrap().len();
    let config = dir.path().join("hub.toml");
    let url = Db::Sqlite.hub_url(hub.dir.path());
    std::fs::write(&config, format!("database_url = {url:?}\n")).unwrap();
    let existing = dir.path().join("taken.backup");
    std::fs::write(&existing, "an older backup").unwrap();
    let pg_config = dir.path().join("pg.toml");
    std::fs::write(
        &pg_config,
        "database_url = \"postgres://127.0.0.1:1/tsunagu\"\n",
    )
    .unwrap();

    let absent = dir.path().join("absent.toml");
    let no_dir = dir.path().join("no/such/dir/x.backup");
    let cases = [
        (
            "no config",
            &absent,
            dir.path().join("x.backup"),
            "ハブの設定ファイルを読み込めません",
        ),
        (
            "an existing out",
            &config,
            existing.clone(),
            "すでにあります",
        ),
        ("an unwritable out", &config, no_dir, "書き込めません"),
        (
            "PostgreSQL without pg_dump",
            &pg_config,
            dir.path().join("pg.backup"),
            "pg_dump",
        ),
    ];
    for (which, config, out, says) in cases {
        // An empty PATH: the PostgreSQL URL finds no pg_dump.
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_tsunagu"))
            .args(["admin", "backup", "--config"])
            .arg(config)
            .arg("--out")
            .arg(&out)
            .env("PATH", dir.path())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{which}: {text}");
        assert!(text.contains(says), "{which}: {text}");
    }
    assert_eq!(
        std::fs::read_to_string(&existing).unwrap(),
        "an older backup"
    );
    let mut left = leftovers(dir.path());
    left.sort();
    assert_eq!(left, ["hub.toml", "pg.toml", "taken.backup"]);
    assert_eq!(
        hub.store.audit_entries(None, None).await.unwrap().len(),
        chain
    );
    hub.stop().await;
}

/// The names in `dir`: no temporary file may stay behind.
fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with(".db") && !n.contains(".db-") && !n.ends_with(".wake"))
        .collect()
}

#[tokio::test]
async fn new_epoch_marks_a_database_restored_by_hand_and_is_audited() {
    let hub = TestHub::start(&Db::Sqlite).await;
    let (before, _) = hub.store.epoch().await.unwrap();
    let config = hub.dir.path().join("hub-new-epoch.toml");
    let url = Db::Sqlite.hub_url(hub.dir.path());
    std::fs::write(&config, format!("database_url = {url:?}\n")).unwrap();
    let config = config.display().to_string();
    let (ok, text) = tokio::task::spawn_blocking(move || {
        run_tsunagu(&["admin", "new-epoch", "--config", &config])
    })
    .await
    .unwrap();
    assert!(ok, "{text}");
    let (after, made) = hub.store.epoch().await.unwrap();
    assert!(!made && after.id != before.id, "{text}");
    assert!(text.contains(after.id.as_str()), "{text}");
    let chain = hub.store.audit_entries(None, None).await.unwrap();
    let renewed = chain.last().unwrap();
    assert_eq!(renewed.event, "epoch_renewed");
    assert!(renewed.detail.contains(after.id.as_str()));
    hub.stop().await;
}
