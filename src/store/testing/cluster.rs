//! A throwaway PostgreSQL cluster the tests start themselves when
//! PostgreSQL's binaries are installed and no server is named: initdb in a
//! temporary directory, a unix socket there, trust authentication. One
//! cluster per test process, started by the first test that needs it; each
//! test then creates its own database on it. `cluster.sh` explains how the
//! cluster is stopped and deleted when the test process ends.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;

/// Where build.rs found initdb, pg_ctl and postgres, if it did.
const BIN_DIR: Option<&str> = option_env!("TSUNAGU_BUILD_PG_BIN_DIR");

const SCRIPT: &str = include_str!("cluster.sh");

/// Why no cluster could be started.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error(
        "PostgreSQL is not installed: install Debian's postgresql package (the tests then \
         start their own server) or set {}",
        super::PG_URL_VAR
    )]
    NotInstalled,
    #[error("cannot run sh to start PostgreSQL: {0}")]
    Spawn(#[from] std::io::Error),
    #[error("{0}")]
    DidNotStart(String),
}

/// A running cluster. It stops when `stop` is called or the process ends.
pub struct Cluster {
    /// The server's `postgres` database as superuser `postgres`.
    pub url: String,
    /// The temporary directory holding the data and the socket.
    pub dir: PathBuf,
    shell: Child,
    /// The pipe the shell watches: closed, the cluster stops.
    watched: ChildStdin,
}

impl Cluster {
    /// Start a cluster with the binaries in `bin` (blocks until it accepts
    /// connections, about half a second).
    pub fn start(bin: &Path) -> Result<Cluster, ClusterError> {
        let mut shell = Command::new("sh")
            .arg("-c")
            .arg(SCRIPT)
            .arg("tsunagu-pg")
            .arg(bin)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let watched = shell.stdin.take().ok_or_else(no_pipe)?;
        let mut out = BufReader::new(shell.stdout.take().ok_or_else(no_pipe)?);
        let mut first = String::new();
        out.read_line(&mut first)?;
        let Some(dir) = first.trim_end().strip_prefix("ready ") else {
            out.read_to_string(&mut first)?;
            drop(watched);
            let _ = shell.wait();
            if first.trim().is_empty() {
                first = "the start script ended without a word".to_owned();
            }
            return Err(ClusterError::DidNotStart(first));
        };
        let dir = PathBuf::from(dir);
        // Port 5432 names the socket file inside `dir`, not a TCP port.
        let url = format!(
            "postgres:///postgres?host={}&port=5432&user=postgres",
            dir.display()
        );
        Ok(Cluster {
            url,
            dir,
            shell,
            watched,
        })
    }

    /// Stop the server and delete its directory, as the end of the test
    /// process would.
    pub fn stop(mut self) -> std::io::Result<()> {
        drop(self.watched);
        self.shell.wait().map(drop)
    }
}

fn no_pipe() -> std::io::Error {
    std::io::Error::other("sh started without the requested pipes")
}

/// The URL of this process's shared cluster, started on first use. Blocks.
pub fn shared_url() -> Result<&'static str, &'static ClusterError> {
    // Never dropped: the pipe stays open, and the cluster up, until the
    // process exits.
    static SHARED: OnceLock<Result<Cluster, ClusterError>> = OnceLock::new();
    let cluster = SHARED.get_or_init(|| {
        let bin = BIN_DIR.ok_or(ClusterError::NotInstalled)?;
        let cluster = Cluster::start(Path::new(bin))?;
        eprintln!(
            "PostgreSQL tests: a throwaway server in {} (removed when the tests end)",
            cluster.dir.display()
        );
        Ok(cluster)
    });
    cluster.as_ref().map(|c| c.url.as_str())
}

/// The binaries build.rs found.
pub fn bin_dir() -> Option<&'static Path> {
    BIN_DIR.map(Path::new)
}

#[cfg(test)]
mod tests {
    use super::{Cluster, bin_dir};
    use sqlx::Connection;

    const NOT_INSTALLED: &str = "PostgreSQL not installed: install Debian's postgresql package";

    #[tokio::test]
    #[cfg_attr(
        not(tsunagu_pg_bin),
        ignore = "PostgreSQL not installed: install Debian's postgresql package"
    )]
    async fn a_cluster_serves_until_its_pipe_closes_then_is_deleted() {
        let cluster = Cluster::start(bin_dir().expect(NOT_INSTALLED)).unwrap();
        let (dir, url) = (cluster.dir.clone(), cluster.url.clone());
        let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
        let one: i32 = sqlx::query_scalar("SELECT 1")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(one, 1);
        conn.close().await.unwrap();
        cluster.stop().unwrap();
        assert!(!dir.exists(), "{} is left behind", dir.display());
        assert!(sqlx::PgConnection::connect(&url).await.is_err());
    }

    #[test]
    #[cfg_attr(
        not(tsunagu_pg_bin),
        ignore = "PostgreSQL not installed: install Debian's postgresql package"
    )]
    fn starting_deletes_clusters_whose_test_process_died_and_only_those() {
        let mut gone = std::process::Command::new("true").spawn().unwrap();
        gone.wait().unwrap();
        let plant = |owner: u32| {
            let dir = tempfile::Builder::new()
                .prefix("tsunagu-pg-")
                .tempdir_in("/tmp")
                .unwrap()
                .keep();
            std::fs::write(dir.join("owner"), format!("{owner}\n")).unwrap();
            dir
        };
        let stale = plant(gone.id());
        let live = plant(std::process::id());
        let cluster = Cluster::start(bin_dir().expect(NOT_INSTALLED)).unwrap();
        cluster.stop().unwrap();
        assert!(!stale.exists(), "{} is left behind", stale.display());
        assert!(live.exists(), "a live process's cluster was deleted");
        std::fs::remove_dir_all(live).unwrap();
    }
}
