//! Who is calling: the agency of the verified TLS client certificate.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::HubError;
use crate::crypto::CertFingerprint;
use crate::protocol::{AgencyId, ErrorCode};

/// Set on every request by the TLS acceptor: the client certificate's
/// fingerprint and, if the directory lists it, its agency.
#[derive(Clone, Debug)]
pub(crate) struct Peer {
    pub fingerprint: CertFingerprint,
    pub agency: Option<AgencyId>,
}

/// Extractor for handlers that need a known agency; refuses everyone else.
pub(crate) struct Caller(pub AgencyId);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = HubError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, HubError> {
        let peer = parts.extensions.get::<Peer>();
        match peer.and_then(|p| p.agency.clone()) {
            Some(agency) => Ok(Caller(agency)),
            None => {
                tracing::warn!(fingerprint = ?peer.map(|p| &p.fingerprint), "certificate of no listed agency");
                Err(HubError::new(
                    ErrorCode::UnknownAgency,
                    "このクライアント証明書はディレクトリのどの機関にも登録されていません。ハブの管理者に連絡してください。",
                    "this client certificate belongs to no agency in the directory; contact the hub operator",
                ))
            }
        }
    }
}
