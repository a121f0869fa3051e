//! Public key types as they appear in the directory, and the key files an
//! agency node loads.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use age::secrecy::ExposeSecret;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::CryptoError;

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

fn read_key_file(path: &Path) -> Result<String, CryptoError> {
    std::fs::read_to_string(path).map_err(|source| CryptoError::KeyFile {
        path: path.to_owned(),
        source,
    })
}

/// The first line of a key file that is not blank and not a `#` comment.
fn key_line(path: &Path, text: &str) -> Result<String, CryptoError> {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .ok_or_else(|| CryptoError::KeyFormat {
            path: path.to_owned(),
            reason: "no key line".into(),
        })
}

/// Load an age identity file (`AGE-SECRET-KEY-1…`, `#` comments allowed).
pub fn load_age_identity(path: &Path) -> Result<age::x25519::Identity, CryptoError> {
    let text = read_key_file(path)?;
    key_line(path, &text)?
        .parse()
        .map_err(|e: &str| CryptoError::KeyFormat {
            path: path.to_owned(),
            reason: e.to_owned(),
        })
}

/// The text of an age identity file.
pub fn age_identity_file(identity: &age::x25519::Identity, comment: &str) -> String {
    format!(
        "# {comment}\n# public key: {}\n{}\n",
        identity.to_public(),
        identity.to_string().expose_secret()
    )
}

/// Load an Ed25519 signing key file (base64 of the 32-byte seed, `#` comments allowed).
pub fn load_signing_key(path: &Path) -> Result<SigningKey, CryptoError> {
    let text = read_key_file(path)?;
    let bad = |reason: String| CryptoError::KeyFormat {
        path: path.to_owned(),
        reason,
    };
    let bytes = STANDARD
        .decode(key_line(path, &text)?)
        .map_err(|e| bad(format!("invalid base64: {e}")))?;
    let seed: [u8; 32] = bytes
        .try_into()
        .map_err(|_| bad("an Ed25519 seed is 32 bytes".into()))?;
    Ok(SigningKey::from_bytes(&seed))
}

/// A new random Ed25519 signing key.
pub fn generate_signing_key() -> SigningKey {
    let mut seed = [0u8; 32];
    // The OS random source failing is unrecoverable for key generation.
    getrandom::fill(&mut seed).expect("the OS random number generator failed");
    SigningKey::from_bytes(&seed)
}

/// The text of a signing key file.
pub fn signing_key_file(key: &SigningKey, comment: &str) -> String {
    format!(
        "# {comment}\n# public key: {}\n{}\n",
        String::from(SigningPublicKey(key.verifying_key())),
        STANDARD.encode(key.to_bytes())
    )
}
