//! The key files an agency node loads and provisioning writes. The public
//! key types themselves are wire data and live in `protocol::keys`.

use std::path::Path;

use age::secrecy::ExposeSecret;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::SigningKey;

use super::CryptoError;
use crate::protocol::keys::SigningPublicKey;

/// Read a key file, refused if others can read it; one protected by a
/// passphrase (age's scrypt format, see [`super::passphrase`]) is decrypted
/// in memory with the passphrase from the process's source.
pub fn read_key_file(path: &Path) -> Result<String, CryptoError> {
    let bytes = super::files::owner_only(path)
        .and_then(|()| std::fs::read(path))
        .map_err(|source| CryptoError::KeyFile {
            path: path.to_owned(),
            source,
        })?;
    if super::passphrase::is_protected(&bytes) {
        return super::passphrase::open_with_env(path, &bytes);
    }
    String::from_utf8(bytes).map_err(|_| CryptoError::KeyFormat {
        path: path.to_owned(),
        reason: "not a text file".into(),
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

/// Load an age identity file (`AGE-SECRET-KEY-1…`, `#` comments allowed):
/// its newest identity, the one the directory lists.
pub fn load_age_identity(path: &Path) -> Result<age::x25519::Identity, CryptoError> {
    let mut all = load_age_identities(path)?;
    Ok(all.remove(0))
}

/// Every identity of an age identity file, newest first: after a key
/// rotation the file keeps the old identities below the new one, so what
/// was sent to an old key still opens. Never empty.
pub fn load_age_identities(path: &Path) -> Result<Vec<age::x25519::Identity>, CryptoError> {
    let text = read_key_file(path)?;
    parse_age_identities(path, &text)
}

fn parse_age_identities(
    path: &Path,
    text: &str,
) -> Result<Vec<age::x25519::Identity>, CryptoError> {
    key_line(path, text)?;
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|line| {
            line.parse().map_err(|e: &str| CryptoError::KeyFormat {
                path: path.to_owned(),
                reason: e.to_owned(),
            })
        })
        .collect()
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

/// The 256-bit key the node's records database is encrypted with
/// (SQLCipher's raw key: random, so no key derivation is needed).
#[derive(Clone, PartialEq, Eq)]
pub struct RecordsKey([u8; 32]);

impl std::fmt::Debug for RecordsKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecordsKey(…)")
    }
}

impl RecordsKey {
    /// A new random key.
    pub fn generate() -> Self {
        let mut key = [0u8; 32];
        // The OS random source failing is unrecoverable for key generation.
        getrandom::fill(&mut key).expect("the OS random number generator failed");
        Self(key)
    }

    /// The key's bytes, for the database to be keyed with.
    pub fn expose(&self) -> &[u8; 32] {
        &self.0
    }
}

/// Load a records key file (64 hex digits, `#` comments allowed).
pub fn load_records_key(path: &Path) -> Result<RecordsKey, CryptoError> {
    let text = read_key_file(path)?;
    let bad = |reason: String| CryptoError::KeyFormat {
        path: path.to_owned(),
        reason,
    };
    let bytes =
        hex::decode(key_line(path, &text)?).map_err(|e| bad(format!("invalid hex: {e}")))?;
    let key: [u8; 32] = bytes
        .try_into()
        .map_err(|_| bad("a records key is 32 bytes (64 hex digits)".into()))?;
    Ok(RecordsKey(key))
}

/// The text of a records key file.
pub fn records_key_file(key: &RecordsKey, comment: &str) -> String {
    format!(
        "# {comment}\n# encrypts this node's records database (SQLCipher); without it the records cannot be read\n{}\n",
        hex::encode(key.0)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_records_key_file_round_trips_and_a_short_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("records-key.txt");
        let key = RecordsKey::generate();
        super::super::files::write_secret(&path, &records_key_file(&key, "test")).unwrap();
        assert_eq!(load_records_key(&path).unwrap(), key);
        assert_eq!(format!("{key:?}"), "RecordsKey(…)");
        super::super::files::write_secret(&path, "abcd\n").unwrap();
        let err = load_records_key(&path).unwrap_err();
        assert!(err.to_string().contains("32 bytes"), "{err}");
    }

    /// A rotated identity file: the new identity first, the old one kept.
    #[test]
    fn an_identity_file_with_several_identities_loads_them_all_newest_first() {
        let (new, old) = (
            age::x25519::Identity::generate(),
            age::x25519::Identity::generate(),
        );
        let text = format!(
            "{}{}",
            age_identity_file(&new, "new"),
            age_identity_file(&old, "old")
        );
        let path = Path::new("age-identity.txt");
        let loaded = parse_age_identities(path, &text).unwrap();
        let publics: Vec<_> = loaded.iter().map(|i| i.to_public().to_string()).collect();
        assert_eq!(
            publics,
            [new.to_public().to_string(), old.to_public().to_string()]
        );
        let broken = format!("{text}AGE-SECRET-KEY-1NOTAKEY\n");
        assert!(matches!(
            parse_age_identities(path, &broken),
            Err(CryptoError::KeyFormat { .. })
        ));
        assert!(parse_age_identities(path, "# only comments\n").is_err());
    }
}
