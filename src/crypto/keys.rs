//! The key files an agency node loads and provisioning writes. The public
//! key types themselves are wire data and live in `protocol::keys`.

use std::path::Path;

use age::secrecy::ExposeSecret;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::SigningKey;

use super::CryptoError;
use crate::protocol::keys::SigningPublicKey;

fn read_key_file(path: &Path) -> Result<String, CryptoError> {
    super::files::owner_only(path)
        .and_then(|()| std::fs::read_to_string(path))
        .map_err(|source| CryptoError::KeyFile {
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
