//! The binary's log as an operator reads it: written to a pipe or a file
//! (systemd's journal, `2> node.log`), it is plain text, with no terminal
//! colour codes to wade through.

use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, BufReader};

use crate::helpers::*;

#[tokio::test]
async fn a_log_written_to_a_pipe_carries_no_colour_codes() {
    let dir = tempfile::tempdir().unwrap();
    // A hub nobody listens for: the node logs its attempts.
    let config = agency_toml(dir.path(), "https://127.0.0.1:9", CENTER);
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_tsunagu"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("TSUNAGU_LANG")
        .env_remove("RUST_LOG")
        .args(["agency", "run", "--config", &config])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let line = tokio::time::timeout(PATIENCE, lines.next_line())
        .await
        .expect("the node logged nothing")
        .unwrap()
        .expect("the node's log ended");
    child.kill().await.unwrap();
    assert!(
        ["INFO", "WARN", "ERROR"].iter().any(|l| line.contains(l)),
        "not a log line: {line}"
    );
    assert!(
        !line.contains('\u{1b}'),
        "colour codes in a piped log: {line:?}"
    );
}
