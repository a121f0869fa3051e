//! The hub as a child process (`tsunagu serve` on the current executable),
//! so that its memory and descriptors are its own and can be read from
//! /proc apart from the load generator's.

use super::*;
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// A running `tsunagu serve` child; killed if dropped while running.
pub(super) struct HubProcess {
    child: Child,
    /// Kept open: a hub printing to a closed pipe would fail.
    _stdout: BufReader<tokio::process::ChildStdout>,
    pub(super) pid: u32,
    pub(super) addr: std::net::SocketAddr,
    /// When it printed its ready line.
    pub(super) ready: Instant,
    /// From spawn to the ready line.
    pub(super) cold_start: Duration,
}

impl HubProcess {
    /// Start `tsunagu serve --config CONFIG --listen LISTEN`, its log
    /// appended to `log`; returns once it printed its ready line.
    pub(super) async fn start(
        config: &Path,
        listen: std::net::SocketAddr,
        log: &Path,
    ) -> anyhow::Result<Self> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .with_context(|| format!("opening the hub log {}", log.display()))?;
        let started = Instant::now();
        let mut child = Command::new(std::env::current_exe()?)
            .arg("serve")
            .arg("--config")
            .arg(config)
            .arg("--listen")
            .arg(listen.to_string())
            // One line per connection would be part of what is measured.
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .context("starting the hub (tsunagu serve)")?;
        let pid = child.id().context("the hub exited at once")?;
        let stdout = child.stdout.take().context("the hub's stdout")?;
        let mut stdout = BufReader::new(stdout);
        let mut line = String::new();
        tokio::time::timeout(PATIENCE, stdout.read_line(&mut line))
            .await
            .context("the hub printed no ready line in time")??;
        let ready = Instant::now();
        let addr = line
            .trim()
            .strip_prefix("listening on https://")
            .and_then(|a| a.parse().ok())
            .with_context(|| format!("the hub did not start (its log says why): {line:?}"))?;
        Ok(Self {
            child,
            _stdout: stdout,
            pid,
            addr,
            ready,
            cold_start: ready - started,
        })
    }

    /// SIGTERM, as systemd stops it, and wait for the exit; returns how
    /// long the graceful stop took.
    pub(super) async fn stop(mut self) -> anyhow::Result<Duration> {
        let asked = Instant::now();
        let pid = nix::unistd::Pid::from_raw(i32::try_from(self.pid)?);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM)
            .context("sending SIGTERM to the hub")?;
        let status = tokio::time::timeout(PATIENCE, self.child.wait())
            .await
            .context("the hub did not stop within the patience after SIGTERM")??;
        if !status.success() {
            bail!("the hub exited with {status} after SIGTERM (its log says why)");
        }
        Ok(asked.elapsed())
    }

    /// Its resident memory now.
    pub(super) fn memory(&self) -> Memory {
        Memory::of(&format!("/proc/{}/status", self.pid))
    }

    /// How many descriptors it holds open now.
    pub(super) fn descriptors(&self) -> Option<usize> {
        let fds = std::fs::read_dir(format!("/proc/{}/fd", self.pid)).ok()?;
        Some(fds.count())
    }
}

/// The child hub's configuration, written to `dir`: the ephemeral PKI,
/// `db_url`, and the limits. Every client of a bench is on 127.0.0.1, so
/// the per-address handshake cap (meant for one attacker's address) is off.
pub(super) fn write_config(
    dir: &Path,
    pki: &Pki,
    db_url: &str,
    max_connections: usize,
    max_handshakes: usize,
) -> anyhow::Result<PathBuf> {
    let quote = |s: &str| toml::Value::String(s.to_owned()).to_string();
    let file = |name: &str| quote(&pki.dir.join(name).display().to_string());
    let text = format!(
        "listen = \"127.0.0.1:0\"\n\
         database_url = {}\n\
         directory = {}\n\
         signing_key = {}\n\
         [tls]\nca = {}\ncert = {}\nkey = {}\n\
         [limits]\n\
         max_connections = {max_connections}\n\
         max_handshakes = {max_handshakes}\n\
         max_handshakes_per_address = 0\n",
        quote(db_url),
        file("directory.toml"),
        file(pki::HUB_SIGNING_KEY),
        file("ca.pem"),
        file("hub.pem"),
        file("hub-key.pem"),
    );
    let path = dir.join("hub.toml");
    write_file(&path, &text)?;
    Ok(path)
}
