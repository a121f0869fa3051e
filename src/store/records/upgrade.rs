//! Records written while timestamps were text come through the migration to
//! milliseconds as the same instants, the outbox in the same order.

use sqlx::SqlitePool;
use sqlx::sqlite::SqlitePoolOptions;

use super::Records;
use crate::protocol::{EnvelopeId, Timestamp};

/// The last agency migration that stored timestamps as text.
const TEXT_TIME: i64 = 3;

async fn old_records(url: &str) -> SqlitePool {
    let pool = SqlitePoolOptions::new()
        .connect_with(crate::store::sqlite::connect_options(url).unwrap())
        .await
        .unwrap();
    sqlx::migrate!("migrations/agency")
        .run_to(TEXT_TIME, &pool)
        .await
        .unwrap();
    pool
}

const OUTBOX: &str = "INSERT INTO outbox (envelope_id, recipients, kind, case_id, urgency, \
     created_at, envelope, payload, status, updated_at, next_attempt_at) \
     VALUES ($1, '[\"center\"]', 'referral', NULL, 'normal', $2, x'7b7d', '{}', 'pending', $2, 0)";

#[tokio::test]
async fn text_timestamps_become_the_same_instants_and_the_outbox_keeps_its_order() {
    let dir = tempfile::tempdir().unwrap();
    let url = crate::store::testing::sqlite_url(dir.path(), "node.db");
    let pool = old_records(&url).await;
    // Written later but inserted first: order is by rowid, never by time.
    let (first, second) = (EnvelopeId::new(), EnvelopeId::new());
    for (id, at) in [
        (first, "2026-11-23T00:00:00.123Z"),
        (second, "2026-11-22T23:59:59.999Z"),
    ] {
        sqlx::query(OUTBOX)
            .bind(id.to_string())
            .bind(at)
            .execute(&pool)
            .await
            .unwrap();
    }
    sqlx::query(
        "INSERT INTO inbox (envelope_id, seq, sender, kind, case_id, urgency, created_at, \
         received_at, envelope, payload, consent_ended_at) VALUES \
         ($1, 1, 'clinic', 'referral', NULL, 'normal', '2026-11-23T00:00:00.000Z', \
         '2026-11-23T00:00:01.500Z', x'7b7d', '{}', '2026-11-24T00:00:00.001Z')",
    )
    .bind(first.to_string())
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;

    let records = Records::open(&url).await.unwrap();
    let outbox = records.outbox().await.unwrap();
    let listed: Vec<(String, String)> = outbox
        .iter()
        .map(|r| (r.envelope_id.clone(), r.created_at.to_string()))
        .collect();
    assert_eq!(
        listed,
        [
            (second.to_string(), "2026-11-22T23:59:59.999Z".to_owned()),
            (first.to_string(), "2026-11-23T00:00:00.123Z".to_owned()),
        ]
    );
    let due: Vec<EnvelopeId> = records
        .due_outbox(10)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.id)
        .collect();
    assert_eq!(due, [first, second]);
    let inbox = records.inbox_item(first).await.unwrap().unwrap();
    let instant = |s: &str| s.parse::<Timestamp>().unwrap();
    assert_eq!(inbox.created_at, instant("2026-11-23T00:00:00Z"));
    assert_eq!(inbox.received_at, instant("2026-11-23T00:00:01.5Z"));
    let (ended,): (i64,) = sqlx::query_as("SELECT consent_ended_at FROM inbox")
        .fetch_one(&records.pool)
        .await
        .unwrap();
    assert_eq!(ended, instant("2026-11-24T00:00:00.001Z").unix_millis());
    records.close().await;
}
