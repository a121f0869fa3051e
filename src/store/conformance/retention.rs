//! Retention and legal hold: what a purge empties, what it keeps, and that
//! a held case or an unacknowledged delivery is never purged.

use std::sync::Arc;

use super::support::{
    agency, allow, audit_chain, audit_events, case_id, envelope, first_miss, meta, notices,
    record_consent, sealed, stored, under_consent, with,
};
use crate::protocol::notice::Notice;
use crate::protocol::{EnvelopeId, MessageKind, Metadata, Seq, Timestamp};
use crate::store::model::{Effects, FactsQuery};
use crate::store::retention::{HoldOutcome, PurgeScope, ReleaseOutcome};
use crate::store::{AcceptOutcome, HubStore, NewEnvelope};

const REFERRALS: PurgeScope = PurgeScope::Kind(MessageKind::Referral);

/// A cutoff past every acknowledgement made so far.
fn after_now() -> Timestamp {
    Timestamp::from_datetime(time::OffsetDateTime::now_utc() + time::Duration::seconds(1))
}

/// Stored and acknowledged by every recipient.
async fn delivered(store: &Arc<dyn HubStore>, e: &NewEnvelope) -> EnvelopeId {
    for (recipient, seq) in stored(store, e, allow()).await {
        store.ack(&recipient, seq).await.unwrap();
    }
    e.envelope.meta().id
}

async fn body(store: &Arc<dyn HubStore>, id: EnvelopeId) -> Vec<u8> {
    store.envelope_body(id).await.unwrap().unwrap()
}

pub async fn a_purge_empties_acknowledged_bodies_and_a_resend_is_still_refused(
    store: Arc<dyn HubStore>,
) {
    let e = envelope(&["center", "welfare"], b"ciphertext");
    let id = delivered(&store, &e).await;
    let before =
        Timestamp::from_datetime(time::OffsetDateTime::now_utc() - time::Duration::days(1));
    assert_eq!(
        store.purgeable(REFERRALS, &before).await.unwrap(),
        0,
        "acked after the cutoff"
    );
    assert_eq!(store.purgeable(REFERRALS, &after_now()).await.unwrap(), 1);
    let entries = audit_chain(&store).await.len();

    assert_eq!(
        store
            .purge_batch(REFERRALS, &after_now(), 10)
            .await
            .unwrap(),
        1
    );
    assert!(body(&store, id).await.is_empty(), "the body is gone");
    assert_eq!(store.purgeable(REFERRALS, &after_now()).await.unwrap(), 0);
    assert_eq!(
        store
            .purge_batch(REFERRALS, &after_now(), 10)
            .await
            .unwrap(),
        0,
        "once"
    );
    // The same bytes again are a duplicate (nothing queued again); the id
    // with other bytes is refused: the digest outlives the body.
    let again = store
        .accept(e.clone(), FactsQuery::default(), allow())
        .await;
    assert_eq!(again.unwrap(), AcceptOutcome::Duplicate);
    assert_eq!(store.last_seq(&agency("center")).await.unwrap(), Seq(1));
    let forged = sealed(
        Metadata {
            id,
            ..meta("clinic", &["center"])
        },
        b"forged",
    );
    let reused = store.accept(forged, FactsQuery::default(), allow()).await;
    assert_eq!(reused.unwrap(), AcceptOutcome::IdReused);
    assert!(body(&store, id).await.is_empty(), "nothing stored again");
    // The store audits neither: the caller audits each purge (one entry
    // for all its batches), the hub each refusal.
    assert_eq!(
        audit_chain(&store).await.len(),
        entries,
        "the chain untouched"
    );
}

pub async fn an_unacknowledged_delivery_keeps_the_body(store: Arc<dyn HubStore>) {
    let e = envelope(&["center", "welfare"], b"half delivered");
    let seqs = stored(&store, &e, allow()).await;
    store.ack(&seqs[0].0, seqs[0].1).await.unwrap();
    assert_eq!(
        store
            .purge_batch(REFERRALS, &after_now(), 10)
            .await
            .unwrap(),
        0
    );
    assert_eq!(body(&store, e.envelope.meta().id).await, e.body);
    store.ack(&seqs[1].0, seqs[1].1).await.unwrap();
    assert_eq!(
        store
            .purge_batch(REFERRALS, &after_now(), 10)
            .await
            .unwrap(),
        1
    );
}

pub async fn each_kind_is_purged_on_its_own(store: Arc<dyn HubStore>) {
    let note = sealed(
        Metadata {
            kind: MessageKind::CaseNote,
            ..meta("clinic", &["center"])
        },
        b"note",
    );
    let referral = delivered(&store, &envelope(&["center"], b"r")).await;
    let note = delivered(&store, &note).await;
    let notes = PurgeScope::Kind(MessageKind::CaseNote);
    assert_eq!(store.purge_batch(notes, &after_now(), 10).await.unwrap(), 1);
    assert!(body(&store, note).await.is_empty());
    assert!(
        !body(&store, referral).await.is_empty(),
        "another kind, kept"
    );
}

pub async fn a_purge_runs_in_batches_of_the_size_asked(store: Arc<dyn HubStore>) {
    for i in 0..5u8 {
        delivered(&store, &envelope(&["center"], &[i])).await;
    }
    let mut batches = Vec::new();
    loop {
        let n = store.purge_batch(REFERRALS, &after_now(), 2).await.unwrap();
        batches.push(n);
        if n < 2 {
            break;
        }
    }
    assert_eq!(batches, [2, 2, 1]);
}

pub async fn a_held_case_is_kept_until_its_hold_is_released(store: Arc<dyn HubStore>) {
    let case = case_id("case-held");
    store.open_case(&case, &agency("clinic")).await.unwrap();
    let e = sealed(
        Metadata {
            case_id: Some(case.clone()),
            ..meta("clinic", &["center"])
        },
        b"held",
    );
    let id = delivered(&store, &e).await;
    let reason = "family court order for 山田 (a name must stay out of the chain)";
    let held = store.add_hold(&case, reason, "alice").await.unwrap();
    assert_eq!(held, HoldOutcome::Held);
    let again = store.add_hold(&case, "again", "bob").await.unwrap();
    assert_eq!(again, HoldOutcome::AlreadyHeld);
    let unknown = store.add_hold(&case_id("no-such-case"), "x", "alice").await;
    assert_eq!(unknown.unwrap(), HoldOutcome::UnknownCase);
    let holds = store.holds().await.unwrap();
    assert_eq!(holds.len(), 1);
    assert_eq!(
        (holds[0].reason.as_str(), holds[0].held_by.as_str()),
        (reason, "alice")
    );

    assert_eq!(store.purgeable(REFERRALS, &after_now()).await.unwrap(), 0);
    assert_eq!(
        store
            .purge_batch(REFERRALS, &after_now(), 10)
            .await
            .unwrap(),
        0
    );
    assert_eq!(body(&store, id).await, e.body, "held: kept");

    let released = store.release_hold(&case, "carol").await.unwrap();
    assert_eq!(released, ReleaseOutcome::Released);
    let not_held = store.release_hold(&case, "carol").await.unwrap();
    assert_eq!(not_held, ReleaseOutcome::NotHeld);
    assert!(store.holds().await.unwrap().is_empty());
    assert_eq!(
        store
            .purge_batch(REFERRALS, &after_now(), 10)
            .await
            .unwrap(),
        1
    );

    let chain = audit_chain(&store).await;
    let holds: Vec<_> = chain
        .iter()
        .filter(|e| e.event.starts_with("legal_hold"))
        .collect();
    assert_eq!(
        holds.len(),
        2,
        "one entry each for the hold and the release"
    );
    assert_eq!(holds[0].subject.as_deref(), Some("case-held"));
    assert!(holds[0].detail.contains("alice") && holds[1].detail.contains("carol"));
    assert!(
        chain.iter().all(|e| !e.detail.contains("山田")),
        "no reason text"
    );
}

pub async fn the_referral_loop_and_withdrawals_work_after_a_purge(store: Arc<dyn HubStore>) {
    let case = case_id("case-loop");
    store.open_case(&case, &agency("clinic")).await.unwrap();
    let consent = record_consent(&store, &case, None).await;
    let deadline = Timestamp::now();
    let effects = Effects {
        open_referral: Some(deadline),
        ..Effects::default()
    };
    let referral = sealed(under_consent("clinic", &["center"], &case, consent), b"r");
    for (recipient, seq) in stored(&store, &referral, with(effects)).await {
        store.ack(&recipient, seq).await.unwrap();
    }
    assert_eq!(
        store
            .purge_batch(REFERRALS, &after_now(), 10)
            .await
            .unwrap(),
        1
    );

    // 受理 is still awaited and its deadline still escalates.
    let due = store.due_referrals(&deadline).await.unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].referral, referral.envelope.meta().id);
    // A consent ending still reaches the agency that holds the purged
    // envelope, naming it.
    assert!(store.expire_consent(consent, &after_now()).await.unwrap());
    let ended = notices(&store, "center").await;
    assert!(
        ended
            .iter()
            .any(|n| matches!(n, Notice::ConsentEnded { envelopes, .. }
            if envelopes == &[referral.envelope.meta().id])),
        "{ended:?}"
    );
}

pub async fn acknowledged_notices_are_deleted_and_pending_ones_kept(store: Arc<dyn HubStore>) {
    let deadline = Timestamp::now();
    let effects = Effects {
        open_referral: Some(deadline),
        ..Effects::default()
    };
    stored(&store, &envelope(&["center"], b"r"), with(effects)).await;
    let due = store.due_referrals(&deadline).await.unwrap().pop().unwrap();
    let notice = first_miss(&due);
    let to = vec![
        (agency("clinic"), notice.clone()),
        (agency("nursery"), notice),
    ];
    assert!(store.escalate(&due, &Timestamp::LATEST, to).await.unwrap());
    store.ack(&agency("clinic"), Seq(1)).await.unwrap();

    let notices_scope = PurgeScope::Notices;
    assert_eq!(
        store.purgeable(notices_scope, &after_now()).await.unwrap(),
        1
    );
    assert_eq!(
        store
            .purge_batch(notices_scope, &after_now(), 10)
            .await
            .unwrap(),
        1
    );
    assert_eq!(notices(&store, "nursery").await.len(), 1, "unacked: kept");
    assert_eq!(
        store
            .purge_batch(REFERRALS, &after_now(), 10)
            .await
            .unwrap(),
        0,
        "unacked"
    );
    assert_eq!(
        store.last_seq(&agency("clinic")).await.unwrap(),
        Seq(1),
        "cursor kept"
    );
    assert!(
        audit_events(&store)
            .await
            .contains(&"escalation".to_owned())
    );
}

/// How many envelopes the purge measurement seeds.
pub(crate) const MEASURED: i64 = 100_000;

/// 100 000 referrals (2 KiB bodies) to the center, all acknowledged:
/// (envelopes, deliveries) statements, `$1` the count, `$2` the time.
const SQLITE_SEED: [&str; 2] = [
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1) \
     INSERT INTO envelopes (id, sender, kind, urgency, categories, created_at, accepted_at, \
     digest, body, recipients) SELECT printf('00000000-0000-4000-8000-%012d', i), 'clinic', \
     'referral', 'normal', '[]', $2, $2, randomblob(32), randomblob(2048), '[]' FROM n",
    "INSERT INTO deliveries (recipient, seq, envelope_id, acked_at) \
     SELECT 'center', rowid, id, $2 FROM envelopes WHERE $1 > 0",
];
const PG_SEED: [&str; 2] = [
    "INSERT INTO envelopes (id, sender, kind, urgency, categories, created_at, accepted_at, \
     digest, body, recipients) SELECT '00000000-0000-4000-8000-' || lpad(i::text, 12, '0'), \
     'clinic', 'referral', 'normal', '[]', $2, $2, decode(md5(i::text) || md5(i::text), 'hex'), \
     convert_to(repeat(md5(i::text), 64), 'UTF8'), '[]' FROM generate_series(1, $1) i",
    "INSERT INTO deliveries (recipient, seq, envelope_id, acked_at) \
     SELECT 'center', row_number() OVER (ORDER BY id), id, $2 FROM envelopes WHERE $1 > 0",
];

/// A SQLite hub store in `dir` holding [`MEASURED`] delivered and
/// acknowledged referrals, seeded straight in SQL (for the purge
/// measurement in `hub::retention`).
pub(crate) async fn seeded_sqlite(dir: &std::path::Path) -> Arc<dyn HubStore> {
    use sqlx::Connection;
    let url = crate::store::testing::sqlite_url(dir, "hub.db");
    let store = crate::store::open(&url).await.unwrap();
    let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
    for sql in SQLITE_SEED {
        sqlx::query(sql)
            .bind(MEASURED)
            .bind(Timestamp::now())
            .execute(&mut c)
            .await
            .unwrap();
    }
    store
}

/// The same on a fresh PostgreSQL database.
pub(crate) async fn seeded_postgres() -> Arc<dyn HubStore> {
    use sqlx::Connection;
    let url = crate::store::testing::fresh_pg_url().await;
    let store = crate::store::open(&url).await.unwrap();
    let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
    for sql in PG_SEED {
        sqlx::query(sql)
            .bind(MEASURED)
            .bind(Timestamp::now())
            .execute(&mut c)
            .await
            .unwrap();
    }
    store
}
