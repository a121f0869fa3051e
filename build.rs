//! Decides whether the PostgreSQL tests can run, so that without PostgreSQL
//! they are reported as ignored rather than passed (`#[ignore]` is decided
//! at compile time):
//!
//! - `cfg(tsunagu_pg_bin)` and `TSUNAGU_BUILD_PG_BIN_DIR`: initdb, pg_ctl and
//!   postgres were found (the newest `/usr/lib/postgresql/<version>/bin`, as
//!   Debian installs them, or `TSUNAGU_PG_BIN_DIR`); the tests start their
//!   own throwaway server (src/store/testing/cluster.rs).
//! - `cfg(tsunagu_pg)`: those binaries, or a server named by
//!   `TSUNAGU_TEST_PG_URL`.
//! - `cfg(tsunagu_haproxy)`: Debian's HAProxy is installed, so the test of
//!   deploy/haproxy.cfg in front of two hubs runs (tests/e2e/deploy.rs).

use std::path::{Path, PathBuf};

const DEBIAN_DIR: &str = "/usr/lib/postgresql";
/// Changes whenever a Debian package is installed or removed.
const DPKG_STATUS: &str = "/var/lib/dpkg/status";
const BIN_DIR_VAR: &str = "TSUNAGU_PG_BIN_DIR";
const URL_VAR: &str = "TSUNAGU_TEST_PG_URL";

fn main() {
    println!("cargo::rustc-check-cfg=cfg(tsunagu_pg)");
    println!("cargo::rustc-check-cfg=cfg(tsunagu_pg_bin)");
    println!("cargo::rustc-check-cfg=cfg(tsunagu_haproxy)");
    haproxy();
    println!("cargo::rerun-if-changed=build.rs");
    // sqlx::migrate! embeds the migrations at compile time.
    println!("cargo::rerun-if-changed=migrations");
    println!("cargo::rerun-if-env-changed={BIN_DIR_VAR}");
    let bin = match std::env::var_os(BIN_DIR_VAR) {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            watch(&dir);
            Some(dir).filter(|dir| has_binaries(dir))
        }
        None => {
            // Watch what installing or removing PostgreSQL changes. Never a
            // missing path: cargo would rerun this script on every build.
            if Path::new(DEBIAN_DIR).exists() {
                watch(Path::new(DEBIAN_DIR));
            } else if Path::new(DPKG_STATUS).exists() {
                watch(Path::new(DPKG_STATUS));
            }
            newest_debian()
        }
    };
    if let Some(bin) = bin {
        println!("cargo::rustc-cfg=tsunagu_pg_bin");
        println!("cargo::rustc-cfg=tsunagu_pg");
        println!(
            "cargo::rustc-env=TSUNAGU_BUILD_PG_BIN_DIR={}",
            bin.display()
        );
        return;
    }
    // Only needed without binaries: watching it otherwise would rebuild the
    // crate each time a developer sets or unsets it.
    println!("cargo::rerun-if-env-changed={URL_VAR}");
    if std::env::var_os(URL_VAR).is_some() {
        println!("cargo::rustc-cfg=tsunagu_pg");
    } else {
        println!(
            "cargo::warning=PostgreSQL not found in {DEBIAN_DIR}/*/bin or ${BIN_DIR_VAR}: \
             the PostgreSQL tests will be ignored (install Debian's postgresql package \
             or set {URL_VAR})"
        );
    }
}

const HAPROXY: &str = "/usr/sbin/haproxy";

/// Whether the HAProxy test can run. Watches the binary, or what installing
/// it changes (never a missing path: cargo would rerun this every build).
fn haproxy() {
    if Path::new(HAPROXY).is_file() {
        watch(Path::new(HAPROXY));
        println!("cargo::rustc-cfg=tsunagu_haproxy");
    } else {
        watch(Path::new(DPKG_STATUS));
    }
}

fn watch(path: &Path) {
    if path.exists() {
        println!("cargo::rerun-if-changed={}", path.display());
    }
}

fn has_binaries(dir: &Path) -> bool {
    ["initdb", "pg_ctl", "postgres"]
        .iter()
        .all(|name| dir.join(name).is_file())
}

/// The bin directory of the newest PostgreSQL under /usr/lib/postgresql.
fn newest_debian() -> Option<PathBuf> {
    let versions = std::fs::read_dir(DEBIAN_DIR).ok()?;
    versions
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version: Vec<u32> = entry
                .file_name()
                .to_str()?
                .split('.')
                .map(str::parse)
                .collect::<Result<_, _>>()
                .ok()?;
            let bin = entry.path().join("bin");
            has_binaries(&bin).then_some((version, bin))
        })
        .max()
        .map(|(_, bin)| bin)
}
