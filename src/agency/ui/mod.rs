//! The staff web UI of an agency node: server-rendered pages (askama
//! templates compiled into the binary), every asset served by the node,
//! live inbox updates by server-sent events. One module per page; the whole
//! HTTP surface is in [`router`].

mod admin;
mod admin_log;
mod assets;
mod auth;
mod cases;
mod compose;
mod consents;
mod error;
mod events;
mod headers;
mod inbox;
mod inbox_filter;
mod inbox_notices;
mod lang;
mod ledger;
mod login;
mod meetings;
mod plans;
mod referral;
mod sent;
mod serve;
mod support;
mod support_import;
mod support_report;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use tokio_util::sync::CancellationToken;

use super::staff::StaffAccounts;
use super::{AgencyConfig, Node};
pub use serve::{ListenError, serve, tls_for};

/// What every handler shares: the running node (records, directory,
/// events), its staff accounts, and the shutdown that ends live streams.
#[derive(Clone)]
pub struct UiState {
    pub node: Arc<Node>,
    pub accounts: Arc<StaffAccounts>,
    pub shutdown: CancellationToken,
}

/// Every route of the staff UI.
pub fn router(state: UiState) -> Router {
    Router::new()
        .route("/", get(inbox::page))
        .route("/inbox/rows", get(inbox::rows))
        .route("/inbox/filters", get(inbox::filters))
        .route("/inbox/notices", get(inbox::notices))
        .route("/envelopes/{id}", get(inbox::envelope))
        .route("/envelopes/{id}/states", get(inbox::states))
        .route("/envelopes/{id}/update", post(referral::update))
        .route("/events", get(events::stream))
        .route("/login", get(login::form).post(login::submit))
        .route("/logout", post(login::logout))
        .route("/assets/{name}", get(assets::asset))
        .route("/favicon.ico", get(assets::no_icon))
        .merge(cases::routes())
        .merge(consents::routes())
        .merge(meetings::routes())
        .merge(plans::routes())
        .merge(ledger::routes())
        .merge(support::routes())
        .merge(compose::routes())
        .merge(support_import::routes())
        .merge(support_report::routes())
        .route("/sent", get(sent::page))
        .merge(admin::routes())
        .fallback(error::not_found)
        .layer(axum::middleware::from_fn(headers::security_headers))
        .with_state(state)
}

/// Why the UI could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Listen(#[from] ListenError),
    #[error("Web画面のアドレス {addr} を使えません (cannot listen on {addr}): {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("職員アカウントを開けません (cannot open the staff accounts): {0}")]
    Accounts(#[from] crate::crypto::CryptoError),
}

/// A UI being served.
pub struct RunningUi {
    /// Where it listens (the port chosen when `listen` asked for port 0).
    pub addr: SocketAddr,
    /// Whether it serves HTTPS.
    pub https: bool,
    pub task: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// Check `config.ui` (TLS off loopback), bind `listen` and serve the UI of
/// `node` until `shutdown`.
pub async fn start(
    config: &AgencyConfig,
    node: Arc<Node>,
    listen: SocketAddr,
    shutdown: CancellationToken,
) -> Result<RunningUi, StartError> {
    let tls = tls_for(&config.ui, listen)?;
    let header_timeout = std::time::Duration::from_secs(config.ui.header_timeout_secs.max(1));
    let accounts = StaffAccounts::from_config(config, node.records().clone())?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|source| StartError::Bind {
            addr: listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| StartError::Bind {
        addr: listen,
        source,
    })?;
    let https = tls.is_some();
    let state = UiState {
        node,
        accounts: Arc::new(accounts),
        shutdown: shutdown.child_token(),
    };
    let task = tokio::spawn(async move {
        serve(
            listener,
            state,
            tls,
            header_timeout,
            shutdown.cancelled_owned(),
        )
        .await
    });
    Ok(RunningUi { addr, https, task })
}
