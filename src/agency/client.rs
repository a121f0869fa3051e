//! The node's connection to the hub: HTTPS requests and the delivery socket,
//! both over mutual TLS with the agency's client certificate.

use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

use crate::protocol::Agency;
use crate::protocol::api::BatchResponse;
use crate::protocol::frame::SubmitResponse;
use crate::protocol::{Envelope, ErrorBody};

/// The socket to the hub.
pub type HubSocket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Why a request to the hub failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The hub answered and refused; nothing was stored. Do not retry as is.
    #[error("refused by the hub: {0:?}")]
    Refused(ErrorBody),
    /// The hub could not be reached or did not answer; safe to retry.
    #[error("hub unreachable: {0}")]
    Transport(String),
    /// The hub asked to wait (over the agency's send rate); nothing was
    /// stored. Retry the same bytes after `retry_after`, not before.
    #[error("the hub asks to retry in {retry_after:?}: {}", .body.message_en)]
    Busy {
        body: ErrorBody,
        retry_after: Duration,
    },
}

impl ClientError {
    /// Keep the whole cause chain: "error sending request" alone does not
    /// tell an operator that the hub refused the certificate.
    fn transport(e: impl std::error::Error) -> Self {
        let mut text = e.to_string();
        let mut source = e.source();
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        ClientError::Transport(text)
    }
}

/// A client of one hub, authenticated as one agency.
#[derive(Clone)]
pub struct HubClient {
    base: String,
    http: reqwest::Client,
    tls: Arc<rustls::ClientConfig>,
    timeout: Duration,
}

/// How long a request may take before the node treats the hub as
/// unreachable (and, for a submission, retries it later).
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

impl HubClient {
    /// A client for the hub at `base` (e.g. `https://127.0.0.1:8443`).
    pub fn new(base: &str, tls: Arc<rustls::ClientConfig>) -> Result<Self, ClientError> {
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured((*tls).clone())
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(ClientError::transport)?;
        Ok(Self {
            base: base.trim_end_matches('/').to_owned(),
            http,
            tls,
            timeout: DEFAULT_REQUEST_TIMEOUT,
        })
    }

    /// With another limit on each request's duration.
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Submit an envelope; `Ok` means the hub has durably committed it.
    pub async fn submit(&self, envelope_json: Vec<u8>) -> Result<SubmitResponse, ClientError> {
        let response = self
            .http
            .post(format!("{}/v1/envelopes", self.base))
            .timeout(self.timeout)
            .header("content-type", "application/json")
            .body(envelope_json)
            .send()
            .await
            .map_err(ClientError::transport)?;
        read_json(response).await
    }

    /// Submit envelopes in one request, to be taken in this order; each is
    /// sent exactly as given (as signed).
    pub async fn submit_batch(&self, envelopes: &[&[u8]]) -> Result<BatchResponse, ClientError> {
        let size = envelopes.iter().map(|e| e.len() + 1).sum::<usize>();
        let mut body = Vec::with_capacity(size + 16);
        body.extend_from_slice(b"{\"envelopes\":[");
        for (i, envelope) in envelopes.iter().enumerate() {
            if i > 0 {
                body.push(b',');
            }
            body.extend_from_slice(envelope);
        }
        body.extend_from_slice(b"]}");
        let response = self
            .http
            .post(format!("{}/v1/envelopes/batch", self.base))
            .timeout(self.timeout)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .map_err(ClientError::transport)?;
        read_json(response).await
    }

    /// Submit an envelope: its bytes, as sealed.
    pub async fn submit_envelope(
        &self,
        envelope: &Envelope,
    ) -> Result<SubmitResponse, ClientError> {
        self.submit(envelope.bytes().to_vec()).await
    }

    /// The directory as the CA signed it (`GET /v1/directory`); verify it
    /// before use (`directory::SignedDirectory::verify`).
    pub async fn directory(&self) -> Result<crate::protocol::PublishedDirectory, ClientError> {
        self.get("/v1/directory").await
    }

    /// The hub's directory, unsigned (for nodes before signed directories).
    pub async fn agencies(&self) -> Result<Vec<Agency>, ClientError> {
        self.get("/v1/agencies").await
    }

    /// `GET` a JSON resource of the hub.
    pub async fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .timeout(self.timeout)
            .send()
            .await
            .map_err(ClientError::transport)?;
        read_json(response).await
    }

    /// `POST` JSON to the hub.
    pub async fn post<B: serde::Serialize, T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, ClientError> {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .timeout(self.timeout)
            .json(body)
            .send()
            .await
            .map_err(ClientError::transport)?;
        read_json(response).await
    }

    /// Open the delivery socket.
    pub async fn connect_socket(&self) -> Result<HubSocket, ClientError> {
        let url = format!("{}/v1/socket", self.base.replacen("https://", "wss://", 1));
        // Deliveries can be as large as the hub's envelope limit.
        let config = WebSocketConfig::default()
            .max_message_size(Some(64 << 20))
            .max_frame_size(Some(64 << 20))
            .read_buffer_size(64 * 1024);
        let (socket, _) = tokio_tungstenite::connect_async_tls_with_config(
            url,
            Some(config),
            true,
            Some(Connector::Rustls(self.tls.clone())),
        )
        .await
        .map_err(|e| match e {
            tokio_tungstenite::tungstenite::Error::Http(response) => {
                let body = response
                    .body()
                    .as_deref()
                    .and_then(|b| serde_json::from_slice::<ErrorBody>(b).ok());
                match body {
                    Some(body) => ClientError::Refused(body),
                    None => {
                        ClientError::Transport(format!("socket refused: {}", response.status()))
                    }
                }
            }
            other => ClientError::transport(other),
        })?;
        Ok(socket)
    }
}

async fn read_json<T: serde::de::DeserializeOwned>(
    response: reqwest::Response,
) -> Result<T, ClientError> {
    let status = response.status();
    let retry_after = retry_after(&response);
    let bytes = response.bytes().await.map_err(ClientError::transport)?;
    if status.is_success() {
        return serde_json::from_slice(&bytes).map_err(ClientError::transport);
    }
    let retry_later = status.is_server_error()
        || status == reqwest::StatusCode::REQUEST_TIMEOUT
        || status == reqwest::StatusCode::TOO_MANY_REQUESTS;
    match serde_json::from_slice::<ErrorBody>(&bytes) {
        // Told when: wait that long (a proxy's 429 without the header is
        // retried with the caller's own backoff, below).
        Ok(body) if status == reqwest::StatusCode::TOO_MANY_REQUESTS && retry_after.is_some() => {
            Err(ClientError::Busy {
                body,
                retry_after: retry_after.unwrap_or_default(),
            })
        }
        // A 5xx means nothing was stored; the caller may retry later.
        Ok(body) if retry_later => Err(ClientError::Transport(body.message_en)),
        Ok(body) => Err(ClientError::Refused(body)),
        Err(_) if retry_later => Err(ClientError::Transport(format!("hub answered {status}"))),
        // Any other 4xx refuses the request, whatever its body says: a
        // newer hub's, or a proxy's. Retrying the same bytes would only be
        // refused again, and an outbox would wait behind it for ever.
        Err(_) => Err(ClientError::Refused(unreadable_refusal(status, &bytes))),
    }
}

/// `Retry-After` in seconds (the hub never sends the HTTP-date form).
fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    let value = response.headers().get(reqwest::header::RETRY_AFTER)?;
    let secs: u64 = value.to_str().ok()?.trim().parse().ok()?;
    Some(Duration::from_secs(secs))
}

/// A refusal whose body this version cannot read, in staff's words, with
/// the start of what the hub said (bodies are the hub's text, never content).
fn unreadable_refusal(status: reqwest::StatusCode, bytes: &[u8]) -> ErrorBody {
    let said: String = String::from_utf8_lossy(bytes)
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect();
    ErrorBody {
        code: crate::protocol::ErrorCode::Unknown,
        message: format!(
            "ハブが受け付けませんでした（{status}）。このバージョンでは理由を読めません: {said}"
        ),
        message_en: format!(
            "the hub refused it ({status}) with a reason this version cannot read: {said}"
        ),
    }
}
