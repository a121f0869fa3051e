//! A node against a hub that speaks a newer dialect: error codes, error
//! bodies, frames and notices this version does not know. None of them may
//! stop the outbox or put the node in a reconnect loop.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;
use tsunagu::agency::NodeEvent;
use tsunagu::agency::outbox::HubAnswer;
use tsunagu::crypto::hub_signed::sign_notice;
use tsunagu::crypto::tls;
use tsunagu::protocol::frame::{ClientFrame, HubFrame, SubmitResponse, SubmitStatus};
use tsunagu::protocol::{Envelope, EnvelopeId, ErrorCode, Notice, Seq};

use crate::helpers::*;

/// What the fake hub does, and what it saw.
#[derive(Default)]
struct Script {
    /// Envelopes refused with a code from the future.
    newer_code: HashSet<EnvelopeId>,
    /// Envelopes refused with a body that is not JSON (as a proxy would).
    not_json: HashSet<EnvelopeId>,
    /// Envelopes taken.
    accepted: Vec<EnvelopeId>,
    /// Sockets opened.
    sockets: u32,
}

#[derive(Clone)]
struct Fake {
    script: Arc<Mutex<Script>>,
    /// Every frame a node sent on a socket.
    frames: mpsc::UnboundedSender<ClientFrame>,
}

async fn submit(State(fake): State<Fake>, body: Bytes) -> Response {
    let id = Envelope::parse(body.to_vec()).unwrap().meta().id;
    let mut script = fake.script.lock().unwrap();
    if script.newer_code.contains(&id) {
        let body = r#"{"code":"quota_exceeded","message":"今月の送信上限を超えました","message_en":"monthly quota exceeded","retry_at":"2027-01-01"}"#;
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            [("content-type", "application/json")],
            body,
        )
            .into_response();
    }
    if script.not_json.contains(&id) {
        return (StatusCode::FORBIDDEN, "<html>blocked by policy</html>").into_response();
    }
    script.accepted.push(id);
    axum::Json(SubmitResponse {
        id,
        status: SubmitStatus::Accepted,
    })
    .into_response()
}

/// A hub before batches existed answers a plain 404.
async fn no_batches() -> Response {
    (StatusCode::NOT_FOUND, "not found").into_response()
}

async fn socket(State(fake): State<Fake>, upgrade: WebSocketUpgrade) -> Response {
    fake.script.lock().unwrap().sockets += 1;
    upgrade.on_upgrade(move |ws| stream(ws, fake))
}

/// Welcome the node, then send a frame of a kind it cannot know, a notice
/// of a kind it cannot know, and a notice it knows.
async fn stream(mut ws: WebSocket, fake: Fake) {
    let text = |v: String| Message::Text(v.into());
    let Some(Ok(Message::Text(hello))) = ws.recv().await else {
        return;
    };
    let _ = fake.frames.send(serde_json::from_str(&hello).unwrap());
    let welcome = HubFrame::Welcome {
        agency: agency(CENTER),
        last_seq: Seq(2),
        directory_version: 0,
        epoch: None,
    };
    let notice = Notice::PlanReviewDue {
        plan_id: tsunagu::protocol::ids::PlanId::new(),
        version: 1,
        case_id: "case-1".parse().unwrap(),
        review_on: "2026-12-01".parse().unwrap(),
    };
    let hub_key = hub_signing_key();
    let known = HubFrame::Notice {
        seq: Seq(2),
        signed: Some(sign_notice(&hub_key, &agency(CENTER), Seq(2), &notice)),
        notice,
    };
    for frame in [
        serde_json::to_string(&welcome).unwrap(),
        r#"{"type":"presence","online":["sakura-clinic"]}"#.to_owned(),
        r#"{"type":"notice","seq":1,"notice":{"notice":"quota_warning","percent":90}}"#.to_owned(),
        serde_json::to_string(&known).unwrap(),
    ] {
        if ws.send(text(frame)).await.is_err() {
            return;
        }
    }
    while let Some(Ok(Message::Text(frame))) = ws.recv().await {
        let _ = fake.frames.send(serde_json::from_str(&frame).unwrap());
    }
}

async fn start_fake(fake: Fake) -> SocketAddr {
    let app = Router::new()
        .route("/v1/envelopes", post(submit))
        .route("/v1/envelopes/batch", post(no_batches))
        .route("/v1/socket", get(socket))
        .with_state(fake);
    serve_fake(app).await
}

/// Serve a fake hub's routes over the same mutual TLS as the real one.
pub async fn serve_fake(app: Router) -> SocketAddr {
    let certs = certs();
    let config = tls::server_config_from_files(
        &certs.join("ca.pem"),
        &certs.join("hub.pem"),
        &certs.join("hub-key.pem"),
    )
    .unwrap();
    let acceptor = TlsAcceptor::from(config);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, app) = (acceptor.clone(), app.clone());
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let service = hyper::service::service_fn(move |req| app.clone().oneshot(req));
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection_with_upgrades(TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    addr
}

#[tokio::test]
async fn refusals_frames_and_notices_from_a_newer_hub_neither_block_the_outbox_nor_the_stream() {
    let (frames, mut seen) = mpsc::unbounded_channel();
    let fake = Fake {
        script: Arc::default(),
        frames,
    };
    let addr = start_fake(fake.clone()).await;
    let url = format!("https://127.0.0.1:{}", addr.port());
    let data = tempfile::tempdir().unwrap();

    // Three envelopes wait in the outbox, in this order, written by a
    // command that died before sending them.
    let command = TestNode::open(&url, CENTER, data.path()).await;
    let case: tsunagu::protocol::CaseId = "case-1".parse().unwrap();
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(
            command
                .node
                .enqueue(&referral_draft(&case, &[CLINIC]))
                .await
                .unwrap(),
        );
    }
    command.stop().await;
    let (newer, proxy, plain) = (ids[0], ids[1], ids[2]);
    {
        let mut script = fake.script.lock().unwrap();
        script.newer_code.insert(newer);
        script.not_json.insert(proxy);
    }

    let mut node = TestNode::open(&url, CENTER, data.path()).await;
    node.start();

    // The outbox: each refusal is recorded with what the hub said, and the
    // entry behind them goes through.
    let mut answers = Vec::new();
    while answers.len() < 3 {
        if let NodeEvent::Answered { id, answer } = node
            .wait_for(|e| matches!(e, NodeEvent::Answered { .. }))
            .await
        {
            answers.push((id, answer));
        }
    }
    let refused = |id: EnvelopeId| match &answers.iter().find(|(a, _)| *a == id).unwrap().1 {
        HubAnswer::Refused(body) => body.clone(),
        other => panic!("{id} should be refused, got {other:?}"),
    };
    let body = refused(newer);
    assert_eq!(body.code, ErrorCode::Unknown);
    assert_eq!(body.message, "今月の送信上限を超えました");
    let body = refused(proxy);
    assert_eq!(body.code, ErrorCode::Unknown);
    assert!(body.message.contains("403"), "{}", body.message);
    assert!(
        body.message_en.contains("blocked by policy"),
        "{}",
        body.message_en
    );
    assert!(
        answers
            .iter()
            .any(|(id, a)| *id == plain && *a == HubAnswer::Accepted { duplicate: false })
    );
    assert_eq!(fake.script.lock().unwrap().accepted, [plain]);
    for (id, status) in [(newer, "refused"), (proxy, "refused"), (plain, "accepted")] {
        let row = node.node.records().outbox_item(id).await.unwrap().unwrap();
        assert_eq!(row.status, status, "{id}");
    }

    // The stream: the unknown frame is skipped, the unknown notice is kept
    // aside and acknowledged, and the known notice after it is stored and
    // acknowledged — on the same socket, with no reconnect.
    assert!(matches!(seen.recv().await, Some(ClientFrame::Hello { .. })));
    assert_eq!(seen.recv().await, Some(ClientFrame::Ack { seq: Seq(1) }));
    assert_eq!(seen.recv().await, Some(ClientFrame::Ack { seq: Seq(2) }));
    assert_eq!(node.node.records().quarantined().await.unwrap(), 1);
    assert_eq!(node.node.records().cursor().await.unwrap(), Seq(2));
    assert_eq!(fake.script.lock().unwrap().sockets, 1);
    node.stop().await;
}
