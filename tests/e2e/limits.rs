//! The hub as an operator runs it, under abuse: a file limit below its
//! `max_connections`, and a flood of handshakes that never complete. It
//! holds, keeps its log readable, and serves agencies again at once.

use std::process::Stdio;

use tempfile::TempDir;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::Child;
use tokio::task::JoinHandle;

use crate::helpers::*;

/// `tsunagu serve` in a shell that first runs `setup`; its URL, and its log
/// (every line, once the process has ended).
async fn spawn_hub(setup: &str) -> (Child, String, JoinHandle<Vec<String>>, TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("hub.db").display());
    let mut hub = tokio::process::Command::new("sh")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("RUST_LOG")
        .args([
            "-c",
            &format!(
                r#"{setup} exec "$0" serve --listen 127.0.0.1:0 --database-url "$1" --max-connections 10000"#
            ),
            env!("CARGO_BIN_EXE_tsunagu"),
            &db,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut out = BufReader::new(hub.stdout.take().unwrap()).lines();
    let listening = tokio::time::timeout(PATIENCE, out.next_line())
        .await
        .unwrap()
        .unwrap()
        .expect("the hub did not start");
    let url = listening.strip_prefix("listening on ").unwrap().to_owned();
    let stderr = hub.stderr.take().unwrap();
    let log = tokio::spawn(async move {
        let mut lines = BufReader::new(stderr).lines();
        let mut all = Vec::new();
        while let Ok(Some(line)) = lines.next_line().await {
            all.push(line);
        }
        all
    });
    (hub, url, log, dir)
}

/// An agency's request gets its answer.
async fn served(url: &str) {
    let agencies = tokio::time::timeout(PATIENCE, client_at(url, CENTER).agencies())
        .await
        .expect("the hub did not answer")
        .unwrap();
    assert!(agencies.iter().any(|a| a.id.as_str() == CENTER));
}

#[tokio::test]
async fn a_hub_whose_file_limit_is_below_max_connections_caps_them_and_recovers() {
    // `ulimit -n` sets the soft and the hard limit: the hub cannot raise it.
    let (mut hub, url, log, _dir) = spawn_hub("ulimit -n 160 &&").await;
    let addr = url.strip_prefix("https://").unwrap().to_owned();
    // More connections than the limit allows, none of them finishing a
    // handshake.
    let mut held = Vec::new();
    for _ in 0..200 {
        held.push(TcpStream::connect(&addr).await.unwrap());
    }
    // They go; an agency is served again.
    drop(held);
    served(&url).await;

    hub.kill().await.unwrap();
    let lines = log.await.unwrap();
    let capped: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains("max_connections exceeds"))
        .collect();
    assert_eq!(capped.len(), 1, "{lines:#?}");
    assert!(capped[0].contains("capped=96"), "{}", capped[0]);
    let failed = lines.iter().filter(|l| l.contains("accept failed")).count();
    assert!(failed <= 10, "{failed} accept failures logged");
}

#[tokio::test]
async fn a_flood_of_bad_handshakes_is_counted_in_one_warning_not_one_each() {
    let (mut hub, url, log, _dir) = spawn_hub("").await;
    let addr = url.strip_prefix("https://").unwrap().to_owned();
    for _ in 0..100 {
        let mut tcp = TcpStream::connect(&addr).await.unwrap();
        tcp.write_all(b"GET / HTTP/1.1\r\nHost: scan\r\n\r\n")
            .await
            .unwrap();
        // The hub answers with an alert and closes.
        let mut rest = Vec::new();
        let _ = tokio::time::timeout(
            PATIENCE,
            tokio::io::AsyncReadExt::read_to_end(&mut tcp, &mut rest),
        )
        .await
        .expect("the hub kept a bad handshake open");
    }
    served(&url).await;

    hub.kill().await.unwrap();
    let lines = log.await.unwrap();
    let warned: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains("WARN") && l.contains("handshake"))
        .collect();
    assert_eq!(warned.len(), 1, "{warned:#?}");
    assert!(warned[0].contains("count=1"), "{}", warned[0]);
}

/// A mutually authenticated TLS connection as `id`, with nothing sent yet.
async fn tls_as(hub: &TestHub, id: &str) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    let own = certs().join("agencies").join(id);
    let config = tsunagu::crypto::tls::client_config_from_files(
        &certs().join("ca.pem"),
        &own.join("cert.pem"),
        &own.join("key.pem"),
    )
    .unwrap();
    let addr = hub.url.strip_prefix("https://").unwrap();
    let tcp = TcpStream::connect(addr).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    tokio_rustls::TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .unwrap()
}

/// Read until the hub closes; what it sent.
async fn until_closed(tls: &mut tokio_rustls::client::TlsStream<tokio::net::TcpStream>) -> Vec<u8> {
    let mut got = Vec::new();
    let _ = tokio::time::timeout(
        PATIENCE,
        tokio::io::AsyncReadExt::read_to_end(tls, &mut got),
    )
    .await
    .expect("the hub kept the connection open");
    got
}

#[tokio::test]
async fn a_connection_that_sends_no_request_is_closed_and_http2_is_not_spoken() {
    let limits = tsunagu::hub::Limits {
        header_timeout_secs: 1,
        ..tsunagu::hub::Limits::default()
    };
    let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
    let hub = TestHub::start_with(&Db::Sqlite, limits, dir, None).await;
    // Authenticated, then silent: closed once the header timeout passes.
    let mut silent = tls_as(&hub, CENTER).await;
    until_closed(&mut silent).await;
    // Half a request line, then silence: the same.
    let mut slow = tls_as(&hub, CENTER).await;
    slow.write_all(b"GET /v1/agencies HTTP/1.1\r\nHo")
        .await
        .unwrap();
    until_closed(&mut slow).await;
    // The HTTP/2 preface is not a request this hub reads.
    let mut h2 = tls_as(&hub, CENTER).await;
    h2.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        .await
        .unwrap();
    let answer = until_closed(&mut h2).await;
    assert!(
        answer.is_empty() || answer.starts_with(b"HTTP/1.1 4"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    // An agency's request is served as before.
    served(&hub.url).await;
    hub.stop().await;
}
