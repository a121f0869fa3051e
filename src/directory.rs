//! The directory of agencies: who may connect, what kind of body each is, and
//! its public keys. Loaded from a TOML file (`directory.toml`) of
//! `protocol::Agency` entries (the same entries `GET /v1/agencies` serves),
//! indexed by id and by certificate.

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::protocol::coverage::Agencies;
use crate::protocol::keys::CertFingerprint;
use crate::protocol::{Agency, AgencyId, AgencyKind};

#[derive(Serialize, Deserialize)]
struct DirectoryFile {
    #[serde(rename = "agency", default)]
    agencies: Vec<Agency>,
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
}

/// The loaded directory, indexed by agency id and by certificate.
#[derive(Clone, Debug, Default)]
pub struct Directory {
    agencies: Vec<Agency>,
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
            agencies,
            by_id,
            by_cert,
        })
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
        Self::new(file.agencies)
    }

    /// The TOML text of this directory.
    pub fn to_toml(&self) -> String {
        let file = DirectoryFile {
            agencies: self.agencies.clone(),
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
