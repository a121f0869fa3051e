//! The operations listener, as Prometheus, a load balancer and an operator
//! use it: the series a dashboard reads after a real exchange and a
//! refusal, `/healthz`, `/readyz` failing while the database is gone and
//! recovering when it is back, and nothing else served on that port.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tsunagu::fleet::{HubOptions, RunningHub};
use tsunagu::hub::MetricsConfig;
use tsunagu::protocol::{ConsentId, ErrorCode};

use crate::helpers::*;

both_backends!(
    a_scrape_after_an_exchange_and_a_refusal_shows_what_a_dashboard_reads,
    a_missed_deadline_is_counted_and_the_waiting_envelope_ages,
);

/// One request on its own connection: (status, body).
async fn request(ops: SocketAddr, raw: &str) -> (u16, String) {
    let mut tcp = TcpStream::connect(ops).await.unwrap();
    tcp.write_all(raw.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(PATIENCE, tcp.read_to_end(&mut out))
        .await
        .expect("the operations listener answers")
        .unwrap();
    let text = String::from_utf8(out).unwrap();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {text:?}"));
    let body = text
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_owned();
    (status, body)
}

async fn get(ops: SocketAddr, path: &str) -> (u16, String) {
    request(
        ops,
        &format!("GET {path} HTTP/1.1\r\nHost: ops\r\nConnection: close\r\n\r\n"),
    )
    .await
}

async fn scrape(hub: &TestHub) -> String {
    let (status, body) = get(operations(hub), "/metrics").await;
    assert_eq!(status, 200, "{body}");
    body
}

fn operations(hub: &TestHub) -> SocketAddr {
    hub.operations
        .expect("test hubs run the operations listener")
}

/// The value of one series (`name{labels}` exactly as exported).
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.split(' ').next()?.parse().ok())
}

/// Scrape until `series` shows `want`: for what the hub does after the
/// node's last event (committing an ack the node sent, noticing a socket
/// the node closed), which nothing signals. PATIENCE is a guard.
async fn scrape_until(hub: &TestHub, series: &str, want: f64) -> String {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let text = scrape(hub).await;
        if value(&text, series) == Some(want) {
            return text;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{series} never became {want}:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Plain HTTP on the TLS port: the handshake fails and the hub closes the
/// connection, having counted it first.
async fn fail_a_handshake(hub: &TestHub) {
    let mut tcp = TcpStream::connect(hub.addr).await.unwrap();
    tcp.write_all(b"GET /v1/agencies HTTP/1.1\r\nHost: hub\r\n\r\n")
        .await
        .unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(PATIENCE, tcp.read_to_end(&mut out))
        .await
        .expect("the hub closes the connection")
        .ok();
}

/// Every `tsunagu_…` name in `source` (what `what` holds) is a series of
/// the exposition `text` (a histogram may be named by its base name).
fn names_are_exported(what: &str, source: &str, text: &str) {
    let exported: std::collections::HashSet<&str> = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split(['{', ' ']).next())
        .collect();
    let mut checked = 0;
    for (i, _) in source.match_indices("tsunagu_") {
        let name: String = source[i..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        assert!(
            exported.contains(name.as_str()) || exported.contains(format!("{name}_count").as_str()),
            "{what} names {name}, which the hub does not export:\n{text}"
        );
        checked += 1;
    }
    assert!(checked > 10, "{what}: only {checked} names found");
}

fn read(file: &str) -> String {
    std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file)).unwrap()
}

/// The monitoring section of the operations guide.
fn monitoring_section() -> String {
    let guide = read("docs/operations.md");
    let start = guide
        .find("### 7.2 Monitoring")
        .expect("the monitoring section");
    let end = guide[start..]
        .find("\n## ")
        .map_or(guide.len(), |e| start + e);
    guide[start..end].to_owned()
}

fn pending(agency: &str) -> String {
    format!("tsunagu_deliveries_pending{{agency=\"{agency}\"}}")
}

fn sessions(agency: &str) -> String {
    format!("tsunagu_websocket_sessions{{agency=\"{agency}\"}}")
}

fn oldest(agency: &str) -> String {
    format!("tsunagu_deliveries_oldest_unacked_age_seconds{{agency=\"{agency}\"}}")
}

async fn a_scrape_after_an_exchange_and_a_refusal_shows_what_a_dashboard_reads(db: Db) {
    let hub = TestHub::start(&db).await;
    let data = tempfile::tempdir().unwrap();
    let clinic = TestNode::connect(&hub.url, CLINIC, data.path()).await;
    let case = clinic.node.open_case().await.unwrap();
    // The center is offline: its referral waits at the hub.
    sent(&clinic, &referral_draft(&case, &[CENTER])).await;
    refused_with(
        &clinic,
        &consent_referral_draft(&case, ConsentId::new(), &[CENTER]),
        ErrorCode::ConsentNotFound,
    )
    .await;
    fail_a_handshake(&hub).await;

    let text = scrape_until(&hub, &sessions(CLINIC), 1.0).await;
    // What the dashboard and the operations guide name, the hub exports.
    names_are_exported("the dashboard", &read("deploy/grafana/tsunagu.json"), &text);
    names_are_exported("docs/operations.md §7.2", &monitoring_section(), &text);
    assert_eq!(value(&text, "tsunagu_envelopes_accepted_total"), Some(1.0));
    assert_eq!(
        value(
            &text,
            "tsunagu_envelopes_refused_total{code=\"consent_not_found\"}"
        ),
        Some(1.0)
    );
    assert_eq!(value(&text, &pending(CENTER)), Some(1.0));
    // Every agency of the directory has a series, idle ones at 0.
    assert_eq!(value(&text, &pending(NURSERY)), Some(0.0));
    assert_eq!(value(&text, &sessions(CENTER)), None, "never connected");
    let now = time::OffsetDateTime::now_utc().unix_timestamp() as f64;
    let expiry = value(
        &text,
        "tsunagu_certificate_expiry_timestamp_seconds{agency=\"sakura-clinic\"}",
    )
    .expect("the clinic's certificate expiry");
    assert!(expiry > now, "the example certificate is valid: {expiry}");
    assert!(
        value(&text, "tsunagu_hub_certificate_expiry_timestamp_seconds").unwrap() > now,
        "the hub's own certificate expiry"
    );
    assert!(
        value(
            &text,
            "tsunagu_store_operation_duration_seconds_count{operation=\"accept\"}"
        )
        .unwrap()
            >= 2.0,
        "the accepted and the refused envelope each ran through the store"
    );
    assert!(
        text.ends_with("# EOF\n"),
        "a complete OpenMetrics exposition"
    );
    let (status, body) = get(operations(&hub), "/readyz").await;
    assert_eq!((status, body.as_str()), (200, "ready\n"));

    // The center connects, stores and acks: its queue drains; its socket
    // counts while open and no longer once it closes.
    let mut center = TestNode::open(&hub.url, CENTER, data.path()).await;
    center.start();
    center
        .wait_for(|e| matches!(e, tsunagu::agency::NodeEvent::Stored { .. }))
        .await;
    let text = scrape_until(&hub, &pending(CENTER), 0.0).await;
    assert_eq!(value(&text, &oldest(CENTER)), Some(0.0));
    assert_eq!(value(&text, &sessions(CENTER)), Some(1.0));
    assert!(
        value(
            &text,
            "tsunagu_certificate_expiry_timestamp_seconds{agency=\"minato-center\"}"
        )
        .is_some()
    );
    center.stop().await;
    scrape_until(&hub, &sessions(CENTER), 0.0).await;
    clinic.stop().await;
    hub.stop().await;
}

async fn a_missed_deadline_is_counted_and_the_waiting_envelope_ages(db: Db) {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let clock = Arc::new(tsunagu::hub::clock::ManualClock::new());
    let hub = TestHub::start_with_clock(&db, dir, None, clock.clone()).await;
    let data = tempfile::tempdir().unwrap();
    let clinic = TestNode::connect(&hub.url, CLINIC, data.path()).await;
    let case = clinic.node.open_case().await.unwrap();
    sent(&clinic, &referral_draft(&case, &[WELFARE])).await;
    // 通常 is 3 days: four days later the deadline has passed.
    clock.advance(time::Duration::days(4));
    let report = hub.hub.tick().await.unwrap();
    assert_eq!(report.escalations, 1);

    let text = scrape(&hub).await;
    assert_eq!(
        value(&text, "tsunagu_deadline_escalations_total"),
        Some(1.0)
    );
    assert_eq!(value(&text, "tsunagu_reminders_sent_total"), Some(0.0));
    assert_eq!(value(&text, "tsunagu_consents_expired_total"), Some(0.0));
    // Its age runs from when the hub accepted it, on the system clock the
    // store stamps it with (the test's hub clock moved, that one did not):
    // moments ago. A bound, not a measurement.
    let age = value(&text, &oldest(WELFARE)).expect("the waiting envelope's age");
    assert!((0.0..3600.0).contains(&age), "{age}");
    // The referral and the escalation notice wait for child welfare.
    assert_eq!(value(&text, &pending(WELFARE)), Some(2.0));
    clinic.stop().await;
    hub.stop().await;
}

#[tokio::test]
async fn healthz_is_alive_and_readyz_fails_while_the_database_is_gone_and_recovers() {
    let hub = TestHub::start(&Db::Sqlite).await;
    let ops = operations(&hub);
    assert_eq!(get(ops, "/healthz").await, (200, "ok\n".to_owned()));
    assert_eq!(get(ops, "/readyz").await, (200, "ready\n".to_owned()));

    // The file at the configured path is gone (a mistaken cleanup, a
    // volume unmounted): the hub's open connections would still answer
    // from the unlinked file, and a restart would find nothing.
    let db = hub.dir.path().join("hub.db");
    let moved = hub.dir.path().join("hub.db.moved");
    std::fs::rename(&db, &moved).unwrap();
    let (status, body) = get(ops, "/readyz").await;
    assert_eq!(
        (status, body.as_str()),
        (503, "not ready: database unavailable\n")
    );
    assert_eq!(get(ops, "/healthz").await.0, 200, "alive all the same");
    assert!(!db.exists(), "the check created nothing in its place");

    std::fs::rename(&moved, &db).unwrap();
    assert_eq!(get(ops, "/readyz").await, (200, "ready\n".to_owned()));
    hub.stop().await;
}

#[tokio::test]
async fn the_operations_listener_serves_only_its_paths_and_takes_no_body() {
    let hub = TestHub::start(&Db::Sqlite).await;
    let ops = operations(&hub);
    // The agency API is not here, with or without a certificate.
    for path in [
        "/v1/agencies",
        "/v1/directory",
        "/v1/socket",
        "/metricsx",
        "/",
    ] {
        let (status, body) = get(ops, path).await;
        assert_eq!(status, 404, "{path}: {body}");
        assert!(
            body.contains("/metrics, /healthz and /readyz only"),
            "{body}"
        );
    }
    let (status, body) = request(
        ops,
        "POST /metrics HTTP/1.1\r\nHost: ops\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
    )
    .await;
    assert_eq!(
        (status, body.as_str()),
        (413, "this listener takes no request body\n")
    );
    let (status, _) = request(
        ops,
        "GET /readyz HTTP/1.1\r\nHost: ops\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    )
    .await;
    assert_eq!(status, 413, "a chunked body is refused too");
    let (status, _) = request(
        ops,
        "DELETE /metrics HTTP/1.1\r\nHost: ops\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(status, 405);
    // Nothing of it changed what the hub holds or counts.
    let text = scrape(&hub).await;
    assert_eq!(value(&text, "tsunagu_envelopes_accepted_total"), Some(0.0));
    hub.stop().await;
}

#[tokio::test]
async fn a_connection_that_fails_its_handshake_is_counted_by_reason() {
    let hub = TestHub::start(&Db::Sqlite).await;
    fail_a_handshake(&hub).await;
    let text = scrape(&hub).await;
    assert_eq!(
        value(
            &text,
            "tsunagu_handshakes_refused_total{reason=\"handshake_failed\"}"
        ),
        Some(1.0)
    );
    assert_eq!(value(&text, "tsunagu_handshakes_in_progress"), Some(0.0));
    hub.stop().await;
}

/// A scrape storm costs the database one query per `cache_secs`.
#[tokio::test]
async fn scrapes_within_the_cache_period_read_the_queues_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = tsunagu::store::open(&Db::Sqlite.hub_url(dir.path()))
        .await
        .unwrap();
    let options = HubOptions {
        operations: Some(MetricsConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            cache_secs: 3600,
            ..MetricsConfig::default()
        }),
        ..HubOptions::default()
    };
    let hub = RunningHub::start(&certs(), store, options).await.unwrap();
    let ops = hub.operations.unwrap();
    let data = tempfile::tempdir().unwrap();
    let clinic = TestNode::connect(&hub.url, CLINIC, data.path()).await;
    let first = get(ops, "/metrics").await.1;
    assert_eq!(value(&first, &pending(CENTER)), Some(0.0));
    let case = clinic.node.open_case().await.unwrap();
    sent(&clinic, &referral_draft(&case, &[CENTER])).await;
    let mut last = String::new();
    for _ in 0..20 {
        last = get(ops, "/metrics").await.1;
    }
    assert_eq!(
        value(&last, &pending(CENTER)),
        Some(0.0),
        "within the period the figure is the cached one"
    );
    assert_eq!(
        value(
            &last,
            "tsunagu_store_operation_duration_seconds_count{operation=\"backlog\"}"
        ),
        Some(1.0),
        "21 scrapes, one query"
    );
    assert_eq!(value(&last, "tsunagu_envelopes_accepted_total"), Some(1.0));
    clinic.stop().await;
    hub.stop().await.unwrap();
}

/// Several hubs on one database, upgraded one at a time: once a newer hub
/// has migrated the schema, an older one still running says it is not
/// ready, so the load balancer sends agencies to the upgraded ones.
#[tokio::test]
async fn readyz_names_a_schema_this_build_does_not_know() {
    use sqlx::Connection;
    let hub = TestHub::start(&Db::Sqlite).await;
    let ops = operations(&hub);
    let url = Db::Sqlite.hub_url(hub.dir.path());
    let mut db = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (9999, 'from a newer hub', TRUE, $1, 0)",
    )
    .bind(vec![0u8; 48])
    .execute(&mut db)
    .await
    .unwrap();
    let (status, body) = get(ops, "/readyz").await;
    assert_eq!(status, 503, "{body}");
    assert!(
        body.starts_with("not ready: database schema is at migration 9999 but this hub needs "),
        "{body}"
    );

    sqlx::query("DELETE FROM _sqlx_migrations WHERE version = 9999")
        .execute(&mut db)
        .await
        .unwrap();
    db.close().await.unwrap();
    assert_eq!(get(ops, "/readyz").await, (200, "ready\n".to_owned()));
    hub.stop().await;
}

/// PostgreSQL stopped under a running hub, then started again: `/readyz`
/// is 503 while it is down and 200 once the pool has reconnected. On a
/// cluster of its own (the shared one serves the other tests).
#[tokio::test]
#[cfg_attr(
    not(tsunagu_pg),
    ignore = "PostgreSQL not installed: install Debian's postgresql package"
)]
async fn readyz_fails_while_postgresql_is_stopped_and_recovers_when_it_is_back() {
    use tsunagu::store::testing::cluster::{Cluster, bin_dir};
    let bin = bin_dir().expect("build.rs found PostgreSQL").to_owned();
    let cluster = tokio::task::spawn_blocking({
        let bin = bin.clone();
        move || Cluster::start(&bin)
    })
    .await
    .unwrap()
    .unwrap();
    let hub = TestHub::start(&Db::Postgres(cluster.url.clone())).await;
    let ops = operations(&hub);
    assert_eq!(get(ops, "/readyz").await, (200, "ready\n".to_owned()));
    // The operations listener answers from the start; the hub's own start
    // (its first reads of the database) runs beside it. A node that
    // connected and said hello shows the hub past it, so stopping the
    // database below tests readiness, not a start that failed.
    let data = tempfile::tempdir().unwrap();
    TestNode::connect(&hub.url, CENTER, data.path())
        .await
        .stop()
        .await;

    pg_ctl(&bin, &cluster, "stop").await;
    let (status, body) = get(ops, "/readyz").await;
    assert_eq!(
        (status, body.as_str()),
        (503, "not ready: database unavailable\n")
    );
    assert_eq!(get(ops, "/healthz").await.0, 200, "alive all the same");

    pg_ctl(&bin, &cluster, "start").await;
    assert_eq!(get(ops, "/readyz").await, (200, "ready\n".to_owned()));
    hub.stop().await;
    tokio::task::spawn_blocking(move || cluster.stop())
        .await
        .unwrap()
        .unwrap();
}

/// `pg_ctl stop` (fast: sessions are cut, as when the server goes away)
/// or `start` with the options the cluster script starts it with; waits
/// until done.
async fn pg_ctl(
    bin: &std::path::Path,
    cluster: &tsunagu::store::testing::cluster::Cluster,
    verb: &str,
) {
    let data = cluster.dir.join("data");
    let options = format!(
        "-p 5432 -k '{}' -c listen_addresses='' -c max_connections=500 -c fsync=off",
        cluster.dir.display()
    );
    // As the cluster script runs it: as the postgres user when root.
    use std::os::unix::fs::MetadataExt;
    let root = std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0);
    let mut command = if root {
        let mut c = tokio::process::Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin.join("pg_ctl"));
        c
    } else {
        tokio::process::Command::new(bin.join("pg_ctl"))
    };
    command
        .arg("-D")
        .arg(&data)
        .args(["-w", "-m", "fast", "-l"])
        .arg(cluster.dir.join("server.log"));
    if verb == "start" {
        command.args(["-o", &options]);
    }
    let status = command
        .arg(verb)
        .stdout(std::process::Stdio::null())
        .status()
        .await
        .unwrap();
    assert!(status.success(), "pg_ctl {verb}");
}
