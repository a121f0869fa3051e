//! The directory as the CA signed it. The CA key signs the exact bytes of
//! `directory.toml`, offline; the signature is a detached file beside it
//! (`directory.toml.sig`). Everyone who uses a directory (the hub at start,
//! every node, `tsunagu admin directory verify`) checks it against the CA
//! certificate they already trust for TLS, so a hub cannot substitute an
//! agency's keys: it does not hold the CA key.
//!
//! The signed message is a fixed prefix and then the file's bytes. A
//! certificate's signed part is a DER SEQUENCE (first byte 0x30); the prefix
//! begins with `t`, so a directory signature can never pass for a
//! certificate signature, nor the other way round.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use super::{Directory, DirectoryError};
use crate::crypto::pki::{self, CaBundle, PkiError};

/// What precedes the directory's bytes in the signed message.
const DOMAIN: &[u8] = b"tsunagu signed directory v1\n";
/// The one algorithm a directory signature may name.
pub const ALGORITHM: &str = "ecdsa-p256-sha256";

/// Why a directory was refused, or could not be signed.
#[derive(Debug, thiserror::Error)]
pub enum SignatureError {
    #[error("could not read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "directory {path} has no signature ({path}.sig): sign it with `tsunagu admin directory sign --ca-cert ca.pem --ca-key ca-key.pem {path}`"
    )]
    Unsigned { path: PathBuf },
    #[error("the directory signature is not readable: {0}")]
    Malformed(String),
    #[error("the directory signature uses {0}; only {ALGORITHM} is accepted")]
    Algorithm(String),
    #[error("the directory signature names version {signed} but the directory is version {listed}")]
    VersionMismatch { signed: u64, listed: u64 },
    #[error(
        "the directory's signature does not verify with the CA certificate: it was altered after signing, or signed by another CA"
    )]
    Invalid,
    #[error(
        "directory version {offered} is not newer than version {held}, already accepted: an older directory (which may list revoked keys) is refused"
    )]
    NotNewer { offered: u64, held: u64 },
    #[error(transparent)]
    Directory(#[from] DirectoryError),
    #[error(transparent)]
    Pki(#[from] PkiError),
}

/// The detached signature file (`directory.toml.sig`).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignatureFile {
    algorithm: String,
    /// The version of the directory signed, so that `sign` can refuse to
    /// replace a signature with one for an older directory without the old
    /// text. Checked against the signed text on every verification.
    version: u64,
    /// Base64 of the DER ECDSA signature.
    signature: String,
}

impl SignatureFile {
    fn parse(text: &str) -> Result<Self, SignatureError> {
        let file: Self =
            toml::from_str(text).map_err(|e| SignatureError::Malformed(e.message().to_owned()))?;
        if file.algorithm != ALGORITHM {
            return Err(SignatureError::Algorithm(file.algorithm));
        }
        Ok(file)
    }
}

/// Where a directory's signature lives: the same path with `.sig` added.
pub fn signature_path(directory: &Path) -> PathBuf {
    let mut path = directory.as_os_str().to_owned();
    path.push(".sig");
    PathBuf::from(path)
}

fn message(text: &str) -> Vec<u8> {
    [DOMAIN, text.as_bytes()].concat()
}

/// Sign the text of a directory with the CA; returns the signature file's
/// text. The text must parse as a directory (an operator's typo is caught
/// here, not on every node).
pub fn sign(text: &str, ca: &CaBundle) -> Result<String, SignatureError> {
    let directory = Directory::parse(text)?;
    let signature = ca.sign_statement(&message(text))?;
    let file = SignatureFile {
        algorithm: ALGORITHM.to_owned(),
        version: directory.version(),
        signature: STANDARD.encode(signature),
    };
    let body = toml::to_string(&file).map_err(|e| SignatureError::Malformed(e.to_string()))?;
    Ok(format!(
        "# tsunagu: the CA's signature over directory.toml (check with `tsunagu admin directory verify`)\n{body}"
    ))
}

/// The version a signature file says it signed (not verified: for
/// `admin directory sign` to refuse going backwards).
pub fn signed_version(signature: &str) -> Result<u64, SignatureError> {
    Ok(SignatureFile::parse(signature)?.version)
}

/// A directory whose signature verified with the CA certificate, with the
/// exact text and signature that were checked (to serve and to keep).
#[derive(Clone, Debug)]
pub struct SignedDirectory {
    text: String,
    signature: String,
    // Shared, so the hub hands each request the directory it checked
    // without copying it.
    directory: Arc<Directory>,
}

impl SignedDirectory {
    /// Verify `text` with `signature` against the CA certificate
    /// `ca_cert_pem`, then parse it.
    pub fn verify(
        text: String,
        signature: String,
        ca_cert_pem: &str,
    ) -> Result<Self, SignatureError> {
        let file = SignatureFile::parse(&signature)?;
        let bytes = STANDARD
            .decode(file.signature.trim())
            .map_err(|e| SignatureError::Malformed(format!("invalid base64: {e}")))?;
        pki::verify_ca_signature(ca_cert_pem, &message(&text), &bytes).map_err(|e| match e {
            PkiError::BadSignature => SignatureError::Invalid,
            other => SignatureError::Pki(other),
        })?;
        // Only now is the text worth parsing: it is what the CA signed.
        let directory = Directory::parse(&text)?;
        if file.version != directory.version() {
            return Err(SignatureError::VersionMismatch {
                signed: file.version,
                listed: directory.version(),
            });
        }
        Ok(Self {
            text,
            signature,
            directory: Arc::new(directory),
        })
    }

    /// Load `path` and `path.sig` and verify them against the CA
    /// certificate file `ca_cert`.
    pub fn load(path: &Path, ca_cert: &Path) -> Result<Self, SignatureError> {
        let read = |path: &Path| {
            std::fs::read_to_string(path).map_err(|source| SignatureError::Read {
                path: path.to_owned(),
                source,
            })
        };
        let text = read(path)?;
        let sig_path = signature_path(path);
        if !sig_path.exists() {
            return Err(SignatureError::Unsigned {
                path: path.to_owned(),
            });
        }
        let signature = read(&sig_path)?;
        Self::verify(text, signature, &read(ca_cert)?)
    }

    /// Refuse this directory unless it is newer than `held` (the highest
    /// version already accepted), or the very same text.
    pub fn newer_than(&self, held: Option<&SignedDirectory>) -> Result<bool, SignatureError> {
        match held {
            None => Ok(true),
            Some(held) if held.text == self.text => Ok(false),
            Some(held) if self.version() > held.version() => Ok(true),
            Some(held) => Err(SignatureError::NotNewer {
                offered: self.version(),
                held: held.version(),
            }),
        }
    }

    /// The directory.
    pub fn directory(&self) -> &Directory {
        &self.directory
    }

    /// The directory, shared.
    pub fn shared(&self) -> Arc<Directory> {
        self.directory.clone()
    }

    /// Its version.
    pub fn version(&self) -> u64 {
        self.directory.version()
    }

    /// The exact text the CA signed.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The signature file's text.
    pub fn signature(&self) -> &str {
        &self.signature
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::pki::generate_ca;

    const TEXT: &str = "version = 3\n";

    #[test]
    fn a_signed_directory_verifies_and_any_change_is_refused() {
        let ca = generate_ca("ca").unwrap();
        let signature = sign(TEXT, &ca).unwrap();
        let signed = SignedDirectory::verify(TEXT.into(), signature.clone(), &ca.cert_pem).unwrap();
        assert_eq!(signed.version(), 3);
        let tampered = SignedDirectory::verify("version = 4\n".into(), signature, &ca.cert_pem);
        assert!(matches!(tampered, Err(SignatureError::Invalid)));
    }

    #[test]
    fn another_cas_signature_and_unreadable_signatures_are_refused() {
        let (ca, other) = (generate_ca("ca").unwrap(), generate_ca("other").unwrap());
        let foreign = sign(TEXT, &other).unwrap();
        let refused = SignedDirectory::verify(TEXT.into(), foreign, &ca.cert_pem);
        assert!(matches!(refused, Err(SignatureError::Invalid)));
        let rsa = "algorithm = \"rsa\"\nversion = 3\nsignature = \"AA==\"\n";
        let refused = SignedDirectory::verify(TEXT.into(), rsa.into(), &ca.cert_pem);
        assert!(matches!(refused, Err(SignatureError::Algorithm(_))));
        let garbage = SignedDirectory::verify(TEXT.into(), "nonsense".into(), &ca.cert_pem);
        assert!(matches!(garbage, Err(SignatureError::Malformed(_))));
    }

    /// The signature's own version line is not signed; it must agree with
    /// the signed text, or `sign`'s check against going backwards could be
    /// fooled by editing it.
    #[test]
    fn a_signature_file_whose_version_was_edited_is_refused() {
        let ca = generate_ca("ca").unwrap();
        let edited = sign(TEXT, &ca)
            .unwrap()
            .replace("version = 3", "version = 9");
        let refused = SignedDirectory::verify(TEXT.into(), edited, &ca.cert_pem);
        assert!(matches!(
            refused,
            Err(SignatureError::VersionMismatch { signed: 9, .. })
        ));
    }

    #[test]
    fn only_a_newer_version_replaces_the_held_one() {
        let ca = generate_ca("ca").unwrap();
        let at = |text: &str| {
            SignedDirectory::verify(text.into(), sign(text, &ca).unwrap(), &ca.cert_pem).unwrap()
        };
        let (v3, v4) = (at(TEXT), at("version = 4\n"));
        assert!(v4.newer_than(Some(&v3)).unwrap());
        assert!(!v3.newer_than(Some(&v3)).unwrap());
        let other_v3 = at("version = 3\n# changed\n");
        assert!(matches!(
            other_v3.newer_than(Some(&v3)),
            Err(SignatureError::NotNewer {
                offered: 3,
                held: 3
            })
        ));
        assert!(v3.newer_than(Some(&v4)).is_err());
    }
}
