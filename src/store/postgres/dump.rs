//! An online, consistent copy of the hub's PostgreSQL database: `pg_dump`
//! in its custom format (one snapshot, taken while the hubs run), without
//! the epoch's row, so the hub that starts on a restored dump makes a new
//! epoch. The password goes to `pg_dump` in its environment, never on its
//! command line, where every local account could read it.

use std::path::Path;
use std::process::Stdio;

use crate::store::StoreError;

/// The program run, looked up on `PATH`.
pub const PG_DUMP: &str = "pg_dump";

/// Whether `pg_dump` can be run at all (installed and on `PATH`).
pub fn pg_dump_available() -> bool {
    std::process::Command::new(PG_DUMP)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Dump the database at `url` into `out` (custom format).
pub(super) async fn pg_dump(url: &str, out: &Path) -> Result<(), StoreError> {
    let mut url = reqwest::Url::parse(url).map_err(|e| StoreError::Backup(e.to_string()))?;
    let password = url.password().map(|p| {
        percent_encoding::percent_decode_str(p)
            .decode_utf8_lossy()
            .into_owned()
    });
    let _ = url.set_password(None);
    let mut command = tokio::process::Command::new(PG_DUMP);
    command
        .arg("--format=custom")
        .arg("--exclude-table-data=hub_epoch")
        .arg("--no-password")
        .arg("--file")
        .arg(out)
        .arg("--dbname")
        .arg(url.as_str())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(password) = password {
        command.env("PGPASSWORD", password);
    }
    let output = command
        .output()
        .await
        .map_err(|e| StoreError::Backup(format!("cannot run {PG_DUMP}: {e}")))?;
    if output.status.success() {
        return Ok(());
    }
    let said = String::from_utf8_lossy(&output.stderr);
    Err(StoreError::Backup(format!(
        "{PG_DUMP} failed ({}): {}",
        output.status,
        said.trim()
    )))
}
