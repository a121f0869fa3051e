//! Retention and legal hold: a real hub purges what every recipient
//! acknowledged once its period is over (judged by the hub clock the test
//! moves), keeps a held case and an unacknowledged delivery, still refuses
//! a purged envelope sent again, and its audit chain verifies with the
//! real binary. The admin commands refuse bad input and change nothing.

use std::path::Path;
use std::sync::Arc;

use sqlx::Connection;
use tsunagu::hub::clock::ManualClock;
use tsunagu::protocol::frame::SubmitStatus;
use tsunagu::protocol::{EnvelopeId, ErrorCode};

use crate::helpers::*;
use crate::refusals::{clinic_envelope_about, open_case, refused, resign};

both_backends!(
    a_purge_empties_what_every_recipient_acknowledged_and_keeps_the_rest,
    the_admin_commands_purge_on_demand_and_refuse_bad_input,
);

/// What the hub's database holds for an envelope: the body's length,
/// whether it was purged, and how many delivery rows it has.
async fn row(db: &Db, dir: &Path, id: EnvelopeId) -> (i64, bool, i64) {
    const SQL: &str = "SELECT CAST(length(body) AS BIGINT), \
         CAST(CASE WHEN purged_at IS NULL THEN 0 ELSE 1 END AS BIGINT), \
         (SELECT COUNT(*) FROM deliveries WHERE envelope_id = $1) FROM envelopes WHERE id = $1";
    let url = db.hub_url(dir);
    let (len, purged, deliveries): (i64, i64, i64) = match db {
        Db::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
            sqlx::query_as(SQL)
                .bind(id.to_string())
                .fetch_one(&mut c)
                .await
                .unwrap()
        }
        Db::Postgres(_) => {
            let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
            sqlx::query_as(SQL)
                .bind(id.to_string())
                .fetch_one(&mut c)
                .await
                .unwrap()
        }
    };
    (len, purged == 1, deliveries)
}

/// A hub.toml for the admin commands: the test hub's database, and
/// `extra` lines (a `[retention]` section).
fn hub_toml(db: &Db, dir: &Path, extra: &str) -> String {
    let path = dir.join("hub.toml");
    let url = db.hub_url(dir);
    std::fs::write(&path, format!("database_url = {url:?}\n{extra}")).unwrap();
    path.display().to_string()
}

fn admin(config: &str, args: &[&str]) -> (bool, String) {
    run_tsunagu(&admin_args(config, args))
}

fn admin_args<'a>(config: &'a str, args: &[&'a str]) -> Vec<&'a str> {
    let mut all = vec!["admin"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--config", config]);
    all
}

/// An admin command's `--json` answer (stdout only: the log goes to stderr).
fn admin_json(config: &str, args: &[&str]) -> serde_json::Value {
    let mut args = admin_args(config, args);
    args.push("--json");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tsunagu"))
        .args(&args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{args:?}: {stderr}");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{args:?}: {e}: {stderr}"))
}

/// The audit chain as exported by the real binary, after it verified.
fn verified_chain(db: &Db, dir: &Path) -> Vec<serde_json::Value> {
    let url = db.hub_url(dir);
    let (ok, text) = run_tsunagu(&["audit", "verify", "--database-url", &url]);
    assert!(ok, "the chain verifies: {text}");
    let (ok, text) = run_tsunagu(&["audit", "export", "--database-url", &url]);
    assert!(ok, "{text}");
    text.lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn events<'a>(chain: &'a [serde_json::Value], name: &str) -> Vec<&'a serde_json::Value> {
    chain.iter().filter(|e| e["event"] == name).collect()
}

/// An entry's detail (exported as the JSON text the chain hashes).
fn detail(entry: &serde_json::Value) -> serde_json::Value {
    serde_json::from_str(entry["detail"].as_str().unwrap()).unwrap()
}

async fn a_purge_empties_what_every_recipient_acknowledged_and_keeps_the_rest(db: Db) {
    let clock = Arc::new(ManualClock::new());
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let hub = TestHub::start_with_clock(&db, dir.clone(), None, clock.clone()).await;
    let data = tempfile::tempdir().unwrap();
    let mut center = TestNode::connect(&hub.url, CENTER, data.path()).await;
    let client = client_as(&hub, CLINIC);
    let (case, held_case) = (open_case(&client).await, open_case(&client).await);
    let delivered = clinic_envelope_about(&case, &[CENTER]);
    let held = clinic_envelope_about(&held_case, &[CENTER]);
    // The child-welfare office's node is not running: never acknowledged.
    let unacked = clinic_envelope_about(&case, &[WELFARE]);
    for e in [&delivered, &held, &unacked] {
        client.submit_envelope(e).await.unwrap();
    }
    center.wait_stored(delivered.meta().id).await;
    center.wait_stored(held.meta().id).await;
    center.stop().await;
    // A stopped hub has ended its sessions: every ack they carried is committed.
    let addr = hub.addr;
    hub.stop().await;
    let config = hub_toml(&db, dir.path(), "");
    let reason = "家庭裁判所からの保全要請（山田様の件）";
    let (ok, text) = admin(
        &config,
        &[
            "hold",
            "add",
            "--case",
            held_case.as_str(),
            "--reason",
            reason,
        ],
    );
    assert!(ok, "{text}");

    let hub = TestHub::start_with_clock(&db, dir.clone(), Some(addr), clock.clone()).await;
    let full = row(&db, dir.path(), delivered.meta().id).await.0;
    assert!(full > 0);
    hub.hub.tick().await.unwrap();
    assert_eq!(
        row(&db, dir.path(), delivered.meta().id).await,
        (full, false, 1),
        "within its period"
    );

    // Past the default 30 days (and the hourly purge interval) on the hub clock.
    clock.advance(time::Duration::days(31));
    hub.hub.tick().await.unwrap();
    assert_eq!(
        row(&db, dir.path(), delivered.meta().id).await,
        (0, true, 1),
        "the body is gone; the delivery row stays as the disclosure record"
    );
    let (held_len, held_purged, _) = row(&db, dir.path(), held.meta().id).await;
    assert!(held_len > 0 && !held_purged, "a held case survives");
    let (unacked_len, unacked_purged, _) = row(&db, dir.path(), unacked.meta().id).await;
    assert!(
        unacked_len > 0 && !unacked_purged,
        "an unacknowledged delivery survives"
    );

    // Sent again after the purge: a duplicate, delivered to nobody again;
    // the id with other content: refused as a reused id.
    let last = hub.store.last_seq(&agency(CENTER)).await.unwrap();
    let again = client_as(&hub, CLINIC)
        .submit_envelope(&delivered)
        .await
        .unwrap();
    assert_eq!(again.status, SubmitStatus::Duplicate);
    let other = resign(clinic_envelope_about(&case, &[CENTER]), |meta, _| {
        meta.id = delivered.meta().id
    });
    let body = refused(&client_as(&hub, CLINIC), &other).await;
    assert_eq!(body.code, ErrorCode::EnvelopeIdReused);
    assert_eq!(hub.store.last_seq(&agency(CENTER)).await.unwrap(), last);
    assert_eq!(
        row(&db, dir.path(), delivered.meta().id).await,
        (0, true, 1)
    );
    hub.stop().await;

    let chain = verified_chain(&db, dir.path());
    let purges = events(&chain, "retention_purged");
    assert_eq!(purges.len(), 1, "one entry for the purge");
    let purged = detail(purges[0]);
    assert_eq!(
        purged["counts"],
        serde_json::json!({ "referral": 1 }),
        "{purged}"
    );
    assert_eq!(purged["operator"], "hub");
    assert!(purged["cutoffs"]["referral"].is_string(), "{purged}");
    let holds = events(&chain, "legal_hold_added");
    assert_eq!(holds.len(), 1);
    assert_eq!(holds[0]["subject"], held_case.as_str());
    assert!(
        detail(holds[0])["operator"]
            .as_str()
            .is_some_and(|o| !o.is_empty())
    );
    let text = serde_json::to_string(&chain).unwrap();
    assert!(
        !text.contains("山田"),
        "the reason text stays out of the chain"
    );
}

async fn the_admin_commands_purge_on_demand_and_refuse_bad_input(db: Db) {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let clock = Arc::new(ManualClock::new());
    let hub = TestHub::start_with_clock(&db, dir.clone(), None, clock).await;
    let data = tempfile::tempdir().unwrap();
    let mut center = TestNode::connect(&hub.url, CENTER, data.path()).await;
    let client = client_as(&hub, CLINIC);
    let case = open_case(&client).await;
    let delivered = clinic_envelope_about(&case, &[CENTER]);
    client.submit_envelope(&delivered).await.unwrap();
    center.wait_stored(delivered.meta().id).await;
    center.stop().await;
    hub.stop().await;
    // Kept for no time at all once acknowledged: the on-demand purge takes it.
    let config = hub_toml(&db, dir.path(), "[retention]\ndefault_days = 0\n");
    let id = delivered.meta().id;

    for (args, expected) in [
        (
            vec!["hold", "add", "--case", "case-unknown", "--reason", "r"],
            "ハブはこの事例IDを知りません",
        ),
        (
            vec!["hold", "add", "--case", "Not A Case!", "--reason", "r"],
            "事例IDの形式が正しくありません",
        ),
        (
            vec!["hold", "add", "--case", case.as_str(), "--reason", "  "],
            "保全の理由が空です",
        ),
        (
            vec!["hold", "release", "--case", case.as_str()],
            "法的保全中ではありません",
        ),
    ] {
        let (ok, text) = admin(&config, &args);
        assert!(!ok && text.contains(expected), "{args:?}: {text}");
    }
    let (ok, text) = run_tsunagu(&[
        "--lang",
        "en",
        "admin",
        "hold",
        "release",
        "--case",
        case.as_str(),
        "--config",
        &config,
    ]);
    assert!(!ok && text.contains("not under legal hold"), "{text}");
    let holds = admin_json(&config, &["hold", "list"]);
    assert_eq!(holds, serde_json::json!([]));

    // Held: neither the dry run nor the purge counts it.
    let (ok, text) = admin(
        &config,
        &[
            "hold",
            "add",
            "--case",
            case.as_str(),
            "--reason",
            "監査請求",
        ],
    );
    assert!(ok, "{text}");
    let (ok, text) = admin(
        &config,
        &["hold", "add", "--case", case.as_str(), "--reason", "again"],
    );
    assert!(!ok && text.contains("すでに法的保全中"), "{text}");
    let holds = admin_json(&config, &["hold", "list"]);
    assert_eq!(holds[0]["case_id"], case.as_str());
    assert_eq!(holds[0]["reason"], "監査請求");
    let report = admin_json(&config, &["purge"]);
    assert_eq!(report["counts"], serde_json::json!({}), "{report}");
    let (ok, text) = admin(&config, &["hold", "release", "--case", case.as_str()]);
    assert!(ok, "{text}");

    let report = admin_json(&config, &["purge", "--dry-run"]);
    assert_eq!(
        report["counts"],
        serde_json::json!({ "referral": 1 }),
        "{report}"
    );
    assert!(
        !row(&db, dir.path(), id).await.1,
        "a dry run changes nothing"
    );
    let (ok, text) = admin(&config, &["purge"]);
    assert!(
        ok && text.contains("削除しました") && text.contains("referral: 1"),
        "{text}"
    );
    assert_eq!(row(&db, dir.path(), id).await, (0, true, 1));
    let (ok, text) = admin(&config, &["purge"]);
    assert!(ok && text.contains("削除の対象はありません"), "{text}");

    let chain = verified_chain(&db, dir.path());
    let purges = events(&chain, "retention_purged");
    assert_eq!(
        purges.len(),
        1,
        "only a purge that removed something is an entry"
    );
    assert_ne!(
        purges[0]["detail"]["operator"], "hub",
        "the operator's account"
    );
    assert_eq!(
        events(&chain, "legal_hold_added").len(),
        1,
        "refusals wrote nothing"
    );
    assert_eq!(events(&chain, "legal_hold_released").len(), 1);
}
