//! deploy/haproxy.cfg, adapted to loopback, in front of two real `tsunagu
//! serve` processes on one PostgreSQL database: the TCP passthrough carries
//! mutual TLS and the delivery websockets, and when one hub is killed its
//! nodes come back through HAProxy on the other with nothing lost and
//! nothing twice.

use std::path::Path;
use std::process::Stdio;

use tempfile::TempDir;
use tsunagu::agency::Sent;

use crate::helpers::*;
use crate::processes::HubProcess;

const HAPROXY: &str = "/usr/sbin/haproxy";

#[tokio::test]
#[cfg_attr(
    not(all(tsunagu_pg, tsunagu_haproxy)),
    ignore = "needs PostgreSQL and HAProxy: install Debian's postgresql and haproxy packages"
)]
async fn nodes_exchange_through_haproxy_and_resume_on_the_other_hub_when_one_is_killed() {
    let Db::Postgres(database) = Db::postgres().await else {
        unreachable!()
    };
    let mut hub1 = HubProcess::spawn(&database);
    let hub2 = HubProcess::spawn(&database);
    let lb = Haproxy::start(&[&hub1.url, &hub2.url]).await;
    let data = tempfile::tempdir().unwrap();
    let clinic = TestNode::connect(&lb.url, CLINIC, data.path()).await;
    let mut welfare = TestNode::connect(&lb.url, WELFARE, data.path()).await;

    let case = clinic.node.open_case().await.unwrap();
    let first = sent(&clinic, &referral_draft(&case, &[WELFARE])).await;
    welfare.wait_stored(first).await;

    // No graceful shutdown: whichever node sockets hub1 held drop at once.
    hub1.kill();
    // Sent while the nodes reconnect: accepted through HAProxy by hub2 (a
    // connection refused by hub1 is dispatched again), or queued in the
    // clinic's outbox and resent once it is back.
    let second = match clinic
        .node
        .send(&referral_draft(&case, &[WELFARE]))
        .await
        .unwrap()
    {
        Sent::Accepted { id, .. } | Sent::Queued { id, .. } => id,
    };
    welfare.wait_stored(second).await;
    let inbox = welfare.node.records().inbox().await.unwrap();
    assert_eq!(inbox.len(), 2, "each referral stored once: {inbox:?}");

    clinic.stop().await;
    welfare.stop().await;
    lb.stop().await;
    drop(hub2);
}

/// HAProxy running deploy/haproxy.cfg on a loopback port.
struct Haproxy {
    child: tokio::process::Child,
    url: String,
    _dir: TempDir,
}

impl Haproxy {
    /// Start it in front of the hubs at `urls`; returns once it is ready.
    async fn start(urls: &[&str]) -> Haproxy {
        let dir = tempfile::tempdir().unwrap();
        // Free a port for HAProxy to bind: the kernel does not hand it out
        // again at once, and nothing else on this machine asks for it.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let shipped = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/haproxy.cfg"),
        )
        .unwrap();
        let config = dir.path().join("haproxy.cfg");
        std::fs::write(&config, on_loopback(&shipped, port, urls, dir.path())).unwrap();
        // -Ws: HAProxy says READY=1 on $NOTIFY_SOCKET once it listens, as
        // it does to systemd.
        let notify = dir.path().join("notify.sock");
        let ready = tokio::net::UnixDatagram::bind(&notify).unwrap();
        let child = tokio::process::Command::new(HAPROXY)
            .arg("-Ws")
            .arg("-q")
            .arg("-f")
            .arg(&config)
            .env("NOTIFY_SOCKET", &notify)
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        tokio::time::timeout(PATIENCE, async {
            let mut buf = [0; 512];
            loop {
                let n = ready.recv(&mut buf).await.unwrap();
                if String::from_utf8_lossy(&buf[..n]).contains("READY=1") {
                    return;
                }
            }
        })
        .await
        .expect("HAProxy did not become ready");
        Haproxy {
            child,
            url: format!("https://127.0.0.1:{port}"),
            _dir: dir,
        }
    }

    /// SIGTERM to the master, which stops its workers, and wait.
    async fn stop(mut self) {
        let pid = self.child.id().unwrap().to_string();
        let killed = tokio::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .await
            .unwrap();
        assert!(killed.success());
        self.child.wait().await.unwrap();
    }
}

/// The shipped configuration with compose's names replaced by loopback
/// addresses. Each edit must apply, so a change to the shipped file that
/// this test would no longer cover fails here instead of passing untested.
fn on_loopback(shipped: &str, port: u16, hubs: &[&str], dir: &Path) -> String {
    let hub = |n: usize| hubs[n].strip_prefix("https://").unwrap().to_owned();
    let edits = [
        ("bind :8443".to_owned(), format!("bind 127.0.0.1:{port}")),
        (
            "stats socket /var/lib/haproxy/admin.sock".to_owned(),
            format!("stats socket {}/admin.sock", dir.display()),
        ),
        // Docker's DNS is not here; the servers are addresses.
        (" resolvers docker\n".to_owned(), "\n".to_owned()),
        ("resolvers docker\n".to_owned(), "".to_owned()),
        (
            "    nameserver dns 127.0.0.11:53\n".to_owned(),
            "".to_owned(),
        ),
        ("    hold valid 10s\n".to_owned(), "".to_owned()),
        (
            "server hub1 hub1:8443".to_owned(),
            format!("server hub1 {}", hub(0)),
        ),
        (
            "server hub2 hub2:8443".to_owned(),
            format!("server hub2 {}", hub(1)),
        ),
        // The two hubs here run without an operations listener, so the
        // health check is a TCP connect to each hub's TLS port; /readyz
        // itself is tested in tests/e2e/metrics.rs.
        ("    option httpchk GET /readyz\n".to_owned(), "".to_owned()),
        (
            "    http-check expect status 200\n".to_owned(),
            "".to_owned(),
        ),
        (" check port 9464 ".to_owned(), " check ".to_owned()),
    ];
    let mut config = shipped.to_owned();
    for (from, to) in edits {
        assert_eq!(
            config.matches(&from).count(),
            1,
            "deploy/haproxy.cfg no longer has {from:?} once"
        );
        config = config.replace(&from, &to);
    }
    config
}
