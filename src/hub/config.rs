//! Hub configuration: defaults, overridden by a TOML file, overridden by flags.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// Where the example PKI lives; the default, with a loud warning.
pub const EXAMPLE_CERTS: &str = "certs-example";

/// Limits that protect the hub and its users.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Largest accepted ciphertext, in bytes (default 10 MiB).
    pub max_envelope_bytes: usize,
    /// Most simultaneous TLS connections.
    pub max_connections: usize,
    /// Seconds allowed for a TLS handshake.
    pub handshake_timeout_secs: u64,
    /// Seconds allowed for a request's headers to arrive, counted from the
    /// connection or the previous response: it also closes an idle
    /// kept-alive connection.
    pub header_timeout_secs: u64,
    /// Seconds between websocket pings.
    pub ping_interval_secs: u64,
    /// Seconds of silence after which a socket is considered dead.
    pub idle_timeout_secs: u64,
    /// At most one signed audit checkpoint per socket per this many
    /// seconds, sent only when the chain has grown (one also follows every
    /// `welcome`).
    pub checkpoint_interval_secs: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_envelope_bytes: 10 * 1024 * 1024,
            max_connections: 10_000,
            handshake_timeout_secs: 10,
            header_timeout_secs: 10,
            ping_interval_secs: 20,
            idle_timeout_secs: 60,
            checkpoint_interval_secs: 60,
        }
    }
}

impl Limits {
    pub(crate) fn ping_interval(&self) -> Duration {
        Duration::from_secs(self.ping_interval_secs.max(1))
    }

    pub(crate) fn checkpoint_interval(&self) -> Duration {
        Duration::from_secs(self.checkpoint_interval_secs.max(1))
    }

    pub(crate) fn idle_timeout(&self) -> Duration {
        Duration::from_secs(self.idle_timeout_secs.max(1))
    }

    /// The largest request body: a base64 ciphertext plus metadata.
    pub(crate) fn max_body_bytes(&self) -> usize {
        self.max_envelope_bytes / 3 * 4 + 64 * 1024
    }
}

/// How long a recipient has for 受理, by urgency, before the hub escalates.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Deadlines {
    /// 緊急: minutes (default 60).
    pub emergency_minutes: u64,
    /// 早期: hours (default 24).
    pub early_hours: u64,
    /// 通常: days (default 3).
    pub normal_days: u64,
    /// Seconds between checks for missed deadlines, expired consents and
    /// due reminders (0: no periodic check).
    pub check_interval_secs: u64,
    /// Meeting reminders to the invitees, in minutes before the start
    /// (default: one day and one hour).
    pub meeting_reminder_minutes: Vec<u64>,
    /// Support plan review reminders to the lead and the agencies with a
    /// role, in days before the review date (default: 7 and 1).
    pub review_reminder_days: Vec<u64>,
}

impl Default for Deadlines {
    fn default() -> Self {
        Self {
            emergency_minutes: 60,
            early_hours: 24,
            normal_days: 3,
            check_interval_secs: 30,
            meeting_reminder_minutes: vec![24 * 60, 60],
            review_reminder_days: vec![7, 1],
        }
    }
}

impl Deadlines {
    /// Time allowed for 受理 at this urgency.
    pub fn for_urgency(&self, urgency: crate::protocol::Urgency) -> time::Duration {
        use crate::protocol::Urgency::*;
        let minutes = match urgency {
            Emergency => self.emergency_minutes,
            Early => self.early_hours * 60,
            Normal => self.normal_days * 24 * 60,
        };
        time::Duration::minutes(i64::try_from(minutes).unwrap_or(i64::MAX / 120))
    }
}

/// TLS material paths.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TlsPaths {
    /// CA that issues agency client certificates.
    pub ca: PathBuf,
    /// The hub's server certificate.
    pub cert: PathBuf,
    /// The hub's server key.
    pub key: PathBuf,
}

/// The whole hub configuration.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct HubConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// `sqlite:PATH` or `postgres://…`.
    pub database_url: String,
    /// The directory of agencies (TOML).
    pub directory: PathBuf,
    /// TLS material.
    pub tls: TlsPaths,
    /// The hub's Ed25519 signing key file (the directory's `[hub]
    /// signing_key` is its public half).
    pub signing_key: PathBuf,
    /// Limits.
    pub limits: Limits,
    /// 受理 deadlines.
    pub deadlines: Deadlines,
}

impl Default for HubConfig {
    fn default() -> Self {
        let certs = Path::new(EXAMPLE_CERTS);
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8443)),
            database_url: "sqlite:data/hub.db".into(),
            directory: certs.join("directory.toml"),
            tls: TlsPaths {
                ca: certs.join("ca.pem"),
                cert: certs.join("hub.pem"),
                key: certs.join("hub-key.pem"),
            },
            signing_key: certs.join(crate::crypto::pki::HUB_SIGNING_KEY),
            limits: Limits::default(),
            deadlines: Deadlines::default(),
        }
    }
}

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("could not read config {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config {path} is not valid: {source}")]
    Parse {
        path: PathBuf,
        source: toml::de::Error,
    },
}

impl HubConfig {
    /// Defaults overridden by the TOML file at `path`.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        toml::from_str(&text).map_err(|source| ConfigError::Parse {
            path: path.to_owned(),
            source,
        })
    }

    /// True when any TLS file comes from the published example set.
    pub fn uses_example_certs(&self) -> bool {
        [
            &self.tls.ca,
            &self.tls.cert,
            &self.tls.key,
            &self.signing_key,
            &self.directory,
        ]
        .iter()
        .any(|p| p.components().any(|c| c.as_os_str() == EXAMPLE_CERTS))
    }
}
