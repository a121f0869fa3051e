//! `GET /events`: server-sent events telling an open inbox that something
//! arrived (`inbox`), or that its session ended (`ended`). The session is
//! checked without counting as activity, when the stream opens and before
//! each event; the stream ends with the node.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use tokio::sync::broadcast;

use super::UiState;
use super::auth::{Watching, cookie_value};
use crate::agency::NodeEvent;
use crate::agency::staff::{COOKIE_NAME, SessionToken};
use crate::protocol::Timestamp;

/// What the browser is told.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tell {
    Inbox,
    Ended,
}

pub async fn stream(
    State(state): State<UiState>,
    _watching: Watching,
    headers: HeaderMap,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let token = SessionToken::from_cookie(&cookie_value(&headers, COOKIE_NAME).unwrap_or_default());
    let events = state.node.subscribe();
    let stream = futures::stream::unfold(
        (state, token, events, false),
        |(state, token, mut events, done)| async move {
            if done {
                return None;
            }
            let tell = next(&state, &token, &mut events).await?;
            let event = match tell {
                Tell::Inbox => Event::default().event("inbox").data("changed"),
                Tell::Ended => Event::default().event("ended").data("ended"),
            };
            Some((Ok(event), (state, token, events, tell == Tell::Ended)))
        },
    );
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

/// Wait for the next thing to tell; `None` ends the stream (shutdown).
async fn next(
    state: &UiState,
    token: &SessionToken,
    events: &mut broadcast::Receiver<NodeEvent>,
) -> Option<Tell> {
    loop {
        let event = tokio::select! {
            event = events.recv() => event,
            _ = state.shutdown.cancelled() => return None,
        };
        let changed = match event {
            Ok(NodeEvent::Stored { .. } | NodeEvent::Notice { .. }) => true,
            // Missed some: the list may have changed.
            Err(broadcast::error::RecvError::Lagged(_)) => true,
            Ok(_) => false,
            Err(broadcast::error::RecvError::Closed) => return None,
        };
        if changed {
            return match state.accounts.validate(token, Timestamp::now()).await {
                Ok(_) => Some(Tell::Inbox),
                Err(_) => Some(Tell::Ended),
            };
        }
    }
}
