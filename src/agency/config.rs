//! An agency node's configuration (`agency.toml`).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::protocol::AgencyId;

/// TLS material of the node.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeTls {
    /// The hub's CA (trusted for the hub's server certificate).
    pub ca: PathBuf,
    /// This agency's client certificate.
    pub cert: PathBuf,
    /// This agency's client key.
    pub key: PathBuf,
}

/// The agency's own secret keys.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeKeys {
    /// age X25519 identity file (decrypts what is sent to this agency).
    pub age_identity: PathBuf,
    /// Ed25519 signing key file (signs what this agency sends).
    pub signing_key: PathBuf,
}

/// The whole node configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgencyConfig {
    /// This agency's id in the directory.
    pub id: AgencyId,
    /// The hub's base URL, e.g. `https://127.0.0.1:8443`.
    pub hub: String,
    /// This node's records: `sqlite:PATH`.
    pub database: String,
    /// A pinned copy of the directory. When set, recipients' keys come from
    /// this file, so a compromised hub cannot substitute keys; when absent,
    /// the node trusts the hub's `GET /v1/agencies`.
    #[serde(default)]
    pub directory: Option<PathBuf>,
    /// TLS material.
    pub tls: NodeTls,
    /// Secret keys.
    pub keys: NodeKeys,
    /// How long to wait for the hub before retrying later, in seconds
    /// (default 60).
    #[serde(default)]
    pub request_timeout_secs: Option<u64>,
}

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum AgencyConfigError {
    #[error("could not read agency config {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("agency config {path} is not valid: {source}")]
    Parse {
        path: PathBuf,
        source: toml::de::Error,
    },
}

impl AgencyConfig {
    /// Load `agency.toml`.
    pub fn load(path: &Path) -> Result<Self, AgencyConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| AgencyConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        toml::from_str(&text).map_err(|source| AgencyConfigError::Parse {
            path: path.to_owned(),
            source,
        })
    }

    /// The configuration of one agency of an example set laid out by
    /// `tsunagu certs example`, with its records under `data_dir`.
    pub fn from_example(certs: &Path, id: &AgencyId, hub: &str, data_dir: &Path) -> Self {
        let own = certs.join("agencies").join(id.as_str());
        Self {
            id: id.clone(),
            hub: hub.to_owned(),
            database: format!("sqlite:{}", data_dir.join(format!("{id}.db")).display()),
            directory: Some(certs.join("directory.toml")),
            tls: NodeTls {
                ca: certs.join("ca.pem"),
                cert: own.join("cert.pem"),
                key: own.join("key.pem"),
            },
            keys: NodeKeys {
                age_identity: own.join("age-identity.txt"),
                signing_key: own.join("signing-key.txt"),
            },
            request_timeout_secs: None,
        }
    }
}
