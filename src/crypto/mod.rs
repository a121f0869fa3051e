//! Cryptography: age encryption of payloads, Ed25519 signatures, key files,
//! the PKI and the TLS configurations built from it. Nothing here knows the
//! agency directory or how example sets are laid out (`crate::provision`).

pub mod files;
pub mod hub_signed;
pub mod keys;
pub mod pki;
pub mod seal;
pub mod sign;
pub mod tls;

/// A cryptographic failure. Messages never include key material or content.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("could not read key file {path}: {source}")]
    KeyFile {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("key file {path} is not valid: {reason}")]
    KeyFormat {
        path: std::path::PathBuf,
        reason: String,
    },
    #[error("encryption failed: {0}")]
    Encrypt(String),
    #[error("decryption failed: {0}")]
    Decrypt(String),
    #[error("signature does not verify")]
    BadSignature,
}
