//! Hub configuration: defaults, overridden by a TOML file, overridden by flags.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::protocol::MessageKind;

/// Where the example PKI lives; the default, with a loud warning.
pub const EXAMPLE_CERTS: &str = "certs-example";

/// Limits that protect the hub and its users.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Largest accepted ciphertext, in bytes (default 10 MiB).
    pub max_envelope_bytes: usize,
    /// Most simultaneous connections past their TLS handshake.
    pub max_connections: usize,
    /// Most TLS handshakes in progress at once, from anyone: they hold no
    /// `max_connections` slot, so a flood of them cannot crowd agencies
    /// out. Past it a new connection is closed at once (0: no limit).
    pub max_handshakes: usize,
    /// Most TLS handshakes in progress from one source address; past it a
    /// new connection from that address is closed at once (0: no limit).
    pub max_handshakes_per_address: usize,
    /// Seconds allowed for a TLS handshake.
    pub handshake_timeout_secs: u64,
    /// Most connections one agency (one client certificate's agency) holds
    /// at once; past it each request on a new connection is refused with
    /// `too_many_connections` (0: no limit).
    pub max_connections_per_agency: usize,
    /// Most delivery sockets one agency holds open at once; past it the
    /// upgrade is refused with `too_many_connections` (0: no limit).
    pub max_sockets_per_agency: usize,
    /// Envelopes one agency may send per second, sustained (0: no limit).
    pub send_envelopes_per_second: u32,
    /// Envelopes one agency may send at once above the sustained rate.
    pub send_envelopes_burst: u32,
    /// Envelope bytes one agency may send per second, sustained (0: no
    /// limit).
    pub send_bytes_per_second: u32,
    /// Envelope bytes one agency may send at once above the sustained
    /// rate; never less than `max_envelope_bytes`, or the largest envelope
    /// allowed could never be sent.
    pub send_bytes_burst: u32,
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
    /// Seconds between catch-up reads: with several hubs on one PostgreSQL,
    /// the longest a delivery waits when this hub missed its notification
    /// (0 is read as 1).
    pub catch_up_interval_secs: u64,
    /// Most acks read from one socket without waiting and committed in one
    /// transaction (0 is read as 1: each ack committed alone).
    pub max_ack_burst: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_envelope_bytes: 10 * 1024 * 1024,
            max_connections: 10_000,
            max_handshakes: 256,
            max_handshakes_per_address: 32,
            handshake_timeout_secs: 5,
            max_connections_per_agency: 64,
            max_sockets_per_agency: 8,
            // Far above any real use (a city sends tens of referrals a
            // day) and above what `tsunagu bench delivery` sends per agency.
            send_envelopes_per_second: 1_000,
            send_envelopes_burst: 10_000,
            send_bytes_per_second: 64 << 20,
            send_bytes_burst: 256 << 20,
            header_timeout_secs: 10,
            ping_interval_secs: 20,
            idle_timeout_secs: 60,
            checkpoint_interval_secs: 60,
            // A missed NOTIFY is rare (a stalled listener, a bug): five
            // seconds late is nothing next to a 受理 deadline of an hour,
            // and one read of a row per agency every five seconds is
            // nothing to the database.
            catch_up_interval_secs: 5,
            // As many as the SQLite writer commits together: a node acking
            // a backlog catches up in a few commits, and one burst's
            // transaction stays short.
            max_ack_burst: 256,
        }
    }
}

impl Limits {
    pub(crate) fn ack_burst(&self) -> usize {
        self.max_ack_burst.max(1)
    }

    pub(crate) fn ping_interval(&self) -> Duration {
        Duration::from_secs(self.ping_interval_secs.max(1))
    }

    pub(crate) fn checkpoint_interval(&self) -> Duration {
        Duration::from_secs(self.checkpoint_interval_secs.max(1))
    }

    pub(crate) fn catch_up_interval(&self) -> Duration {
        Duration::from_secs(self.catch_up_interval_secs.max(1))
    }

    pub(crate) fn idle_timeout(&self) -> Duration {
        Duration::from_secs(self.idle_timeout_secs.max(1))
    }

    /// The largest request body: a base64 ciphertext plus metadata.
    pub(crate) fn max_body_bytes(&self) -> usize {
        // Saturating: a configured limit near usize::MAX overflowed here.
        (self.max_envelope_bytes / 3)
            .saturating_mul(4)
            .saturating_add(64 * 1024)
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
    /// Seconds a hub holds the deadline lease after each check: with
    /// several hubs on one database only the holder runs the checks, and a
    /// holder that died is replaced within this plus `check_interval_secs`.
    /// Never less than twice `check_interval_secs` (a shorter value is
    /// raised to that), or the holder would lose it between its checks.
    pub lease_secs: u64,
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
            lease_secs: 90,
        }
    }
}

impl Deadlines {
    /// Time allowed for 受理 at this urgency.
    pub fn for_urgency(&self, urgency: crate::protocol::Urgency) -> time::Duration {
        use crate::protocol::Urgency::*;
        let minutes = match urgency {
            Emergency => self.emergency_minutes,
            Early => self.early_hours.saturating_mul(60),
            Normal => self.normal_days.saturating_mul(24 * 60),
        };
        capped_minutes(minutes)
    }

    /// How long a deadline lease lasts without renewal (see `lease_secs`).
    pub fn lease(&self) -> time::Duration {
        let secs = self
            .lease_secs
            .max(self.check_interval_secs.saturating_mul(2))
            .clamp(1, LONGEST_DEADLINE.whole_seconds().unsigned_abs());
        time::Duration::seconds(i64::try_from(secs).unwrap_or(i64::MAX))
    }

    /// How long before a meeting each reminder goes out, in the order
    /// configured.
    pub fn meeting_reminders(&self) -> impl Iterator<Item = time::Duration> + '_ {
        self.meeting_reminder_minutes
            .iter()
            .map(|m| capped_minutes(*m))
    }

    /// How many days before a plan's review each reminder goes out.
    pub fn review_reminders(&self) -> impl Iterator<Item = i64> + '_ {
        self.review_reminder_days
            .iter()
            .map(|d| capped_minutes(d.saturating_mul(24 * 60)).whole_days())
    }
}

/// The longest deadline or reminder lead the hub computes with (1 000
/// years). A configured value beyond it means "never" all the same, and the
/// cap keeps every instant the hub derives from it (now + deadline, a
/// meeting's start − lead) inside what a timestamp can hold, where the
/// uncapped arithmetic overflowed and panicked.
pub const LONGEST_DEADLINE: time::Duration = time::Duration::days(366 * 1000);

fn capped_minutes(minutes: u64) -> time::Duration {
    let longest = LONGEST_DEADLINE.whole_minutes().unsigned_abs();
    time::Duration::minutes(i64::try_from(minutes.min(longest)).unwrap_or(0))
}

/// How long the hub keeps an envelope's body once every recipient has
/// acknowledged it (docs/operations.md §6.7). The hub is a relay, not an
/// archive: each agency keeps its own records, and what the policy still
/// decides on (referral states, consents, cases, meetings, plans, the
/// disclosure record) is kept apart from the bodies and never purged.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Retention {
    /// Purge at all (default true). Off, the hub keeps every body.
    pub enabled: bool,
    /// Days a body is kept after the last acknowledgement of it, for every
    /// kind not named in `kinds` (default 30: long enough to investigate a
    /// complaint or a reported category violation with the hub's copy,
    /// short enough that the hub holds a month of ciphertext, not years).
    pub default_days: u32,
    /// Days per kind, by wire name (`referral`, `consent_record`, …),
    /// overriding `default_days`. A name that is not a kind is refused at
    /// load.
    pub kinds: HashMap<MessageKind, u32>,
    /// Days an acknowledged hub notice is kept (default 30).
    pub notice_days: u32,
    /// Seconds between purges run by the periodic check (default 3600; the
    /// check itself runs every `deadlines.check_interval_secs`).
    pub purge_interval_secs: u64,
    /// Envelopes purged per transaction (default 500): the write lock is
    /// held for one batch at a time, so deliveries go on between batches.
    pub batch_size: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            enabled: true,
            default_days: 30,
            kinds: HashMap::new(),
            notice_days: 30,
            purge_interval_secs: 3600,
            batch_size: 500,
        }
    }
}

impl Retention {
    /// Days a body of `kind` is kept after its last acknowledgement.
    pub fn days(&self, kind: MessageKind) -> u32 {
        self.kinds.get(&kind).copied().unwrap_or(self.default_days)
    }

    /// Envelopes per batch, never 0 (a batch of none would purge nothing).
    pub fn batch(&self) -> u32 {
        self.batch_size.max(1)
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
    /// The operations listener (`/metrics`, `/healthz`, `/readyz`); none
    /// unless the file has a `[metrics]` section.
    pub metrics: Option<MetricsConfig>,
    /// How long delivered envelopes stay on the hub.
    pub retention: Retention,
}

/// The operations listener: plain HTTP, no client certificate, so it
/// belongs on loopback or an internal network only.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    /// Where to listen (default 127.0.0.1:9464, Prometheus' registered
    /// port for OpenTelemetry-style exporters).
    pub listen: SocketAddr,
    /// Seconds a scrape reuses the delivery queue figures read from the
    /// database (one query per period, whatever the scrape rate).
    pub cache_secs: u64,
    /// Most connections open at once; past it a new one is closed.
    pub max_connections: usize,
    /// Seconds allowed for a request's headers to arrive.
    pub header_timeout_secs: u64,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 9464)),
            cache_secs: 5,
            max_connections: 16,
            header_timeout_secs: 10,
        }
    }
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
            metrics: None,
            retention: Retention::default(),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The example an operator copies must load: a key this build does not
    /// know (or a stale one) would stop their hub at start.
    #[test]
    fn the_deploy_example_loads_and_names_every_limit_it_sets() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/hub.toml");
        let config = HubConfig::load(&path).unwrap();
        assert_eq!(config.limits.max_handshakes, 256);
        assert_eq!(config.limits.catch_up_interval_secs, 5);
        assert_eq!(config.limits.max_ack_burst, 256);
        assert_eq!(config.deadlines.lease_secs, 90);
        assert_eq!(config.retention.days(MessageKind::Referral), 30);
        assert_eq!(config.retention.days(MessageKind::ConsentRecord), 90);
        assert!(!config.uses_example_certs());
    }

    /// The compose hubs' file must load too. Behind HAProxy every
    /// connection comes from HAProxy's address, so the per-address
    /// handshake budget must be off there (HAProxy bounds each source).
    #[test]
    fn the_compose_hubs_config_loads_with_the_per_address_budget_left_to_haproxy() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/hub-compose.toml");
        let config = HubConfig::load(&path).unwrap();
        assert_eq!(config.limits.max_handshakes_per_address, 0);
        assert!(config.database_url.starts_with("postgres://"));
        // HAProxy's health check (deploy/haproxy.cfg) asks port 9464.
        let metrics = config
            .metrics
            .as_ref()
            .expect("the compose hubs need [metrics] for /readyz");
        assert_eq!(metrics.listen.port(), 9464);
        assert!(!config.uses_example_certs());
    }

    /// A lease shorter than two checks would lapse between its holder's
    /// checks and pass from hub to hub.
    #[test]
    fn the_deadline_lease_outlasts_two_checks() {
        let d = Deadlines::default();
        assert_eq!(d.lease(), time::Duration::seconds(90));
        let short = Deadlines {
            lease_secs: 10,
            check_interval_secs: 30,
            ..Deadlines::default()
        };
        assert_eq!(short.lease(), time::Duration::seconds(60));
        let never = Deadlines {
            lease_secs: u64::MAX,
            ..Deadlines::default()
        };
        assert_eq!(never.lease(), LONGEST_DEADLINE);
    }

    #[test]
    fn a_catch_up_interval_of_zero_is_read_as_one_second() {
        let limits = Limits {
            catch_up_interval_secs: 0,
            ..Limits::default()
        };
        assert_eq!(limits.catch_up_interval(), Duration::from_secs(1));
    }

    #[test]
    fn an_ack_burst_of_zero_is_read_as_one_ack_per_commit() {
        let limits = Limits {
            max_ack_burst: 0,
            ..Limits::default()
        };
        assert_eq!(limits.ack_burst(), 1);
        assert_eq!(Limits::default().ack_burst(), 256);
    }

    /// Without `[metrics]` there is no operations listener; a bare
    /// `[metrics]` listens on loopback at Prometheus' usual exporter port.
    #[test]
    fn the_operations_listener_is_opt_in_and_defaults_to_loopback() {
        let none: HubConfig = toml::from_str("").unwrap();
        assert_eq!(none.metrics, None);
        let bare: HubConfig = toml::from_str("[metrics]").unwrap();
        let metrics = bare.metrics.unwrap();
        assert_eq!(metrics.listen, SocketAddr::from(([127, 0, 0, 1], 9464)));
        assert_eq!(metrics.cache_secs, 5);
        let deployed =
            HubConfig::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/hub.toml"))
                .unwrap();
        assert_eq!(deployed.metrics, Some(MetricsConfig::default()));
        let typo = toml::from_str::<HubConfig>(
            "[metrics]
listen_on = \"0.0.0.0:9464\"",
        );
        assert!(typo.is_err(), "an unknown key is refused, not ignored");
    }

    /// A typo in a kind's name must not quietly fall back to the default.
    #[test]
    fn retention_per_kind_is_read_by_wire_name_and_a_wrong_name_is_refused() {
        let config: HubConfig = toml::from_str("[retention]\nkinds = { case_note = 7 }\n").unwrap();
        assert_eq!(config.retention.days(MessageKind::CaseNote), 7);
        assert_eq!(config.retention.days(MessageKind::Referral), 30);
        let wrong = toml::from_str::<HubConfig>("[retention]\nkinds = { referal = 7 }\n");
        assert!(wrong.unwrap_err().to_string().contains("referal"));
    }
}
