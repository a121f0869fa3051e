//! The audit chain: every security-relevant event, and `tsunagu audit
//! verify` naming the first entry someone deleted or edited.

use sqlx::Connection;
use tsunagu::protocol::ErrorCode;

use crate::helpers::*;

both_backends!(
    every_security_relevant_event_is_in_the_chain_and_it_verifies,
    an_edited_audit_row_is_named_by_verify,
    a_deleted_audit_row_is_named_by_verify,
    an_export_from_a_whole_second_keeps_the_entries_inside_it,
);

fn audit(args: &[&str]) -> (bool, String) {
    run_tsunagu(&[&["audit"], args].concat())
}

/// The stopped hub's database, and the directories to keep until the test
/// ends (the hub's holds its SQLite file).
struct Day {
    url: String,
    _hub_dir: std::sync::Arc<tempfile::TempDir>,
    _data: tempfile::TempDir,
}

/// A hub that saw a consent, a referral, a refusal and acks, then stopped.
async fn a_day_at_the_hub(db: &Db) -> Day {
    let hub = TestHub::start(db).await;
    let data = tempfile::tempdir().unwrap();
    let clinic = TestNode::connect(&hub.url, CLINIC, data.path()).await;
    let mut center = TestNode::connect(&hub.url, CENTER, data.path()).await;
    let (case, scope) = consented_referral(&clinic, &mut center).await;
    refused_with(
        &clinic,
        &consent_referral_draft(&case, scope.consent_id, &[NURSERY]),
        ErrorCode::RecipientNotCovered,
    )
    .await;
    clinic.stop().await;
    center.stop().await;
    let day = Day {
        url: db.hub_url(hub.dir.path()),
        _hub_dir: hub.dir.clone(),
        _data: data,
    };
    hub.stop().await;
    day
}

fn events(export: &str) -> Vec<String> {
    export
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["event"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

async fn every_security_relevant_event_is_in_the_chain_and_it_verifies(db: Db) {
    let day = a_day_at_the_hub(&db).await;
    let url = &day.url;
    let (ok, text) = audit(&["verify", "--database-url", url]);
    assert!(ok, "{text}");
    assert!(text.contains("改ざんはありません"), "{text}");
    let (ok, export) = audit(&["export", "--database-url", url, "--format", "jsonl"]);
    assert!(ok, "{export}");
    let events = events(&export);
    for expected in [
        "connection_opened",
        "case_opened",
        "consent_recorded",
        "envelope_accepted",
        "delivery_acked",
        "refused",
    ] {
        assert!(
            events.iter().any(|e| e == expected),
            "{expected} missing from {events:?}"
        );
    }
    let (ok, csv) = audit(&[
        "--lang",
        "en",
        "export",
        "--database-url",
        url,
        "--format",
        "csv",
    ]);
    assert!(
        ok && csv.starts_with("seq,at,event,agency,subject,detail,prev_hash,hash"),
        "{csv}"
    );
}

/// Change the hub's database directly, as an intruder with write access
/// could.
async fn tamper(db: &Db, url: &str, sql: &'static str) {
    match db {
        Db::Sqlite => {
            let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
            sqlx::query(sql).execute(&mut conn).await.unwrap();
            conn.close().await.unwrap();
        }
        Db::Postgres(_) => {
            let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
            sqlx::query(sql).execute(&mut conn).await.unwrap();
            conn.close().await.unwrap();
        }
    }
}

async fn an_edited_audit_row_is_named_by_verify(db: Db) {
    let day = a_day_at_the_hub(&db).await;
    let url = &day.url;
    tamper(
        &db,
        url,
        "UPDATE audit_log SET agency = 'hikari-nursery' WHERE seq = 4",
    )
    .await;
    let (ok, text) = audit(&["verify", "--database-url", url]);
    assert!(!ok, "verify must fail: {text}");
    assert!(text.contains("#4"), "{text}");
}

async fn a_deleted_audit_row_is_named_by_verify(db: Db) {
    let day = a_day_at_the_hub(&db).await;
    let url = &day.url;
    tamper(&db, url, "DELETE FROM audit_log WHERE seq = 6").await;
    let (ok, text) = audit(&["--lang", "en", "verify", "--database-url", url]);
    assert!(!ok, "verify must fail: {text}");
    assert!(text.contains("#6") && text.contains("missing"), "{text}");
}

/// (seq, at) of every entry in a JSON Lines export.
fn stamped(export: &str) -> Vec<(i64, String)> {
    export
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["seq"].as_i64().unwrap(),
                v["at"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// As text, `2026-11-23T00:00:00Z` sorts after `2026-11-23T00:00:00.123Z`
/// ('Z' > '.'): an export from a whole second must still keep the entries
/// inside that second.
async fn an_export_from_a_whole_second_keeps_the_entries_inside_it(db: Db) {
    let day = a_day_at_the_hub(&db).await;
    let db = &day.url;
    let (ok, all) = audit(&["export", "--database-url", db]);
    assert!(ok, "{all}");
    let all = stamped(&all);
    let (seq, at) = all
        .iter()
        .find(|(_, at)| !at.ends_with(".000Z"))
        .expect("an entry stamped inside a second");
    assert_eq!(at.len(), "2026-11-23T00:00:00.123Z".len(), "{at}");
    let second = format!("{}Z", &at[..19]);

    let (ok, from) = audit(&["export", "--database-url", db, "--from", &second]);
    assert!(ok, "{from}");
    assert!(stamped(&from).iter().any(|(s, _)| s == seq), "{from}");
    let (ok, before) = audit(&["export", "--database-url", db, "--to", &second]);
    assert!(ok, "{before}");
    assert!(!stamped(&before).iter().any(|(s, _)| s == seq), "{before}");
}

#[tokio::test]
async fn an_export_bound_that_is_not_an_instant_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let db = tsunagu::store::testing::sqlite_url(dir.path(), "hub.db");
    for (bad, says) in [
        ("yesterday", "expected RFC 3339 in UTC"),
        ("2026-11-23T09:00:00+09:00", "expected RFC 3339 in UTC"),
        (
            "2026-11-23T00:00:00.1234Z",
            "at most three fractional digits",
        ),
    ] {
        let (ok, text) = audit(&["export", "--database-url", &db, "--from", bad]);
        assert!(!ok && text.contains(says), "{bad}: {text}");
    }
}

/// An export is recorded with the OS account that ran it, even where `USER`
/// is unset (under systemd or cron): never as "unknown".
#[tokio::test]
async fn an_export_names_its_operator_without_user_in_the_environment() {
    let day = a_day_at_the_hub(&Db::Sqlite).await;
    let url = day.url.as_str();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tsunagu"))
        .args([
            "audit",
            "export",
            "--database-url",
            url,
            "--format",
            "jsonl",
        ])
        .env_remove("USER")
        .env_remove("SUDO_USER")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let (ok, export) = audit(&["export", "--database-url", url, "--format", "jsonl"]);
    assert!(ok, "{export}");
    let exported: serde_json::Value = export
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|e| e["event"] == "audit_exported")
        .expect("the first export is in the chain");
    let detail: serde_json::Value =
        serde_json::from_str(exported["detail"].as_str().unwrap()).unwrap();
    assert_eq!(detail["operator"], whoami::username().unwrap(), "{detail}");
}
