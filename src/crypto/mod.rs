//! Cryptography: age encryption of payloads, Ed25519 signatures, key files,
//! the PKI and the TLS configurations built from it. Nothing here knows the
//! agency directory or how example sets are laid out (`crate::provision`).

pub mod files;
pub mod hub_signed;
pub mod keys;
pub mod passphrase;
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
    #[error(
        "{path} のパスフレーズが違います（ファイルは変更していません） / wrong passphrase for {path} (the file is unchanged)"
    )]
    WrongPassphrase { path: std::path::PathBuf },
    #[error(
        "{path} はパスフレーズで保護されていますが、パスフレーズがありません: systemd の資格情報 tsunagu-passphrase か TSUNAGU_PASSPHRASE_FILE を設定するか、端末から起動してください / {path} is protected by a passphrase but none was given: provide the systemd credential tsunagu-passphrase, set TSUNAGU_PASSPHRASE_FILE, or run on a terminal"
    )]
    NoPassphrase { path: std::path::PathBuf },
    #[error("encryption failed: {0}")]
    Encrypt(String),
    #[error("decryption failed: {0}")]
    Decrypt(String),
    #[error("signature does not verify")]
    BadSignature,
}
