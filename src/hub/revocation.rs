//! A connection lives only as long as the directory in force admits its
//! client certificate as its agency. Every request resolves its caller
//! against the current directory (`peer::Caller`); this module ends what
//! outlives a request: websocket sessions and kept-alive HTTP connections
//! close as soon as a reload removes their agency or replaces its
//! certificate. Other agencies' connections are untouched.

use std::sync::Arc;

use tokio::sync::watch;

use super::HubError;
use crate::directory::{Directory, RevokedReason, SignedDirectory};
use crate::protocol::keys::CertFingerprint;
use crate::protocol::{AgencyId, ErrorCode};

/// Why a connection's certificate is no longer admitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ejected {
    /// The agency left the directory.
    Revoked,
    /// The agency stays, with another certificate.
    Replaced,
}

impl Ejected {
    /// The websocket close reason (short: at most 123 bytes).
    pub(crate) fn close_reason(self) -> &'static str {
        match self {
            Ejected::Revoked => "agency revoked",
            Ejected::Replaced => "certificate replaced",
        }
    }
}

/// Whether `directory` still admits `fingerprint` as `agency`.
pub(crate) fn check(
    directory: &Directory,
    fingerprint: &CertFingerprint,
    agency: &AgencyId,
) -> Option<Ejected> {
    match directory.by_certificate(fingerprint) {
        Some(a) if &a.id == agency => None,
        _ if directory.get(agency).is_some() => Some(Ejected::Replaced),
        _ => Some(Ejected::Revoked),
    }
}

/// Resolves once the directory in force no longer admits `fingerprint` as
/// `agency`; never, while it does.
pub(crate) async fn ejected(
    mut current: watch::Receiver<Arc<SignedDirectory>>,
    fingerprint: CertFingerprint,
    agency: AgencyId,
) -> Ejected {
    loop {
        let why = check(
            current.borrow_and_update().directory(),
            &fingerprint,
            &agency,
        );
        if let Some(why) = why {
            return why;
        }
        if current.changed().await.is_err() {
            // The hub is gone; its shutdown closes the connection.
            return std::future::pending().await;
        }
    }
}

/// The refusal of a certificate the directory records as revoked, or
/// `None` for one it never listed.
pub(crate) fn refusal(directory: &Directory, fingerprint: &CertFingerprint) -> Option<HubError> {
    let revoked = directory.revocation_of(fingerprint)?;
    let id = &revoked.id;
    Some(match revoked.reason {
        RevokedReason::Revoked => HubError::new(
            ErrorCode::CertificateRevoked,
            format!(
                "機関 {id} の登録はディレクトリから取り消されました（{}）。このノードはもう接続できません。ハブの管理者に連絡してください。",
                revoked.at
            ),
            format!(
                "agency {id} was revoked from the directory ({}); this node can no longer connect; contact the hub operator",
                revoked.at
            ),
        ),
        RevokedReason::Replaced => HubError::new(
            ErrorCode::CertificateRevoked,
            format!(
                "このクライアント証明書は機関 {id} の新しい証明書に置き換えられ、失効しました（{}）。新しい証明書と鍵をノードに設定してください。",
                revoked.at
            ),
            format!(
                "this client certificate of agency {id} was replaced by a new one and revoked ({}); configure the node with the new certificate and keys",
                revoked.at
            ),
        ),
    })
}
