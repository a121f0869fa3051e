//! The hub's HTTP surface and socket housekeeping.

use futures::StreamExt;
use tokio_tungstenite::tungstenite::Message;
use tsunagu::hub::Limits;

use crate::helpers::*;

both_backends!(
    an_agency_can_read_the_directory_with_public_keys,
    a_silent_socket_is_closed_after_the_idle_timeout,
    malformed_requests_to_the_other_endpoints_get_the_same_error_body,
);

async fn an_agency_can_read_the_directory_with_public_keys(db: Db) {
    let hub = TestHub::start(&db).await;
    let agencies = client_as(&hub, NURSERY).agencies().await.unwrap();
    let ids: Vec<&str> = agencies.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "minato-center",
            "sakura-clinic",
            "minato-child-welfare",
            "hikari-nursery",
            "minato-yotaikyo"
        ]
    );
    let center = &agencies[0];
    assert_eq!(center.name, "みなと市こども家庭センター");
    assert!(center.age_recipient.to_string().starts_with("age1"));
    hub.stop().await;
}

async fn a_silent_socket_is_closed_after_the_idle_timeout(db: Db) {
    let limits = Limits {
        ping_interval_secs: 1,
        idle_timeout_secs: 1,
        ..Limits::default()
    };
    let hub = TestHub::start_with(
        &db,
        limits,
        std::sync::Arc::new(tempfile::tempdir().unwrap()),
        None,
    )
    .await;
    let mut socket = client_as(&hub, CENTER).connect_socket().await.unwrap();
    // Say nothing, answer no ping: the hub must notice and close.
    let mut pings = 0;
    let closed = tokio::time::timeout(PATIENCE, async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Ping(_))) => pings += 1,
                Some(Ok(Message::Close(frame))) => return frame.map(|f| f.reason.to_string()),
                None | Some(Err(_)) => return None,
                Some(Ok(_)) => {}
            }
        }
    })
    .await
    .expect("the hub never closed a dead socket");
    assert!(pings >= 1, "the hub sends keepalive pings");
    assert_eq!(closed.as_deref(), Some("idle timeout"));
    hub.stop().await;
}

async fn malformed_requests_to_the_other_endpoints_get_the_same_error_body(db: Db) {
    use tsunagu::agency::client::ClientError;
    use tsunagu::protocol::ErrorCode;
    let hub = TestHub::start(&db).await;
    let client = client_as(&hub, CENTER);
    let bad_id = client
        .get::<serde_json::Value>("/v1/referrals/not-a-uuid")
        .await;
    assert!(
        matches!(&bad_id, Err(ClientError::Refused(b)) if b.code == ErrorCode::Malformed),
        "{bad_id:?}"
    );
    let bad_case = client
        .get::<serde_json::Value>("/v1/cases/Not%20A%20Case/disclosures")
        .await;
    assert!(
        matches!(&bad_case, Err(ClientError::Refused(b)) if b.code == ErrorCode::Malformed),
        "{bad_case:?}"
    );
    let bad_report = client
        .post::<_, serde_json::Value>("/v1/violations", &serde_json::json!({ "envelope_id": 7 }))
        .await;
    assert!(
        matches!(&bad_report, Err(ClientError::Refused(b)) if b.code == ErrorCode::Malformed),
        "{bad_report:?}"
    );
    let unknown = client
        .get::<serde_json::Value>(&format!(
            "/v1/referrals/{}",
            tsunagu::protocol::EnvelopeId::new()
        ))
        .await;
    assert!(
        matches!(&unknown, Err(ClientError::Refused(b)) if b.code == ErrorCode::UnknownReferral),
        "{unknown:?}"
    );
    hub.stop().await;
}
