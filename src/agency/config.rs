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
    /// The staff web UI: session timeouts and login throttling. Absent in
    /// older configs: the defaults apply.
    #[serde(default)]
    pub ui: UiConfig,
}

/// `[ui]`: how long staff sessions last and how hard login is throttled.
/// Every field has a default, so `[ui]` may be absent or partial.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UiConfig {
    /// A session ends after this many minutes without a request (default 15).
    pub session_idle_minutes: u32,
    /// The idle timeout in seconds instead, when set: for demos and tests
    /// that must see a session idle out without waiting minutes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_idle_seconds: Option<u32>,
    /// A session ends this many hours after login, however active (default 8).
    pub session_max_hours: u32,
    /// Failed logins to one account within the window that lock it (default 5).
    pub account_failures: u32,
    /// Failed logins from one address within the window that lock it
    /// (default 20: an office's staff may all reach the node from one address).
    pub address_failures: u32,
    /// The window failures are counted in, in minutes (default 15).
    pub failure_window_minutes: u32,
    /// How long a lock lasts, in minutes (default 15).
    pub lockout_minutes: u32,
    /// Where `agency run` serves the web UI, e.g. `127.0.0.1:8421`
    /// ([`UiConfig::DEFAULT_LISTEN`]). Absent: no web UI (so several nodes,
    /// or a node and the CLI's tests, can run on one machine without a
    /// port between them). Any address but loopback needs `tls_cert` and
    /// `tls_key`: staff passwords never cross a network in clear.
    pub listen: Option<std::net::SocketAddr>,
    /// The web UI's certificate chain (PEM); with `tls_key`, it serves HTTPS.
    pub tls_cert: Option<PathBuf>,
    /// The web UI's private key (PEM).
    pub tls_key: Option<PathBuf>,
    /// Seconds a connection has to send a request's headers, counted from
    /// the connection or the previous response (default 10): a silent
    /// connection, or an idle kept-alive one, is closed then.
    pub header_timeout_secs: u64,
}

impl Default for UiConfig {
    fn default() -> Self {
        Self {
            session_idle_minutes: 15,
            session_idle_seconds: None,
            session_max_hours: 8,
            account_failures: 5,
            address_failures: 20,
            failure_window_minutes: 15,
            lockout_minutes: 15,
            listen: None,
            tls_cert: None,
            tls_key: None,
            header_timeout_secs: 10,
        }
    }
}

impl UiConfig {
    /// The address staff reach their node's UI at by convention.
    pub const DEFAULT_LISTEN: &str = "127.0.0.1:8421";

    /// The certificate and key to serve the UI with, if both are set.
    pub fn tls(&self) -> Option<(&Path, &Path)> {
        Some((self.tls_cert.as_deref()?, self.tls_key.as_deref()?))
    }
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
            ui: UiConfig::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_config_without_ui_gets_the_default_timeouts_and_a_partial_one_keeps_the_rest() {
        let base = AgencyConfig::from_example(
            Path::new("certs"),
            &"minato-center".parse().unwrap(),
            "https://127.0.0.1:8443",
            Path::new("data"),
        );
        let mut table: toml::Table = toml::from_str(&toml::to_string(&base).unwrap()).unwrap();
        table.remove("ui");
        let old: AgencyConfig = toml::from_str(&toml::to_string(&table).unwrap()).unwrap();
        assert_eq!(old.ui, UiConfig::default());

        let text = format!(
            "{}\n[ui]\nsession_idle_minutes = 5\n",
            toml::to_string(&table).unwrap()
        );
        let partial: AgencyConfig = toml::from_str(&text).unwrap();
        assert_eq!(partial.ui.session_idle_minutes, 5);
        assert_eq!(partial.ui.session_max_hours, 8);
    }
}
