//! The directory of agencies: who may connect, what kind of body each is, and
//! its public keys. Loaded from a TOML file (`directory.toml`) of
//! `protocol::Agency` entries (the same entries `GET /v1/agencies` serves),
//! indexed by id and by certificate. The file also names the hub's own
//! signing key (`[hub]`), with which the hub signs what it says itself
//! (notices, audit checkpoints), and carries a version number that only
//! grows, so a node can refuse an older directory. The CA signs the file
//! (`signed`); what changed between two versions is `diff`.

mod diff;
mod edit;
mod revoked;
mod signed;

pub use diff::{DirectoryDiff, FieldChange, diff};
pub use edit::{AgencyKeys, DirectoryEdit, EditError, Edited, OldSigningKey, Update};
pub use revoked::{Revoked, RevokedReason};
pub use signed::{
    ALGORITHM, SignatureError, SignedDirectory, sign, signature_path, signed_version,
};

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::protocol::coverage::Agencies;
use crate::protocol::keys::{CertFingerprint, SigningPublicKey};
use crate::protocol::{Agency, AgencyId, AgencyKind};

#[derive(Serialize, Deserialize)]
struct DirectoryFile {
    /// Raised with every change; 0 in files written before it existed.
    #[serde(default)]
    version: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    hub: Option<HubEntry>,
    #[serde(rename = "agency", default)]
    agencies: Vec<Agency>,
    /// Certificates no longer admitted (see `revoked`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    revoked: Vec<Revoked>,
}

/// The hub as the directory lists it: the public half of the key it signs
/// its own statements with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HubEntry {
    /// The hub's Ed25519 public key.
    pub signing_key: SigningPublicKey,
}

/// Why a directory could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    #[error("could not read directory {path}: {source}")]
    Read {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("directory {path} is not valid TOML: {source}")]
    Parse {
        path: std::path::PathBuf,
        source: toml::de::Error,
    },
    #[error("directory lists agency {0} twice")]
    DuplicateId(AgencyId),
    #[error("directory lists certificate {0} for two agencies")]
    DuplicateCertificate(CertFingerprint),
    #[error(
        "directory lists agency {0}, which it also records as revoked: a revoked id is never reused"
    )]
    RevokedIdListed(AgencyId),
    #[error("directory lists certificate {0} for agency {1}, which it also records as revoked")]
    RevokedCertificateListed(CertFingerprint, AgencyId),
    #[error(
        "the directory names no hub signing key: add `[hub] signing_key = \"{0}\"` (the public key of the hub's signing key file)"
    )]
    NoHubKey(String),
    #[error(
        "the hub's signing key {actual} is not the one the directory names ({listed}): nodes would refuse everything the hub signs"
    )]
    HubKeyMismatch { actual: String, listed: String },
}

/// The loaded directory, indexed by agency id and by certificate.
#[derive(Clone, Debug, Default)]
pub struct Directory {
    version: u64,
    hub: Option<HubEntry>,
    agencies: Vec<Agency>,
    revoked: Vec<Revoked>,
    by_id: HashMap<AgencyId, usize>,
    by_cert: HashMap<CertFingerprint, usize>,
}

impl Directory {
    /// Build from a list, refusing duplicate ids or certificates.
    pub fn new(agencies: Vec<Agency>) -> Result<Self, DirectoryError> {
        let mut by_id = HashMap::new();
        let mut by_cert = HashMap::new();
        for (i, a) in agencies.iter().enumerate() {
            if by_id.insert(a.id.clone(), i).is_some() {
                return Err(DirectoryError::DuplicateId(a.id.clone()));
            }
            if by_cert.insert(a.cert_fingerprint.clone(), i).is_some() {
                return Err(DirectoryError::DuplicateCertificate(
                    a.cert_fingerprint.clone(),
                ));
            }
        }
        Ok(Self {
            version: 0,
            hub: None,
            agencies,
            revoked: Vec::new(),
            by_id,
            by_cert,
        })
    }

    /// With this version number.
    pub fn with_version(mut self, version: u64) -> Self {
        self.version = version;
        self
    }

    /// With this hub entry.
    pub fn with_hub(mut self, hub: HubEntry) -> Self {
        self.hub = Some(hub);
        self
    }

    /// With this record of revoked certificates, refused if it names a
    /// listed agency's certificate or a revoked agency's id.
    pub fn with_revoked(mut self, revoked: Vec<Revoked>) -> Result<Self, DirectoryError> {
        for r in &revoked {
            if let Some(listed) = self.by_certificate(&r.cert_fingerprint) {
                return Err(DirectoryError::RevokedCertificateListed(
                    r.cert_fingerprint.clone(),
                    listed.id.clone(),
                ));
            }
            if r.reason == RevokedReason::Revoked && self.get(&r.id).is_some() {
                return Err(DirectoryError::RevokedIdListed(r.id.clone()));
            }
        }
        self.revoked = revoked;
        Ok(self)
    }

    /// Every certificate no longer admitted, oldest first.
    pub fn revoked(&self) -> &[Revoked] {
        &self.revoked
    }

    /// Why this certificate is no longer admitted, if the directory says.
    pub fn revocation_of(&self, fingerprint: &CertFingerprint) -> Option<&Revoked> {
        self.revoked
            .iter()
            .find(|r| &r.cert_fingerprint == fingerprint)
    }

    /// Whether `id` was revoked (and so may never be listed again).
    pub fn is_revoked_id(&self, id: &AgencyId) -> bool {
        self.revoked
            .iter()
            .any(|r| &r.id == id && r.reason == RevokedReason::Revoked)
    }

    /// The version number (0 when the file has none).
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The hub's entry.
    pub fn hub(&self) -> Option<&HubEntry> {
        self.hub.as_ref()
    }

    /// The public key the hub signs its own statements with.
    pub fn hub_signing_key(&self) -> Option<&SigningPublicKey> {
        self.hub.as_ref().map(|h| &h.signing_key)
    }

    /// Refuse a hub signing key that is not the one this directory names:
    /// the hub checks at start, rather than every node refusing later.
    pub fn check_hub_key(&self, key: &ed25519_dalek::SigningKey) -> Result<(), DirectoryError> {
        let actual = SigningPublicKey(key.verifying_key());
        match self.hub_signing_key() {
            None => Err(DirectoryError::NoHubKey(actual.to_string())),
            Some(listed) if *listed != actual => Err(DirectoryError::HubKeyMismatch {
                actual: actual.to_string(),
                listed: listed.to_string(),
            }),
            Some(_) => Ok(()),
        }
    }

    /// Load `directory.toml`.
    pub fn load(path: &Path) -> Result<Self, DirectoryError> {
        let text = std::fs::read_to_string(path).map_err(|source| DirectoryError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text).map_err(|e| match e {
            DirectoryError::Parse { source, .. } => DirectoryError::Parse {
                path: path.to_owned(),
                source,
            },
            other => other,
        })
    }

    /// Parse the TOML text of a directory.
    pub fn parse(text: &str) -> Result<Self, DirectoryError> {
        let file: DirectoryFile = toml::from_str(text).map_err(|source| DirectoryError::Parse {
            path: Default::default(),
            source,
        })?;
        let directory = Self::new(file.agencies)?
            .with_version(file.version)
            .with_revoked(file.revoked)?;
        Ok(match file.hub {
            Some(hub) => directory.with_hub(hub),
            None => directory,
        })
    }

    /// The TOML text of this directory.
    pub fn to_toml(&self) -> String {
        let file = DirectoryFile {
            version: self.version,
            hub: self.hub.clone(),
            agencies: self.agencies.clone(),
            revoked: self.revoked.clone(),
        };
        toml::to_string_pretty(&file).unwrap_or_default()
    }

    /// A sentence with every agency id preceded by the name staff know it
    /// by: 「ひかり保育園（hikari-nursery）」 (for a hub's refusals).
    pub fn named(&self, text: &str) -> String {
        let mut text = text.to_owned();
        for a in self.agencies() {
            let id = a.id.to_string();
            if text.contains(&id) && !text.contains(&a.name) {
                text = text.replace(&id, &format!("{}（{id}）", a.name));
            }
        }
        text
    }

    /// The name staff know `id` by, or the id as given when unknown.
    pub fn name_of(&self, id: &str) -> String {
        id.parse::<AgencyId>()
            .ok()
            .and_then(|a| self.get(&a).map(|a| a.name.clone()))
            .unwrap_or_else(|| id.to_owned())
    }

    /// Every agency, in file order.
    pub fn agencies(&self) -> &[Agency] {
        &self.agencies
    }

    /// The agency with this id.
    pub fn get(&self, id: &AgencyId) -> Option<&Agency> {
        self.by_id.get(id).map(|&i| &self.agencies[i])
    }

    /// Every agency of a kind.
    pub fn of_kind(&self, kind: AgencyKind) -> impl Iterator<Item = &Agency> {
        self.agencies.iter().filter(move |a| a.kind == kind)
    }

    /// The agency whose client certificate has this fingerprint.
    pub fn by_certificate(&self, fingerprint: &CertFingerprint) -> Option<&Agency> {
        self.by_cert.get(fingerprint).map(|&i| &self.agencies[i])
    }
}

/// The coverage rules look agencies up here, on the hub and on a node alike.
impl Agencies for Directory {
    fn kind(&self, id: &AgencyId) -> Option<AgencyKind> {
        self.get(id).map(|a| a.kind)
    }

    fn council_member(&self, id: &AgencyId) -> bool {
        self.get(id).is_some_and(|a| a.yotaikyo_member)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::keys::generate_signing_key;

    /// A hub whose key is not the directory's would have every notice it
    /// signs refused by every node: it must not start.
    #[test]
    fn the_hub_key_must_be_the_one_the_directory_names() {
        let key = generate_signing_key();
        let unnamed = Directory::new(Vec::new()).unwrap();
        let refused = unnamed.check_hub_key(&key).unwrap_err();
        assert!(
            refused.to_string().contains("[hub] signing_key"),
            "{refused}"
        );
        let other = HubEntry {
            signing_key: SigningPublicKey(generate_signing_key().verifying_key()),
        };
        let wrong = Directory::new(Vec::new()).unwrap().with_hub(other);
        assert!(matches!(
            wrong.check_hub_key(&key),
            Err(DirectoryError::HubKeyMismatch { .. })
        ));
        let named = HubEntry {
            signing_key: SigningPublicKey(key.verifying_key()),
        };
        let text = Directory::new(Vec::new())
            .unwrap()
            .with_version(7)
            .with_hub(named)
            .to_toml();
        let parsed = Directory::parse(&text).unwrap();
        assert_eq!(parsed.version(), 7);
        parsed.check_hub_key(&key).unwrap();
    }
}
