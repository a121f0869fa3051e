//! The hub under a file limit below its `max_connections`: it caps the
//! connections it holds rather than spin on EMFILE, says so once, and serves
//! agencies again as soon as the connections that filled it go away.

use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpStream;

use crate::helpers::*;

#[tokio::test]
async fn a_hub_whose_file_limit_is_below_max_connections_caps_them_and_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("hub.db").display());
    // `ulimit -n` sets the soft and the hard limit: the hub cannot raise it.
    let mut hub = tokio::process::Command::new("sh")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("RUST_LOG")
        .args([
            "-c",
            r#"ulimit -n 160 && exec "$0" serve --listen 127.0.0.1:0 --database-url "$1" --max-connections 10000"#,
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
    let addr = url.strip_prefix("https://").unwrap().to_owned();
    let stderr = hub.stderr.take().unwrap();
    let log = tokio::spawn(async move {
        let mut lines = BufReader::new(stderr).lines();
        let mut all = Vec::new();
        while let Ok(Some(line)) = lines.next_line().await {
            all.push(line);
        }
        all
    });

    // More connections than the limit allows, none of them finishing a
    // handshake.
    let mut held = Vec::new();
    for _ in 0..200 {
        held.push(TcpStream::connect(&addr).await.unwrap());
    }
    // They go; an agency is served again.
    drop(held);
    let agencies = tokio::time::timeout(PATIENCE, client_at(&url, CENTER).agencies())
        .await
        .expect("the hub did not recover")
        .unwrap();
    assert!(agencies.iter().any(|a| a.id.as_str() == CENTER));

    // Its log ends when it does.
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
