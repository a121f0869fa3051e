//! Structure-aware fuzzing on stable Rust (proptest): the parsers and
//! verifiers that read what another party wrote — socket frames, envelopes,
//! payloads, configuration, the directory and the support ledger's import
//! cells. Each property says what must hold for any input, not only that
//! nothing panics. One binary so it compiles once; see docs/fuzzing.md for
//! the budget and for running a longer session.

mod cells;
mod config;
mod envelope;
mod frames;
mod mutate;
mod payload;
mod socket;
mod strategies;

// The end-to-end helpers, shared with tests/e2e rather than copied; this
// binary uses only some of them.
#[allow(dead_code)]
#[path = "../e2e/helpers.rs"]
mod helpers;

use proptest::test_runner::{Config, FileFailurePersistence};

/// Cases each property runs when `PROPTEST_CASES` is not set: small, so
/// `cargo test` stays fast. `.ci/run` sets a bigger budget for this binary.
const DEFAULT_CASES: u32 = 64;

/// The budget of a property that runs in memory.
fn config() -> Config {
    with_cases(cases())
}

/// The budget of a property that goes through a real hub over TLS (each
/// case a socket message or an HTTPS request): a quarter, at least 8.
fn e2e_config() -> Config {
    with_cases((cases() / 4).max(8))
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(DEFAULT_CASES)
}

fn with_cases(cases: u32) -> Config {
    Config {
        cases,
        // A failure found is kept beside the test's source
        // (tests/fuzz/NAME.proptest-regressions, committed) and replayed
        // first on every later run.
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..Config::default()
    }
}
