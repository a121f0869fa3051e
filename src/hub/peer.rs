//! Who is calling: the agency of the verified TLS client certificate.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::{Hub, HubError};
use crate::protocol::keys::CertFingerprint;
use crate::protocol::{AgencyId, ErrorCode};
use crate::store::model::AuditEvent;

/// Set on every request by the TLS acceptor: the client certificate's
/// fingerprint and, if the directory lists it, its agency.
#[derive(Clone, Debug)]
pub(crate) struct Peer {
    pub fingerprint: CertFingerprint,
    pub agency: Option<AgencyId>,
}

/// Extractor for handlers that need a known agency; refuses everyone else.
pub(crate) struct Caller(pub AgencyId);

impl FromRequestParts<Hub> for Caller {
    type Rejection = HubError;

    async fn from_request_parts(parts: &mut Parts, hub: &Hub) -> Result<Self, HubError> {
        let peer = parts.extensions.get::<Peer>();
        match peer.and_then(|p| p.agency.clone()) {
            Some(agency) => Ok(Caller(agency)),
            None => {
                let fingerprint = peer.map(|p| p.fingerprint.to_string());
                tracing::warn!(?fingerprint, "certificate of no listed agency");
                let detail = serde_json::json!({ "code": ErrorCode::UnknownAgency, "certificate": fingerprint, "path": parts.uri.path() });
                if let Err(e) = hub
                    .store
                    .audit(AuditEvent::new("refused", None, None, detail))
                    .await
                {
                    tracing::error!(error = %e, "could not audit a refusal");
                }
                Err(HubError::new(
                    ErrorCode::UnknownAgency,
                    "このクライアント証明書はディレクトリのどの機関にも登録されていません。ハブの管理者に連絡してください。",
                    "this client certificate belongs to no agency in the directory; contact the hub operator",
                ))
            }
        }
    }
}
