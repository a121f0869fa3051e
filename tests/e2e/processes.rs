//! Real `tsunagu serve` processes on one database, and a TCP forwarder in
//! front of them standing for HAProxy: each new connection goes to the first
//! hub in its list that accepts it, so when a hub dies its nodes reconnect
//! to the next one.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Stdio};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// A `tsunagu serve` process on a random loopback port; killed when dropped.
pub struct HubProcess {
    pub addr: SocketAddr,
    /// Its base URL, for nodes.
    pub url: String,
    child: Child,
}

impl HubProcess {
    /// Start it on `database_url`; returns once it says it listens.
    pub fn spawn(database_url: &str) -> HubProcess {
        Self::start(database_url, Stdio::null())
    }

    /// The same, its log written to `log` (read it when a test fails).
    pub fn spawn_logged(database_url: &str, log: &Path) -> HubProcess {
        Self::start(database_url, std::fs::File::create(log).unwrap().into())
    }

    fn start(database_url: &str, log: Stdio) -> HubProcess {
        let (child, url) = spawn_serve(&["--database-url", database_url], log);
        let addr = url.trim_start_matches("https://").parse().unwrap();
        HubProcess { addr, url, child }
    }

    /// SIGKILL: no graceful stop, no lease released, sockets cut.
    pub fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for HubProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `tsunagu serve ARGS` on a random port, its log to `stderr`; returns once
/// it says it listens, with its URL.
pub(crate) fn spawn_serve(args: &[&str], stderr: Stdio) -> (Child, String) {
    let mut child = crate::cli::tsunagu()
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(args)
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .expect("hub did not start")
        .to_owned();
    (child, url)
}

/// A TCP forwarder on a random loopback port; stops when dropped.
pub struct Forwarder {
    /// The URL nodes use: TLS passes through, so the hub's certificate
    /// (issued for 127.0.0.1) still matches.
    pub url: String,
    task: JoinHandle<()>,
}

impl Forwarder {
    /// Forward each connection to the first of `hubs` that accepts it.
    pub async fn start(hubs: Vec<SocketAddr>) -> Forwarder {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("https://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(forward(client, hubs.clone()));
            }
        });
        Forwarder { url, task }
    }
}

impl Drop for Forwarder {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Pipe `client` to a live hub until either side closes; with none live,
/// close it (the node retries, as it would behind HAProxy).
async fn forward(mut client: TcpStream, hubs: Vec<SocketAddr>) {
    for hub in hubs {
        if let Ok(mut upstream) = TcpStream::connect(hub).await {
            let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
            return;
        }
    }
}
