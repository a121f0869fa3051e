//! Bad input gets a specific error and changes nothing.

use futures::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;
use tsunagu::agency::client::{ClientError, HubClient, HubSocket};
use tsunagu::agency::sealed::{seal_draft, sign_envelope};
use tsunagu::crypto::{keys, pki, tls};
use tsunagu::directory::Directory;
use tsunagu::hub::Limits;
use tsunagu::protocol::{Envelope, ErrorBody, ErrorCode, HubFrame, Metadata, Seq};
use tsunagu::store::DeliveryItem;

use crate::helpers::*;

both_backends!(
    a_connection_without_a_client_certificate_is_refused_at_the_handshake,
    a_certificate_from_another_ca_is_refused_at_the_handshake,
    a_certificate_of_an_agency_not_in_the_directory_is_refused,
    a_sender_field_that_is_not_the_certificates_agency_is_refused,
    a_bad_signature_is_refused,
    an_unknown_recipient_is_refused_and_named,
    an_envelope_without_recipients_is_refused,
    an_oversize_envelope_is_refused,
    a_malformed_envelope_is_refused,
    an_envelope_id_reused_with_different_bytes_is_refused_and_the_original_kept,
    malformed_and_unknown_frames_get_specific_errors_and_the_socket_stays_usable,
    an_ack_of_a_sequence_never_sent_is_refused_and_changes_nothing,
    acks_sent_together_are_each_judged_and_the_good_ones_committed,
    acks_past_max_ack_burst_are_committed_in_several_bursts_with_the_same_answers,
    an_oversize_frame_is_closed_with_1009_and_a_reason,
);

fn directory() -> Directory {
    Directory::load(&certs().join("directory.toml")).unwrap()
}

fn clinic_signing_key() -> ed25519_dalek::SigningKey {
    keys::load_signing_key(
        &certs()
            .join("agencies")
            .join(CLINIC)
            .join("signing-key.txt"),
    )
    .unwrap()
}

/// A correctly sealed and signed referral from the clinic, about a case
/// the hub never issued (enough for checks that come before the policy).
fn clinic_envelope(to: &[&str]) -> Envelope {
    clinic_envelope_about(&"case-000000000000".parse().unwrap(), to)
}

pub(crate) fn clinic_envelope_about(case: &tsunagu::protocol::CaseId, to: &[&str]) -> Envelope {
    seal_draft(
        &agency(CLINIC),
        &clinic_signing_key(),
        &directory(),
        &referral_draft(case, to),
    )
    .unwrap()
}

pub(crate) async fn open_case(client: &HubClient) -> tsunagu::protocol::CaseId {
    let opened: tsunagu::protocol::api::CaseOpened = client
        .post("/v1/cases", &serde_json::json!({}))
        .await
        .unwrap();
    opened.case_id
}

/// Change the metadata or ciphertext and sign again, as a buggy or hostile
/// client holding the clinic's key would.
pub(crate) fn resign(e: Envelope, change: impl FnOnce(&mut Metadata, &mut Vec<u8>)) -> Envelope {
    let mut meta = e.meta().clone();
    let mut ciphertext = e.ciphertext().to_vec();
    change(&mut meta, &mut ciphertext);
    sign_envelope(meta, ciphertext, &clinic_signing_key())
}

pub(crate) async fn refused(client: &HubClient, envelope: &Envelope) -> ErrorBody {
    match client.submit_envelope(envelope).await {
        Err(ClientError::Refused(body)) => body,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

async fn assert_nothing_queued(hub: &TestHub) {
    for who in [CENTER, WELFARE, NURSERY, CLINIC] {
        assert_eq!(
            hub.store.last_seq(&agency(who)).await.unwrap(),
            Seq(0),
            "{who} has a delivery"
        );
    }
}

async fn a_connection_without_a_client_certificate_is_refused_at_the_handshake(db: Db) {
    let hub = TestHub::start(&db).await;
    let ca = std::fs::read(certs().join("ca.pem")).unwrap();
    let client = HubClient::new(&hub.url, tls::client_config_without_cert(&ca).unwrap()).unwrap();
    let err = client.agencies().await.unwrap_err();
    let ClientError::Transport(reason) = err else {
        panic!("{err:?}")
    };
    assert!(
        reason.contains("CertificateRequired") || reason.to_lowercase().contains("certificate"),
        "{reason}"
    );
    hub.stop().await;
}

async fn a_certificate_from_another_ca_is_refused_at_the_handshake(db: Db) {
    let hub = TestHub::start(&db).await;
    let rogue_ca = pki::generate_ca("rogue CA").unwrap();
    let rogue = pki::issue_client(&rogue_ca, CLINIC).unwrap();
    let ca = std::fs::read(certs().join("ca.pem")).unwrap();
    let tls = tls::client_config(&ca, rogue.cert_pem.as_bytes(), rogue.key_pem.as_bytes()).unwrap();
    let client = HubClient::new(&hub.url, tls).unwrap();
    let err = client
        .submit_envelope(&clinic_envelope(&[CENTER]))
        .await
        .unwrap_err();
    assert!(matches!(err, ClientError::Transport(_)), "{err:?}");
    assert_nothing_queued(&hub).await;
    hub.stop().await;
}

async fn a_certificate_of_an_agency_not_in_the_directory_is_refused(db: Db) {
    let hub = TestHub::start(&db).await;
    let ca = pki::CaBundle::load(&certs().join("ca.pem"), &certs().join("ca-key.pem")).unwrap();
    let stranger = pki::issue_client(&ca, "unlisted-clinic").unwrap();
    let ca_pem = std::fs::read(certs().join("ca.pem")).unwrap();
    let tls = tls::client_config(
        &ca_pem,
        stranger.cert_pem.as_bytes(),
        stranger.key_pem.as_bytes(),
    )
    .unwrap();
    let client = HubClient::new(&hub.url, tls).unwrap();
    let body = refused(&client, &clinic_envelope(&[CENTER])).await;
    assert_eq!(body.code, ErrorCode::UnknownAgency);
    assert!(body.message.contains("登録されていません"));
    match client.connect_socket().await {
        Err(ClientError::Refused(body)) => assert_eq!(body.code, ErrorCode::UnknownAgency),
        Err(other) => panic!("{other:?}"),
        Ok(_) => panic!("socket opened for an unlisted agency"),
    }
    let audit = hub.store.audit_entries(None, None).await.unwrap();
    let refusals = audit
        .iter()
        .filter(|e| e.event == "refused" && e.detail.contains("unknown_agency"))
        .count();
    assert_eq!(refusals, 2, "both refusals are in the audit chain");
    assert_nothing_queued(&hub).await;
    hub.stop().await;
}

async fn a_sender_field_that_is_not_the_certificates_agency_is_refused(db: Db) {
    let hub = TestHub::start(&db).await;
    let e = resign(clinic_envelope(&[CENTER]), |meta, _| {
        meta.sender = agency(NURSERY)
    });
    let body = refused(&client_as(&hub, CLINIC), &e).await;
    assert_eq!(body.code, ErrorCode::SenderMismatch);
    assert_nothing_queued(&hub).await;
    hub.stop().await;
}

async fn a_bad_signature_is_refused(db: Db) {
    let hub = TestHub::start(&db).await;
    let e = clinic_envelope(&[CENTER]);
    let mut ciphertext = e.ciphertext().to_vec();
    let last = ciphertext.len() - 1;
    ciphertext[last] ^= 1;
    let e = Envelope::assemble(e.meta_json().to_vec(), ciphertext, e.signature().to_vec()).unwrap();
    let body = refused(&client_as(&hub, CLINIC), &e).await;
    assert_eq!(body.code, ErrorCode::BadSignature);
    assert!(body.message_en.contains(CLINIC));
    assert_nothing_queued(&hub).await;
    hub.stop().await;
}

async fn an_unknown_recipient_is_refused_and_named(db: Db) {
    let hub = TestHub::start(&db).await;
    let e = resign(clinic_envelope(&[CENTER]), |meta, _| {
        meta.recipients.push(agency("nowhere-office"))
    });
    let body = refused(&client_as(&hub, CLINIC), &e).await;
    assert_eq!(body.code, ErrorCode::UnknownRecipient);
    assert!(body.message.contains("nowhere-office"));
    assert_nothing_queued(&hub).await;
    hub.stop().await;
}

async fn an_envelope_without_recipients_is_refused(db: Db) {
    let hub = TestHub::start(&db).await;
    let e = resign(clinic_envelope(&[CENTER]), |meta, _| {
        meta.recipients.clear()
    });
    let body = refused(&client_as(&hub, CLINIC), &e).await;
    assert_eq!(body.code, ErrorCode::NoRecipients);
    assert_nothing_queued(&hub).await;
    hub.stop().await;
}

async fn an_oversize_envelope_is_refused(db: Db) {
    let limits = Limits {
        max_envelope_bytes: 2048,
        ..Limits::default()
    };
    let hub = TestHub::start_with(
        &db,
        limits,
        std::sync::Arc::new(tempfile::tempdir().unwrap()),
        None,
    )
    .await;
    let e = clinic_envelope(&[CENTER]);
    let big = resign(e.clone(), |_, c| *c = vec![7; 4096]);
    let body = refused(&client_as(&hub, CLINIC), &big).await;
    assert_eq!(body.code, ErrorCode::EnvelopeTooLarge);
    // Far over the limit: refused while reading the body.
    let huge = resign(e, |_, c| *c = vec![7; 64 * 1024]);
    let body = refused(&client_as(&hub, CLINIC), &huge).await;
    assert_eq!(body.code, ErrorCode::EnvelopeTooLarge);
    assert_nothing_queued(&hub).await;
    hub.stop().await;
}

async fn a_malformed_envelope_is_refused(db: Db) {
    let hub = TestHub::start(&db).await;
    let client = client_as(&hub, CLINIC);
    for bad in [&b"{not json"[..], br#"{"version":2}"#] {
        match client.submit(bad.to_vec()).await {
            Err(ClientError::Refused(body)) => assert_eq!(body.code, ErrorCode::Malformed),
            other => panic!("{other:?}"),
        }
    }
    assert_nothing_queued(&hub).await;
    hub.stop().await;
}

async fn an_envelope_id_reused_with_different_bytes_is_refused_and_the_original_kept(db: Db) {
    let hub = TestHub::start(&db).await;
    let client = client_as(&hub, CLINIC);
    let case = open_case(&client).await;
    let original = clinic_envelope_about(&case, &[CENTER]);
    client.submit_envelope(&original).await.unwrap();
    // The same bytes again: an idempotent resend.
    let again = client.submit_envelope(&original).await.unwrap();
    assert_eq!(
        again.status,
        tsunagu::protocol::frame::SubmitStatus::Duplicate
    );
    let other = resign(clinic_envelope_about(&case, &[CENTER]), |meta, _| {
        meta.id = original.meta().id
    });
    let body = refused(&client, &other).await;
    assert_eq!(body.code, ErrorCode::EnvelopeIdReused);
    let pending = hub
        .store
        .pending(&agency(CENTER), Seq(0), 10)
        .await
        .unwrap();
    assert_eq!(pending.len(), 1);
    let DeliveryItem::Envelope { body, .. } = &pending[0].item else {
        panic!("expected an envelope")
    };
    assert_eq!(body.as_slice(), original.bytes());
    hub.stop().await;
}

async fn next_frame(socket: &mut HubSocket) -> HubFrame {
    loop {
        let message = tokio::time::timeout(PATIENCE, socket.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        if let Message::Text(text) = message {
            // Audit checkpoints come after each welcome and as the chain
            // grows: not what these tests are about.
            match serde_json::from_str(text.as_str()).unwrap() {
                HubFrame::Checkpoint(_) => continue,
                frame => return frame,
            }
        }
    }
}

async fn send_text(socket: &mut HubSocket, text: &str) {
    socket.send(Message::Text(text.into())).await.unwrap();
}

fn error_code(frame: HubFrame) -> ErrorCode {
    match frame {
        HubFrame::Error(body) => body.code,
        other => panic!("expected an error frame, got {other:?}"),
    }
}

async fn malformed_and_unknown_frames_get_specific_errors_and_the_socket_stays_usable(db: Db) {
    let hub = TestHub::start(&db).await;
    let mut socket = client_as(&hub, CENTER).connect_socket().await.unwrap();
    send_text(&mut socket, "{not json").await;
    assert_eq!(
        error_code(next_frame(&mut socket).await),
        ErrorCode::Malformed
    );
    send_text(&mut socket, r#"{"type":"subscribe","topic":"all"}"#).await;
    assert_eq!(
        error_code(next_frame(&mut socket).await),
        ErrorCode::UnknownFrame
    );
    send_text(&mut socket, r#"{"type":"ack"}"#).await;
    assert_eq!(
        error_code(next_frame(&mut socket).await),
        ErrorCode::Malformed
    );
    socket
        .send(Message::Binary(vec![1, 2, 3].into()))
        .await
        .unwrap();
    assert_eq!(
        error_code(next_frame(&mut socket).await),
        ErrorCode::Malformed
    );
    send_text(&mut socket, r#"{"type":"hello","resume_after":0}"#).await;
    assert!(matches!(
        next_frame(&mut socket).await,
        HubFrame::Welcome { .. }
    ));
    hub.stop().await;
}

async fn an_ack_of_a_sequence_never_sent_is_refused_and_changes_nothing(db: Db) {
    let hub = TestHub::start(&db).await;
    let clinic = client_as(&hub, CLINIC);
    let case = open_case(&clinic).await;
    clinic
        .submit_envelope(&clinic_envelope_about(&case, &[CENTER]))
        .await
        .unwrap();
    let mut socket = client_as(&hub, CENTER).connect_socket().await.unwrap();
    // Before hello nothing was sent.
    send_text(&mut socket, r#"{"type":"ack","seq":1}"#).await;
    assert_eq!(
        error_code(next_frame(&mut socket).await),
        ErrorCode::UnknownSequence
    );
    send_text(&mut socket, r#"{"type":"hello","resume_after":0}"#).await;
    assert!(matches!(
        next_frame(&mut socket).await,
        HubFrame::Welcome { .. }
    ));
    assert!(matches!(
        next_frame(&mut socket).await,
        HubFrame::Deliver { seq: Seq(1), .. }
    ));
    send_text(&mut socket, r#"{"type":"ack","seq":99}"#).await;
    assert_eq!(
        error_code(next_frame(&mut socket).await),
        ErrorCode::UnknownSequence
    );
    // A resume point beyond anything assigned is refused too.
    send_text(&mut socket, r#"{"type":"hello","resume_after":7}"#).await;
    assert_eq!(
        error_code(next_frame(&mut socket).await),
        ErrorCode::UnknownSequence
    );
    assert_eq!(
        hub.store
            .pending(&agency(CENTER), Seq(0), 10)
            .await
            .unwrap()
            .len(),
        1
    );
    hub.stop().await;
}

/// A node's acks sent back to back may be committed as one burst: an ack
/// of a sequence never sent, or a malformed frame, among them is refused on
/// its own, in the order sent, and the good acks around it still count.
async fn acks_sent_together_are_each_judged_and_the_good_ones_committed(db: Db) {
    acks_sent_together_are_judged_alone(TestHub::start(&db).await).await;
}

/// A burst split at the limit answers exactly as one burst would.
async fn acks_past_max_ack_burst_are_committed_in_several_bursts_with_the_same_answers(db: Db) {
    let limits = Limits {
        max_ack_burst: 2,
        ..Limits::default()
    };
    let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
    acks_sent_together_are_judged_alone(TestHub::start_with(&db, limits, dir, None).await).await;
}

async fn acks_sent_together_are_judged_alone(hub: TestHub) {
    let clinic = client_as(&hub, CLINIC);
    let case = open_case(&clinic).await;
    for _ in 0..3 {
        clinic
            .submit_envelope(&clinic_envelope_about(&case, &[CENTER]))
            .await
            .unwrap();
    }
    let mut socket = client_as(&hub, CENTER).connect_socket().await.unwrap();
    send_text(&mut socket, r#"{"type":"hello","resume_after":0}"#).await;
    assert!(matches!(
        next_frame(&mut socket).await,
        HubFrame::Welcome { .. }
    ));
    for expected in 1..=3 {
        match next_frame(&mut socket).await {
            HubFrame::Deliver { seq, .. } => assert_eq!(seq, Seq(expected)),
            other => panic!("expected delivery {expected}, got {other:?}"),
        }
    }
    // Queued and flushed together, so they wait on the hub's socket together.
    let burst = [
        r#"{"type":"ack","seq":1}"#,
        r#"{"type":"ack","seq":99}"#,
        r#"{"type":"ack","seq":3}"#,
        "{not json",
        r#"{"type":"ack","seq":2}"#,
        r#"{"type":"ack","seq":98}"#,
    ];
    for frame in burst {
        socket.feed(Message::Text(frame.into())).await.unwrap();
    }
    socket.flush().await.unwrap();
    let answers = [
        ErrorCode::UnknownSequence,
        ErrorCode::Malformed,
        ErrorCode::UnknownSequence,
    ];
    for expected in answers {
        assert_eq!(error_code(next_frame(&mut socket).await), expected);
    }
    // The last refusal follows the commit of every ack before it.
    let pending = hub.store.pending(&agency(CENTER), Seq(0), 10).await;
    assert_eq!(pending.unwrap(), []);
    let acked = hub
        .store
        .audit_entries(None, None)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.event == "delivery_acked" && e.detail.contains("\"seq\""))
        .count();
    assert_eq!(acked, 3, "one audit entry per ack");
    hub.stop().await;
}

async fn an_oversize_frame_is_closed_with_1009_and_a_reason(db: Db) {
    let hub = TestHub::start(&db).await;
    let mut socket = client_as(&hub, CENTER).connect_socket().await.unwrap();
    let padding = "x".repeat(100 * 1024);
    send_text(
        &mut socket,
        &format!(r#"{{"type":"hello","resume_after":0,"pad":"{padding}"}}"#),
    )
    .await;
    let closed = loop {
        match tokio::time::timeout(PATIENCE, socket.next()).await.unwrap() {
            Some(Ok(Message::Close(frame))) => break frame.expect("a close frame with a code"),
            Some(Ok(_)) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    };
    assert_eq!(u16::from(closed.code), 1009);
    assert!(closed.reason.contains("65536"), "{}", closed.reason);
    hub.stop().await;
}

#[tokio::test]
async fn an_agency_over_its_send_rate_is_told_when_to_retry_and_nothing_is_stored() {
    let limits = Limits {
        send_envelopes_per_second: 1,
        send_envelopes_burst: 1,
        ..Limits::default()
    };
    let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
    let hub = TestHub::start_with(&Db::Sqlite, limits, dir, None).await;
    let client = client_as(&hub, CLINIC);
    let case = open_case(&client).await;
    client
        .submit_envelope(&clinic_envelope_about(&case, &[CENTER]))
        .await
        .unwrap();
    let over = clinic_envelope_about(&case, &[CENTER]);
    match client.submit_envelope(&over).await {
        Err(ClientError::Busy { body, retry_after }) => {
            assert_eq!(body.code, ErrorCode::RateLimited);
            assert!(body.message.contains("秒後に再送"), "{}", body.message);
            assert!(retry_after >= std::time::Duration::from_secs(1));
        }
        other => panic!("expected a rate refusal, got {other:?}"),
    }
    // Only the first is queued for the center.
    let pending = hub
        .store
        .pending(&agency(CENTER), Seq(0), 10)
        .await
        .unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(hub.hub.rate_limited(), 1);
    hub.stop().await;
}
