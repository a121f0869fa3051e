//! What the store measures about itself: how long each operation takes and
//! how many writes the group commit takes together. Measured once, in
//! the shared SQL's common path (`sql::store`), so every backend reports the
//! same names; the hub registers these with its own metrics.

use std::time::Instant;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};

/// One store operation, named as the `HubStore` method is.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Operation {
    operation: &'static str,
}

/// The store's own measurements; cheap to clone (shared counters).
#[derive(Clone, Debug)]
pub struct StoreMetrics {
    latency: Family<Operation, Histogram>,
    group_commit: Histogram,
}

fn latency_histogram() -> Histogram {
    // 100 µs to ~13 s: an fsync on a slow disk is milliseconds, a write
    // queued behind another hub process's batches (PostgreSQL) can take
    // seconds.
    Histogram::new(exponential_buckets(0.0001, 2.0, 18))
}

impl Default for StoreMetrics {
    fn default() -> Self {
        Self {
            latency: Family::new_with_constructor(latency_histogram),
            // 1 to 256 writes (the writer's MAX_BATCH).
            group_commit: Histogram::new(exponential_buckets(1.0, 2.0, 9)),
        }
    }
}

impl StoreMetrics {
    /// Register under the hub's registry.
    pub fn register(&self, registry: &mut Registry) {
        registry.register_with_unit(
            "tsunagu_store_operation_duration",
            "Time a hub store operation took, by operation (a write: until it was committed)",
            Unit::Seconds,
            self.latency.clone(),
        );
        registry.register(
            "tsunagu_store_group_commit_writes",
            "Writes committed together in one transaction (group commit)",
            self.group_commit.clone(),
        );
    }

    /// Time `operation` until the returned guard drops: at the end of the
    /// method, whether it succeeded, failed (a database that times out is
    /// what the histogram must show) or was cancelled.
    pub(crate) fn timer(&self, operation: &'static str) -> Timer<'_> {
        Timer {
            metrics: self,
            operation,
            started: Instant::now(),
        }
    }

    /// One group commit of `writes` writes.
    pub(crate) fn group_commit(&self, writes: usize) {
        self.group_commit.observe(writes as f64);
    }
}

/// Observes the time since it was made when it drops.
pub(crate) struct Timer<'a> {
    metrics: &'a StoreMetrics,
    operation: &'static str,
    started: Instant,
}

impl Drop for Timer<'_> {
    fn drop(&mut self) {
        self.metrics
            .latency
            .get_or_create(&Operation {
                operation: self.operation,
            })
            .observe(self.started.elapsed().as_secs_f64());
    }
}
