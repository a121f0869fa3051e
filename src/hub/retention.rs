//! Retention: the bodies of envelopes every recipient acknowledged long
//! enough ago, and acknowledged hub notices, are purged in bounded batches,
//! and each purge that removed something is one audit entry. Run by the
//! periodic check (at most every `purge_interval_secs`) and by
//! `tsunagu admin purge`.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Serialize;
use time::OffsetDateTime;

use super::Hub;
use super::config::Retention;
use crate::protocol::{MessageKind, Timestamp};
use crate::store::model::AuditEvent;
use crate::store::retention::PurgeScope;
use crate::store::{HubStore, StoreError};

/// Who asked for a purge and whether to change anything.
#[derive(Clone, Debug)]
pub struct PurgeRun {
    /// Count only.
    pub dry_run: bool,
    /// The operator's OS account, or `None` for the hub's periodic check.
    pub operator: Option<String>,
}

/// What a purge removed (or, dry, would remove).
#[derive(Clone, Debug, Default, Serialize)]
pub struct PurgeReport {
    /// Whether nothing was changed.
    pub dry_run: bool,
    /// How many per kind (`notice` for hub notices), kinds with none left out.
    pub counts: BTreeMap<&'static str, u64>,
    /// The cutoff each count was taken with: purged if acknowledged by then.
    pub cutoffs: BTreeMap<&'static str, Timestamp>,
    /// Transactions run.
    pub batches: u64,
    /// The longest one, in milliseconds: how long the write lock was held
    /// at most (SQLite's writer; PostgreSQL locks only the rows purged).
    pub longest_batch_ms: u64,
}

impl PurgeReport {
    /// Everything removed.
    pub fn total(&self) -> u64 {
        self.counts.values().sum()
    }
}

/// Every scope a purge goes through, each with its retention in days.
fn scopes(retention: &Retention) -> impl Iterator<Item = (PurgeScope, u32)> + '_ {
    MessageKind::ALL
        .into_iter()
        .map(|kind| (PurgeScope::Kind(kind), retention.days(kind)))
        .chain([(PurgeScope::Notices, retention.notice_days)])
}

/// Purge (or count, dry) what `retention` no longer keeps as of `now`.
pub async fn purge(
    store: &dyn HubStore,
    retention: &Retention,
    now: OffsetDateTime,
    run: &PurgeRun,
) -> Result<PurgeReport, StoreError> {
    let mut report = PurgeReport {
        dry_run: run.dry_run,
        ..PurgeReport::default()
    };
    let mut longest = Duration::ZERO;
    for (scope, days) in scopes(retention) {
        // A retention too long to subtract keeps everything.
        let Some(cutoff) = now.checked_sub(time::Duration::days(i64::from(days))) else {
            continue;
        };
        let cutoff = Timestamp::from_datetime(cutoff);
        let n = if run.dry_run {
            store.purgeable(scope, &cutoff).await?
        } else {
            purge_scope(
                store,
                scope,
                &cutoff,
                retention.batch(),
                &mut report,
                &mut longest,
            )
            .await?
        };
        if n > 0 {
            report.counts.insert(scope.name(), n);
            report.cutoffs.insert(scope.name(), cutoff);
        }
    }
    report.longest_batch_ms = u64::try_from(longest.as_millis()).unwrap_or(u64::MAX);
    if !run.dry_run && report.total() > 0 {
        store.audit(purge_event(&report, run)).await?;
        tracing::info!(
            purged = report.total(),
            batches = report.batches,
            longest_batch_ms = report.longest_batch_ms,
            "retention purge"
        );
    }
    Ok(report)
}

/// Batch after batch until one comes back short.
async fn purge_scope(
    store: &dyn HubStore,
    scope: PurgeScope,
    cutoff: &Timestamp,
    batch: u32,
    report: &mut PurgeReport,
    longest: &mut Duration,
) -> Result<u64, StoreError> {
    let mut total = 0;
    loop {
        let started = Instant::now();
        let n = store.purge_batch(scope, cutoff, batch).await?;
        *longest = (*longest).max(started.elapsed());
        report.batches += 1;
        total += n;
        if n < u64::from(batch) {
            return Ok(total);
        }
    }
}

/// Counts and cutoffs, and who: metadata only.
fn purge_event(report: &PurgeReport, run: &PurgeRun) -> AuditEvent {
    let detail = serde_json::json!({
        "operator": run.operator.as_deref().unwrap_or("hub"),
        "counts": report.counts,
        "cutoffs": report.cutoffs,
    });
    AuditEvent::new("retention_purged", None, None, detail)
}

/// The retention the hub runs with and when it last purged.
pub(crate) struct Schedule {
    retention: Retention,
    last: Mutex<Option<OffsetDateTime>>,
}

impl Schedule {
    pub(crate) fn new(retention: Retention) -> Self {
        Self {
            retention,
            last: Mutex::new(None),
        }
    }

    /// Whether a purge is due at `now`; if so, it counts as started.
    fn due(&self, now: OffsetDateTime) -> bool {
        if !self.retention.enabled {
            return false;
        }
        let every = time::Duration::seconds(
            i64::try_from(self.retention.purge_interval_secs).unwrap_or(i64::MAX),
        );
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        if last.is_some_and(|last| now - last < every) {
            return false;
        }
        *last = Some(now);
        true
    }
}

impl Hub {
    /// From the periodic check: purge if `purge_interval_secs` have passed
    /// on the hub clock since the last purge (the first check purges).
    pub(super) async fn purge_if_due(&self) -> Result<Option<PurgeReport>, StoreError> {
        let now = self.clock.now();
        if !self.retention.due(now) {
            return Ok(None);
        }
        let run = PurgeRun {
            dry_run: false,
            operator: None,
        };
        purge(&*self.store, &self.retention.retention, now, &run)
            .await
            .map(Some)
    }
}

#[cfg(test)]
mod measure {
    use std::sync::Arc;

    use super::{PurgeRun, purge};
    use crate::hub::Retention;
    use crate::store::HubStore;
    use crate::store::conformance::retention::{MEASURED, seeded_postgres, seeded_sqlite};

    /// Purges what was seeded with the default batch size and prints the
    /// time, the batches and the longest batch (how long the write lock was
    /// held at most, queueing for SQLite's writer included). A measurement,
    /// not a test: it asserts only that everything was purged and the chain
    /// verifies. `cargo test --lib -- --ignored measure_a_purge --nocapture`.
    async fn measure_a_purge(store: Arc<dyn HubStore>, backend: &str) {
        let retention = Retention {
            default_days: 0,
            ..Retention::default()
        };
        let run = PurgeRun {
            dry_run: false,
            operator: None,
        };
        let started = std::time::Instant::now();
        let now = time::OffsetDateTime::now_utc() + time::Duration::seconds(1);
        let report = purge(&*store, &retention, now, &run).await.unwrap();
        println!(
            "{backend}: purged {} envelopes in {:?}: {} batches of {}, longest batch {} ms",
            report.total(),
            started.elapsed(),
            report.batches,
            retention.batch_size,
            report.longest_batch_ms
        );
        assert_eq!(report.total(), MEASURED as u64);
        let entries = store.audit_entries(None, None).await.unwrap();
        assert_eq!(
            crate::store::audit::verify(entries.clone()),
            Ok(entries.len() as u64)
        );
        store.close().await;
    }

    #[tokio::test]
    #[ignore = "a measurement: run it on its own"]
    async fn measure_a_purge_of_100_000_envelopes_on_sqlite() {
        let dir = tempfile::tempdir().unwrap();
        measure_a_purge(seeded_sqlite(dir.path()).await, "sqlite").await;
    }

    #[tokio::test]
    #[ignore = "a measurement: run it on its own (needs PostgreSQL)"]
    async fn measure_a_purge_of_100_000_envelopes_on_postgres() {
        measure_a_purge(seeded_postgres().await, "postgres").await;
    }
}
