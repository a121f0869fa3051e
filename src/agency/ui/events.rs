//! `GET /events`: server-sent events telling an open inbox that something
//! arrived (`inbox`), or that its session ended (`ended`, with the reason),
//! so a screen left open does not outlive its session. The session is
//! checked without counting as activity: when the stream opens, before each
//! event, and every [`SESSION_CHECK`] (or half the idle timeout) meanwhile; the stream ends with the
//! node.

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
use crate::agency::staff::{COOKIE_NAME, SessionEnded, SessionToken};
use crate::protocol::Timestamp;

/// How often an open stream checks that its session still lives (more
/// often when the idle timeout is shorter, so an idle page is told soon).
pub const SESSION_CHECK: Duration = Duration::from_secs(30);

fn session_check(state: &UiState) -> Duration {
    (state.accounts.idle_timeout() / 2).clamp(Duration::from_secs(1), SESSION_CHECK)
}

/// What the browser is told.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tell {
    Inbox,
    /// The session ended: `idle`, `expired` or `ended` (the login page's
    /// `?ended=` values).
    Ended(&'static str),
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
                Tell::Ended(reason) => Event::default().event("ended").data(reason),
            };
            let ended = matches!(tell, Tell::Ended(_));
            Some((Ok(event), (state, token, events, ended)))
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
    let mut check = tokio::time::interval(session_check(state));
    check.reset();
    loop {
        let changed = tokio::select! {
            event = events.recv() => match event {
                Ok(NodeEvent::Stored { .. } | NodeEvent::Notice { .. }) => true,
                // Missed some: the list may have changed.
                Err(broadcast::error::RecvError::Lagged(_)) => true,
                Ok(_) => false,
                Err(broadcast::error::RecvError::Closed) => return None,
            },
            _ = check.tick() => false,
            _ = state.shutdown.cancelled() => return None,
        };
        match state.accounts.validate(token, Timestamp::now()).await {
            Ok(_) if changed => return Some(Tell::Inbox),
            Ok(_) => {}
            Err(SessionEnded::Idle) => return Some(Tell::Ended("idle")),
            Err(SessionEnded::Expired) => return Some(Tell::Ended("expired")),
            Err(e) => {
                if let SessionEnded::Store(e) = &e {
                    tracing::warn!(error = %e, "could not check a live stream's session");
                }
                return Some(Tell::Ended("ended"));
            }
        }
    }
}
