//! Envelope version 2: the signature covers the bytes the sender sent, and
//! those bytes travel unchanged from the sender's outbox through the hub's
//! store to the recipient's records.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sqlx::{Connection, PgConnection, SqliteConnection};
use tsunagu::agency::NodeEvent;
use tsunagu::agency::client::{ClientError, HubClient};
use tsunagu::agency::sealed::{seal_draft, verify_envelope};
use tsunagu::crypto::{keys, sign};
use tsunagu::directory::Directory;
use tsunagu::protocol::frame::SubmitStatus;
use tsunagu::protocol::{Envelope, EnvelopeId, ErrorBody, ErrorCode, Seq};

use crate::helpers::*;

both_backends!(
    the_same_bytes_travel_from_outbox_to_hub_to_inbox,
    a_version_1_envelope_is_refused_naming_both_versions_and_nothing_is_stored,
    metadata_bytes_changed_in_ways_a_re_encoding_would_undo_are_refused,
    a_resend_is_a_duplicate_only_if_its_bytes_are_the_same,
    the_recipient_verifies_the_bytes_it_received_and_quarantines_altered_ones,
    a_backlog_with_an_altered_delivery_inside_stores_the_rest_in_order_and_acks_them_all,
);

fn directory() -> Directory {
    Directory::load(&certs().join("directory.toml")).unwrap()
}

fn clinic_key() -> ed25519_dalek::SigningKey {
    let path = certs()
        .join("agencies")
        .join(CLINIC)
        .join("signing-key.txt");
    keys::load_signing_key(&path).unwrap()
}

async fn open_case(client: &HubClient) -> tsunagu::protocol::CaseId {
    let opened: tsunagu::protocol::api::CaseOpened = client
        .post("/v1/cases", &serde_json::json!({}))
        .await
        .unwrap();
    opened.case_id
}

/// A properly sealed referral from the clinic to the center.
async fn clinic_referral(client: &HubClient) -> Envelope {
    let case = open_case(client).await;
    let draft = referral_draft(&case, &[CENTER]);
    seal_draft(&agency(CLINIC), &clinic_key(), &directory(), &draft).unwrap()
}

/// `envelope` with a space added to its metadata bytes: the same metadata to
/// a verifier that re-encodes, but no longer the bytes the sender signed.
fn with_meta_respaced(envelope: &Envelope) -> Envelope {
    let mut spaced = envelope.meta_json().to_vec();
    spaced.insert(1, b' ');
    Envelope::assemble(
        spaced,
        envelope.ciphertext().to_vec(),
        envelope.signature().to_vec(),
    )
    .unwrap()
}

async fn refused(client: &HubClient, bytes: Vec<u8>) -> ErrorBody {
    match client.submit(bytes).await {
        Err(ClientError::Refused(body)) => body,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

async fn assert_not_stored(hub: &TestHub, id: EnvelopeId) {
    assert_eq!(hub.store.envelope_body(id).await.unwrap(), None);
    assert_eq!(hub.store.last_seq(&agency(CENTER)).await.unwrap(), Seq(0));
}

enum Table {
    Outbox,
    Inbox,
}

/// The envelope column of a node's own records, read straight from its
/// database file.
async fn node_envelope(
    data: &std::path::Path,
    node: &str,
    table: Table,
    id: EnvelopeId,
) -> Vec<u8> {
    let mut conn = node_db(data, node).await;
    let sql = match table {
        Table::Outbox => "SELECT envelope FROM outbox WHERE envelope_id = ?",
        Table::Inbox => "SELECT envelope FROM inbox WHERE envelope_id = ?",
    };
    let (bytes,): (Vec<u8>,) = sqlx::query_as(sql)
        .bind(id.to_string())
        .fetch_one(&mut conn)
        .await
        .unwrap();
    bytes
}

async fn the_same_bytes_travel_from_outbox_to_hub_to_inbox(db: Db) {
    let (hub, data, clinic, center, id) = referral_received(&db).await;

    let in_outbox = node_envelope(data.path(), CLINIC, Table::Outbox, id).await;
    let at_hub = hub.store.envelope_body(id).await.unwrap().unwrap();
    let in_inbox = node_envelope(data.path(), CENTER, Table::Inbox, id).await;
    assert_eq!(at_hub, in_outbox, "the hub stores what the sender sent");
    assert_eq!(in_inbox, at_hub, "the recipient stores what the hub stored");
    // And those bytes are a v2 envelope whose signature verifies as they are.
    let envelope = Envelope::parse(in_inbox).unwrap();
    verify_envelope(&envelope, &directory()).unwrap();
    let wire: serde_json::Value = serde_json::from_slice(envelope.bytes()).unwrap();
    assert_eq!(wire["version"], 2);
    clinic.stop().await;
    center.stop().await;
    hub.stop().await;
}

/// What a v1 sender put on the wire: metadata as a JSON object, signed
/// after re-encoding.
fn version_1_bytes(e: &Envelope) -> Vec<u8> {
    let meta_json = serde_json::to_vec(e.meta()).unwrap();
    let mut signed = b"tsunagu/envelope/v1\0".to_vec();
    signed.extend_from_slice(&1u32.to_be_bytes());
    signed.extend_from_slice(&(meta_json.len() as u64).to_be_bytes());
    signed.extend_from_slice(&meta_json);
    signed.extend_from_slice(e.ciphertext());
    let signature = sign::sign(&clinic_key(), &signed);
    serde_json::to_vec(&serde_json::json!({
        "version": 1,
        "meta": e.meta(),
        "ciphertext": STANDARD.encode(e.ciphertext()),
        "signature": STANDARD.encode(signature),
    }))
    .unwrap()
}

async fn a_version_1_envelope_is_refused_naming_both_versions_and_nothing_is_stored(db: Db) {
    let hub = TestHub::start(&db).await;
    let client = client_as(&hub, CLINIC);
    let e = clinic_referral(&client).await;
    let body = refused(&client, version_1_bytes(&e)).await;
    assert_eq!(body.code, ErrorCode::UnsupportedVersion);
    assert_eq!(
        body.message_en,
        "envelope version 1 is no longer accepted; this hub speaks version 2"
    );
    assert!(
        body.message.contains("版 1") && body.message.contains("版 2"),
        "{}",
        body.message
    );
    assert_not_stored(&hub, e.meta().id).await;
    let entries = hub.store.audit_entries(None, None).await.unwrap();
    let last = entries.last().unwrap();
    assert_eq!(last.event, "refused");
    assert!(
        last.detail.contains("unsupported_version"),
        "{}",
        last.detail
    );
    // The same content as version 2 goes through.
    let accepted = client.submit_envelope(&e).await.unwrap();
    assert_eq!(accepted.status, SubmitStatus::Accepted);
    hub.stop().await;
}

async fn metadata_bytes_changed_in_ways_a_re_encoding_would_undo_are_refused(db: Db) {
    let hub = TestHub::start(&db).await;
    let client = client_as(&hub, CLINIC);
    let e = clinic_referral(&client).await;
    let mut spaced = e.meta_json().to_vec();
    spaced.insert(1, b' ');
    // serde_json's map is sorted: the fields come back in another order.
    let value: serde_json::Value = serde_json::from_slice(e.meta_json()).unwrap();
    let reordered = serde_json::to_vec(&value).unwrap();
    assert_ne!(reordered, e.meta_json());
    for meta_json in [spaced, reordered] {
        let forged =
            Envelope::assemble(meta_json, e.ciphertext().to_vec(), e.signature().to_vec()).unwrap();
        assert_eq!(forged.meta(), e.meta(), "the same metadata once parsed");
        let body = refused(&client, forged.bytes().to_vec()).await;
        assert_eq!(body.code, ErrorCode::BadSignature);
    }
    assert_not_stored(&hub, e.meta().id).await;
    hub.stop().await;
}

async fn a_resend_is_a_duplicate_only_if_its_bytes_are_the_same(db: Db) {
    let hub = TestHub::start(&db).await;
    let client = client_as(&hub, CLINIC);
    let e = clinic_referral(&client).await;
    let first = client.submit(e.bytes().to_vec()).await.unwrap();
    assert_eq!(first.status, SubmitStatus::Accepted);
    // Whitespace around the object is not part of the envelope.
    let mut padded = e.bytes().to_vec();
    padded.push(b'\n');
    let again = client.submit(padded).await.unwrap();
    assert_eq!(again.status, SubmitStatus::Duplicate);
    // Re-formatted inside: the signature still verifies (it covers the
    // metadata and payload, not the outer JSON), but these are other bytes
    // under the same id.
    let value: serde_json::Value = serde_json::from_slice(e.bytes()).unwrap();
    let pretty = serde_json::to_vec_pretty(&value).unwrap();
    let reformatted = Envelope::parse(pretty.clone()).unwrap();
    verify_envelope(&reformatted, &directory()).unwrap();
    let body = refused(&client, pretty).await;
    assert_eq!(body.code, ErrorCode::EnvelopeIdReused);
    let kept = hub.store.envelope_body(e.meta().id).await.unwrap();
    assert_eq!(kept.as_deref(), Some(e.bytes()));
    hub.stop().await;
}

/// Replace an envelope's stored body in the hub's database, as an intruder
/// with write access to it could.
async fn alter_hub_body(db: &Db, hub: &TestHub, id: EnvelopeId, body: &[u8]) {
    let url = db.hub_url(hub.dir.path());
    match db {
        Db::Sqlite => {
            let mut conn = SqliteConnection::connect(&url).await.unwrap();
            sqlx::query("UPDATE envelopes SET body = ? WHERE id = ?")
                .bind(body)
                .bind(id.to_string())
                .execute(&mut conn)
                .await
                .unwrap();
            conn.close().await.unwrap();
        }
        Db::Postgres(_) => {
            let mut conn = PgConnection::connect(&url).await.unwrap();
            sqlx::query("UPDATE envelopes SET body = $1 WHERE id = $2")
                .bind(body)
                .bind(id.to_string())
                .execute(&mut conn)
                .await
                .unwrap();
            conn.close().await.unwrap();
        }
    }
}

async fn the_recipient_verifies_the_bytes_it_received_and_quarantines_altered_ones(db: Db) {
    let hub = TestHub::start(&db).await;
    let data = tempfile::tempdir().unwrap();
    let client = client_as(&hub, CLINIC);
    // Metadata bytes changed in a way a re-encoding verifier would undo.
    let respaced = clinic_referral(&client).await;
    client.submit_envelope(&respaced).await.unwrap();
    let forged = with_meta_respaced(&respaced);
    alter_hub_body(&db, &hub, respaced.meta().id, forged.bytes()).await;
    // Bytes that are no longer a v2 envelope at all.
    let replaced = clinic_referral(&client).await;
    client.submit_envelope(&replaced).await.unwrap();
    let v1 = version_1_bytes(&replaced);
    alter_hub_body(&db, &hub, replaced.meta().id, &v1).await;

    let mut center = TestNode::open(&hub.url, CENTER, data.path()).await;
    center.start();
    let mut reasons = Vec::new();
    for _ in 0..2 {
        match center
            .wait_for(|e| matches!(e, NodeEvent::Quarantined { .. }))
            .await
        {
            NodeEvent::Quarantined { reason, .. } => reasons.push(reason),
            _ => unreachable!(),
        }
    }
    assert!(reasons[0].contains("signature"), "{reasons:?}");
    assert!(
        reasons[1].contains("version 1") && reasons[1].contains("version 2"),
        "{reasons:?}"
    );
    assert!(center.node.records().inbox().await.unwrap().is_empty());
    // Kept aside exactly as they arrived.
    let mut conn = node_db(data.path(), CENTER).await;
    let kept: Vec<(Vec<u8>,)> = sqlx::query_as("SELECT envelope FROM quarantine ORDER BY seq")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    let kept: Vec<Vec<u8>> = kept.into_iter().map(|(b,)| b).collect();
    assert_eq!(kept, [forged.bytes().to_vec(), v1]);
    center.stop().await;
    hub.stop().await;
}

/// A node that comes online to a backlog receives it back to back and
/// stores what it already holds together: an altered delivery in the middle
/// is quarantined in its place, the others are stored in order around it,
/// and every one is acknowledged (after a reconnect, the next to arrive is
/// a new one).
async fn a_backlog_with_an_altered_delivery_inside_stores_the_rest_in_order_and_acks_them_all(
    db: Db,
) {
    let hub = TestHub::start(&db).await;
    let data = tempfile::tempdir().unwrap();
    let client = client_as(&hub, CLINIC);
    let mut backlog = Vec::new();
    for _ in 0..6 {
        let envelope = clinic_referral(&client).await;
        client.submit_envelope(&envelope).await.unwrap();
        backlog.push(envelope);
    }
    let altered = &backlog[2];
    let forged = with_meta_respaced(altered);
    alter_hub_body(&db, &hub, altered.meta().id, forged.bytes()).await;

    let mut center = TestNode::open(&hub.url, CENTER, data.path()).await;
    center.start();
    for (i, envelope) in backlog.iter().enumerate() {
        if i != 2 {
            center.wait_stored(envelope.meta().id).await;
        }
    }
    let records = center.node.records();
    let seqs: Vec<i64> = records
        .inbox()
        .await
        .unwrap()
        .iter()
        .rev()
        .map(|r| r.seq)
        .collect();
    assert_eq!(seqs, [1, 2, 4, 5, 6]);
    assert_eq!(records.quarantined().await.unwrap(), 1);
    assert_eq!(records.cursor().await.unwrap(), Seq(6));
    center.stop().await;

    let mut center = TestNode::connect(&hub.url, CENTER, data.path()).await;
    let next = clinic_referral(&client).await;
    client.submit_envelope(&next).await.unwrap();
    let first = center
        .wait_for(|e| matches!(e, NodeEvent::Stored { .. } | NodeEvent::Quarantined { .. }))
        .await;
    let NodeEvent::Stored {
        seq, envelope_id, ..
    } = first
    else {
        panic!("expected the new envelope first, got {first:?}");
    };
    assert_eq!((seq, envelope_id), (Seq(7), next.meta().id));
    center.stop().await;
    hub.stop().await;
}
