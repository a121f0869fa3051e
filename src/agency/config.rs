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
    /// The key the node's records are encrypted with at rest. Absent (configs
    /// written before records were encrypted): `records-key.txt` beside the
    /// age identity, created at the node's first start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub records_key: Option<PathBuf>,
}

impl NodeKeys {
    /// The file name of the records key beside the age identity.
    pub const RECORDS_KEY_FILE: &str = "records-key.txt";

    /// Where the records key is: as configured, or beside the age identity.
    pub fn records_key_path(&self) -> PathBuf {
        self.records_key.clone().unwrap_or_else(|| {
            self.age_identity
                .parent()
                .unwrap_or(Path::new("."))
                .join(Self::RECORDS_KEY_FILE)
        })
    }

    /// Every secret key file of the node.
    pub fn files(&self) -> [PathBuf; 3] {
        [
            self.age_identity.clone(),
            self.signing_key.clone(),
            self.records_key_path(),
        ]
    }
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
    /// After the hub was restored from a backup, send again what the hub
    /// accepted from this many seconds before the backup on (default 3600:
    /// clocks differ; a resend the hub holds is answered `duplicate`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_resend_margin_secs: Option<u64>,
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

/// The variable systemd sets to the directory of a unit's credentials.
const CREDENTIALS: &str = "CREDENTIALS_DIRECTORY";

/// A key path may start with `$CREDENTIALS_DIRECTORY/`: the key is then a
/// systemd credential (`LoadCredential=`/`LoadCredentialEncrypted=`), which
/// systemd decrypts into a directory only the service can read, at a path
/// known only when the service starts.
fn in_credentials(path: &Path, dir: Option<&Path>) -> Result<PathBuf, AgencyConfigError> {
    let Ok(rest) = path.strip_prefix(format!("${CREDENTIALS}")) else {
        return Ok(path.to_owned());
    };
    let dir = dir.ok_or_else(|| AgencyConfigError::NoCredentials {
        path: path.to_owned(),
    })?;
    Ok(dir.join(rest))
}

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum AgencyConfigError {
    #[error("could not read agency config {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path} は systemd の資格情報ですが、CREDENTIALS_DIRECTORY がありません: LoadCredential= のあるユニットから起動してください / {path} is a systemd credential but CREDENTIALS_DIRECTORY is not set: start the node from a unit with LoadCredential="
    )]
    NoCredentials { path: PathBuf },
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
        let mut config: Self =
            toml::from_str(&text).map_err(|source| AgencyConfigError::Parse {
                path: path.to_owned(),
                source,
            })?;
        let credentials = std::env::var_os(CREDENTIALS).map(PathBuf::from);
        for key in [
            &mut config.tls.key,
            &mut config.keys.age_identity,
            &mut config.keys.signing_key,
        ]
        .into_iter()
        .chain(config.keys.records_key.as_mut())
        {
            *key = in_credentials(key, credentials.as_deref())?;
        }
        Ok(config)
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
                records_key: Some(own.join(NodeKeys::RECORDS_KEY_FILE)),
            },
            request_timeout_secs: None,
            restore_resend_margin_secs: None,
            ui: UiConfig::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_path_under_the_credentials_directory_is_expanded_and_refused_without_one() {
        let key = Path::new("$CREDENTIALS_DIRECTORY/age-identity");
        let dir = Path::new("/run/credentials/tsunagu-agency.service");
        assert_eq!(
            in_credentials(key, Some(dir)).unwrap(),
            dir.join("age-identity")
        );
        let plain = Path::new("/etc/tsunagu/agency/age-identity.txt");
        assert_eq!(in_credentials(plain, None).unwrap(), plain);
        let refused = in_credentials(key, None).unwrap_err();
        assert!(
            refused.to_string().contains("CREDENTIALS_DIRECTORY"),
            "{refused}"
        );
    }

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
