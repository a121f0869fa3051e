//! Who is calling: the agency of the verified TLS client certificate.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::{Hub, HubError};
use crate::protocol::keys::CertFingerprint;
use crate::protocol::{AgencyId, ErrorCode};
use crate::store::model::AuditEvent;

/// Set on every request by the TLS acceptor: the client certificate's
/// fingerprint and, if the directory listed it when the connection opened,
/// its agency (for admission; requests resolve it again, see [`Caller`]).
#[derive(Clone, Debug)]
pub(crate) struct Peer {
    pub fingerprint: CertFingerprint,
    pub agency: Option<AgencyId>,
}

/// Extractor for handlers that need a known agency; refuses everyone else.
/// Resolved against the directory in force for every request, so a reload
/// that revokes a certificate refuses its next request on a connection
/// opened before.
pub(crate) struct Caller(pub AgencyId);

impl FromRequestParts<Hub> for Caller {
    type Rejection = HubError;

    async fn from_request_parts(parts: &mut Parts, hub: &Hub) -> Result<Self, HubError> {
        let peer = parts.extensions.get::<Peer>();
        let directory = hub.directory();
        let listed = peer.and_then(|p| directory.by_certificate(&p.fingerprint));
        match listed {
            Some(agency) => Ok(Caller(agency.id.clone())),
            None => {
                let revoked =
                    peer.and_then(|p| super::revocation::refusal(&directory, &p.fingerprint));
                let code = revoked
                    .as_ref()
                    .map_or(ErrorCode::UnknownAgency, |e| e.code);
                let fingerprint = peer.map(|p| p.fingerprint.to_string());
                tracing::warn!(?fingerprint, ?code, "certificate of no listed agency");
                let detail = serde_json::json!({ "code": code, "certificate": fingerprint, "path": parts.uri.path() });
                if let Err(e) = hub
                    .store
                    .audit(AuditEvent::new("refused", None, None, detail))
                    .await
                {
                    tracing::error!(error = %e, "could not audit a refusal");
                }
                if let Some(refusal) = revoked {
                    return Err(refusal);
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
