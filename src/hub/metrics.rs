//! What the hub counts for Prometheus. One registry per hub (no global):
//! the hub's handlers update these as things happen; the operations
//! listener (`operations`) fills the queue gauges from the store at scrape
//! time and encodes the lot.
//!
//! Labels are bounded: agency ids from the directory, error codes, refusal
//! reasons and store operation names. Never an envelope or case id, never
//! anything from content.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};

use super::TickReport;
use crate::protocol::{AgencyId, ErrorCode};
use crate::store::metrics::StoreMetrics;

/// An agency, as the directory names it.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct AgencyLabel {
    agency: String,
}

impl AgencyLabel {
    pub(super) fn of(agency: &AgencyId) -> Self {
        Self {
            agency: agency.as_str().to_owned(),
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CodeLabel {
    code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
    reason: &'static str,
}

/// The hub's metrics and the registry that encodes them.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    handshaking: Gauge,
    http_connections: Gauge,
    sessions: Family<AgencyLabel, Gauge>,
    handshakes_refused: Family<ReasonLabel, Counter>,
    accepted: Counter,
    duplicates: Counter,
    refused: Family<CodeLabel, Counter>,
    batch_envelopes: Histogram,
    escalations: Counter,
    reminders: Counter,
    consents_expired: Counter,
    certificate_expiry: Family<AgencyLabel, Gauge>,
    hub_certificate_expiry: Gauge,
    pub(super) pending: Family<AgencyLabel, Gauge>,
    pub(super) oldest_unacked: Family<AgencyLabel, Gauge>,
}

impl Metrics {
    /// Every metric registered, with the store's own if it measures any.
    pub(super) fn new(store: Option<StoreMetrics>) -> Self {
        let mut m = Self {
            registry: Registry::default(),
            handshaking: Gauge::default(),
            http_connections: Gauge::default(),
            sessions: Family::default(),
            handshakes_refused: Family::default(),
            accepted: Counter::default(),
            duplicates: Counter::default(),
            refused: Family::default(),
            // 1 to 1024 envelopes (a batch holds at most MAX_BATCH_ENVELOPES).
            batch_envelopes: Histogram::new(exponential_buckets(1.0, 2.0, 11)),
            escalations: Counter::default(),
            reminders: Counter::default(),
            consents_expired: Counter::default(),
            certificate_expiry: Family::default(),
            hub_certificate_expiry: Gauge::default(),
            pending: Family::default(),
            oldest_unacked: Family::default(),
        };
        m.register();
        if let Some(store) = store {
            store.register(&mut m.registry);
        }
        m.registry.register_collector(Box::new(Process::now()));
        m
    }

    fn register(&mut self) {
        let r = &mut self.registry;
        r.register(
            "tsunagu_handshakes_in_progress",
            "TLS handshakes in progress",
            self.handshaking.clone(),
        );
        r.register(
            "tsunagu_http_connections_open",
            "Connections past their TLS handshake, open now",
            self.http_connections.clone(),
        );
        r.register(
            "tsunagu_websocket_sessions",
            "Delivery sockets open now, by agency",
            self.sessions.clone(),
        );
        r.register(
            "tsunagu_handshakes_refused",
            "Connections closed before a request: handshake failed or timed out, or a budget was full",
            self.handshakes_refused.clone(),
        );
        r.register(
            "tsunagu_envelopes_accepted",
            "Envelopes committed (new; duplicates are counted apart)",
            self.accepted.clone(),
        );
        r.register(
            "tsunagu_envelopes_duplicate",
            "Envelopes sent again that the hub already held (idempotent resend)",
            self.duplicates.clone(),
        );
        r.register(
            "tsunagu_envelopes_refused",
            "Envelopes refused, by error code",
            self.refused.clone(),
        );
        r.register(
            "tsunagu_batch_envelopes",
            "Envelopes per batch request (POST /v1/envelopes/batch)",
            self.batch_envelopes.clone(),
        );
        r.register(
            "tsunagu_deadline_escalations",
            "受理 deadlines missed and escalated",
            self.escalations.clone(),
        );
        r.register(
            "tsunagu_reminders_sent",
            "Meeting and plan review reminders sent",
            self.reminders.clone(),
        );
        r.register(
            "tsunagu_consents_expired",
            "Consents ended because their term ran out",
            self.consents_expired.clone(),
        );
        r.register_with_unit(
            "tsunagu_certificate_expiry_timestamp",
            "Not-after of the client certificate each agency last presented (unix time)",
            Unit::Seconds,
            self.certificate_expiry.clone(),
        );
        r.register_with_unit(
            "tsunagu_hub_certificate_expiry_timestamp",
            "Not-after of the hub's own server certificate (unix time)",
            Unit::Seconds,
            self.hub_certificate_expiry.clone(),
        );
        r.register(
            "tsunagu_deliveries_pending",
            "Deliveries neither acknowledged nor cancelled, by recipient agency",
            self.pending.clone(),
        );
        r.register_with_unit(
            "tsunagu_deliveries_oldest_unacked_age",
            "Age of the oldest unacknowledged envelope, by recipient agency (0: none)",
            Unit::Seconds,
            self.oldest_unacked.clone(),
        );
    }

    /// The exposition (OpenMetrics text).
    pub(super) fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        Ok(out)
    }

    /// A handshake starts; it counts until the guard drops.
    pub(super) fn handshake(&self) -> Held {
        Held::new(&self.handshaking)
    }

    /// A connection is past its handshake; it counts until the guard drops.
    pub(super) fn http_connection(&self) -> Held {
        Held::new(&self.http_connections)
    }

    /// `agency` opened a delivery socket; it counts until the guard drops.
    pub(super) fn session(&self, agency: &AgencyId) -> Held {
        Held::new(&self.sessions.get_or_create(&AgencyLabel::of(agency)))
    }

    /// A connection closed before its first request, for `reason`.
    pub(super) fn handshake_refused(&self, reason: &'static str) {
        self.handshakes_refused
            .get_or_create(&ReasonLabel { reason })
            .inc();
    }

    /// An envelope committed (`duplicate`: it was held already).
    pub(super) fn accepted(&self, duplicate: bool) {
        if duplicate {
            self.duplicates.inc();
        } else {
            self.accepted.inc();
        }
    }

    /// An envelope refused with `code`.
    pub(super) fn refused(&self, code: ErrorCode) {
        let code = serde_json::to_value(code)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_else(|| "unknown".into());
        self.refused.get_or_create(&CodeLabel { code }).inc();
    }

    /// A batch request of `envelopes`.
    pub(super) fn batch(&self, envelopes: usize) {
        self.batch_envelopes.observe(envelopes as f64);
    }

    /// What one deadline check did.
    pub(super) fn ticked(&self, report: &TickReport) {
        self.escalations.inc_by(report.escalations as u64);
        self.reminders.inc_by(report.reminders as u64);
        self.consents_expired.inc_by(report.expired_consents as u64);
    }

    /// `agency` presented the certificate `der`.
    pub(super) fn certificate_presented(&self, agency: &AgencyId, der: &[u8]) {
        if let Some(not_after) = not_after(der) {
            self.certificate_expiry
                .get_or_create(&AgencyLabel::of(agency))
                .set(not_after);
        }
    }

    /// The hub serves the certificate in the PEM file `path`.
    pub(super) fn hub_certificate(&self, path: &Path) {
        let first = std::fs::read(path).ok().and_then(|pem| {
            rustls_pemfile::certs(&mut pem.as_slice())
                .next()
                .and_then(Result::ok)
        });
        match first.as_deref().and_then(not_after) {
            Some(not_after) => {
                self.hub_certificate_expiry.set(not_after);
            }
            None => {
                tracing::warn!(path = %path.display(), "cannot read the hub certificate's expiry for metrics")
            }
        }
    }
}

/// A certificate's not-after, in unix seconds.
fn not_after(der: &[u8]) -> Option<i64> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    Some(cert.validity().not_after.timestamp())
}

/// One unit of a gauge, given back when dropped (a connection that ends by
/// any path, a panic included, leaves the gauge).
pub(super) struct Held(Gauge);

impl Held {
    fn new(gauge: &Gauge) -> Self {
        gauge.inc();
        Self(gauge.clone())
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// The process basics Prometheus' own clients export, under their usual
/// names, read from /proc at scrape time (Linux; elsewhere only the start
/// time).
#[derive(Debug)]
struct Process {
    started: i64,
}

impl Process {
    fn now() -> Self {
        let started = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        Self { started }
    }
}

impl Collector for Process {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let mut gauge = |name: &str, help: &str, unit: Option<&Unit>, value: i64| {
            let metric = ConstGauge::new(value);
            let m = encoder.encode_descriptor(name, help, unit, metric.metric_type())?;
            metric.encode(m)
        };
        gauge(
            "process_start_time",
            "When the hub started (unix time)",
            Some(&Unit::Seconds),
            self.started,
        )?;
        if let Some(rss) = resident_bytes() {
            gauge(
                "process_resident_memory",
                "Resident memory",
                Some(&Unit::Bytes),
                rss,
            )?;
        }
        if let Ok(fds) = std::fs::read_dir("/proc/self/fd") {
            gauge(
                "process_open_fds",
                "Open file descriptors",
                None,
                fds.count() as i64,
            )?;
        }
        Ok(())
    }
}

/// VmRSS from /proc/self/status, in bytes.
fn resident_bytes() -> Option<i64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: i64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_their_units_and_counters_end_in_total() {
        let store = StoreMetrics::default();
        drop(store.timer("accept"));
        let m = Metrics::new(Some(store));
        m.refused(ErrorCode::ConsentExpired);
        m.accepted(false);
        let text = m.encode().unwrap();
        for line in [
            "tsunagu_envelopes_accepted_total 1",
            "tsunagu_envelopes_refused_total{code=\"consent_expired\"} 1",
            "# TYPE tsunagu_hub_certificate_expiry_timestamp_seconds gauge",
            "# TYPE tsunagu_store_operation_duration_seconds histogram",
            "tsunagu_store_operation_duration_seconds_count{operation=\"accept\"} 1",
            "# TYPE process_start_time_seconds gauge",
        ] {
            assert!(text.contains(line), "{line} missing from\n{text}");
        }
    }
}
