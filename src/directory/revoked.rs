//! The directory's record of what it no longer admits: each agency removed
//! and each client certificate replaced, with when. Kept in the signed file
//! itself (`[[revoked]]`), so that
//! - the hub tells a revoked node *why* it is refused, not "unknown";
//! - an id is never silently reused: old records at every agency, the
//!   audit chain and the hub's envelopes name it, and a new body under the
//!   same id would inherit them;
//! - a stolen certificate's fingerprint can never be listed again by a
//!   mistaken copy-paste.
//!
//! Older nodes ignore the table (the directory file accepts unknown keys).

use serde::{Deserialize, Serialize};

use crate::protocol::keys::CertFingerprint;
use crate::protocol::{AgencyId, Timestamp};

/// Why a certificate is no longer admitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RevokedReason {
    /// The agency left the directory (`admin agency revoke`): its id is
    /// retired for ever.
    Revoked,
    /// The agency stays, with a new certificate (`admin agency update`,
    /// e.g. after a stolen node): only this certificate is refused.
    Replaced,
}

/// One certificate the directory no longer admits.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Revoked {
    /// The agency it belonged to.
    pub id: AgencyId,
    /// The certificate refused.
    pub cert_fingerprint: CertFingerprint,
    /// Why.
    pub reason: RevokedReason,
    /// When the operator made the change (the hub's audit entry records
    /// when it took effect).
    pub at: Timestamp,
}
