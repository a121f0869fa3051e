//! Public keys as they travel: in the directory (`directory.toml`,
//! `GET /v1/agencies`) an agency is listed with its age recipient, its
//! Ed25519 public key and the fingerprint of its client certificate.
//!
//! These are wire data, so they live in the contract: each type parses and
//! prints the documented text form (`age1…`, base64, `sha256:<hex>`) and
//! nothing more. The operations on them (sealing, verifying, TLS) are
//! `crypto`'s, which depends on this module, never the other way round.

use std::fmt;
use std::str::FromStr;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// An agency's age X25519 recipient (`age1…`), to which payloads are encrypted.
#[derive(Clone, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AgeRecipient(age::x25519::Recipient);

impl AgeRecipient {
    /// The age recipient, for encryption.
    pub fn inner(&self) -> &age::x25519::Recipient {
        &self.0
    }
}

impl From<age::x25519::Recipient> for AgeRecipient {
    fn from(r: age::x25519::Recipient) -> Self {
        Self(r)
    }
}

impl FromStr for AgeRecipient {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        s.parse::<age::x25519::Recipient>()
            .map(Self)
            .map_err(|e| format!("invalid age recipient: {e}"))
    }
}

impl TryFrom<String> for AgeRecipient {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<AgeRecipient> for String {
    fn from(r: AgeRecipient) -> String {
        r.0.to_string()
    }
}

impl fmt::Display for AgeRecipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Debug for AgeRecipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AgeRecipient({})", self.0)
    }
}

impl PartialEq for AgeRecipient {
    fn eq(&self, other: &Self) -> bool {
        self.to_string() == other.to_string()
    }
}

/// An agency's Ed25519 public key (base64 of 32 bytes), which verifies its
/// envelopes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SigningPublicKey(pub VerifyingKey);

impl FromStr for SigningPublicKey {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bytes = STANDARD
            .decode(s.trim())
            .map_err(|e| format!("invalid signing key base64: {e}"))?;
        let arr: [u8; 32] = bytes
            .try_into()
            .map_err(|_| "signing key must be 32 bytes".to_owned())?;
        VerifyingKey::from_bytes(&arr)
            .map(Self)
            .map_err(|e| format!("invalid Ed25519 public key: {e}"))
    }
}

impl TryFrom<String> for SigningPublicKey {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl fmt::Display for SigningPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from(*self))
    }
}

impl From<SigningPublicKey> for String {
    fn from(k: SigningPublicKey) -> String {
        STANDARD.encode(k.0.to_bytes())
    }
}

/// SHA-256 of a certificate's DER encoding, as `sha256:<hex>`. Maps a client
/// certificate to its agency.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CertFingerprint(String);

impl CertFingerprint {
    /// The fingerprint of a DER-encoded certificate.
    pub fn of_der(der: &[u8]) -> Self {
        Self(format!("sha256:{}", hex::encode(Sha256::digest(der))))
    }
}

impl TryFrom<String> for CertFingerprint {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        match s.strip_prefix("sha256:") {
            Some(h) if h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()) => {
                Ok(Self(s.to_ascii_lowercase()))
            }
            _ => Err(format!(
                "invalid certificate fingerprint {s:?}: expected sha256:<64 hex>"
            )),
        }
    }
}

impl From<CertFingerprint> for String {
    fn from(f: CertFingerprint) -> String {
        f.0
    }
}

impl fmt::Display for CertFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
