//! The binary itself: the demo a newcomer runs, and a hub killed with SIGKILL.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use tsunagu::agency::Sent;

use crate::helpers::*;

fn tsunagu() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tsunagu"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

#[test]
fn the_demo_narrates_the_case_in_japanese_and_exits_zero() {
    let out = tsunagu().arg("demo").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "demo failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("ひかり保育園は宛先ではありません: 受信箱 0 件"),
        "{stdout}"
    );
    assert!(
        stdout.contains("保存内容に氏名・所見の文字列: 0 件"),
        "{stdout}"
    );
    assert!(stdout.contains("デモ完了"), "{stdout}");
}

#[test]
fn the_demo_speaks_english_on_request() {
    let out = tsunagu().args(["--lang", "en", "demo"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(stdout.contains("Demo complete."), "{stdout}");
    assert!(stdout.contains("stored and acknowledged"), "{stdout}");
}

/// Start `tsunagu serve` on a random port; returns once it says it listens.
fn spawn_hub(db: &str) -> (Child, String) {
    let mut child = tsunagu()
        .args(["serve", "--listen", "127.0.0.1:0", "--database-url", db])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
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

#[tokio::test]
async fn a_hub_killed_with_sigkill_loses_nothing_it_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let db = tsunagu::store::testing::sqlite_url(dir.path(), "hub.db");
    let (mut hub, url) = spawn_hub(&db);
    let clinic = TestNode::open(&url, CLINIC, dir.path()).await;
    let case = clinic.node.open_case().await.unwrap();
    let mut ids = Vec::new();
    for _ in 0..20 {
        match clinic
            .node
            .send(&referral_draft(&case, &[WELFARE]))
            .await
            .unwrap()
        {
            Sent::Accepted { id, .. } => ids.push(id),
            other => panic!("{other:?}"),
        }
    }
    // No graceful shutdown: the process dies at once.
    hub.kill().unwrap();
    hub.wait().unwrap();

    let (mut hub, url) = spawn_hub(&db);
    let mut welfare = TestNode::connect(&url, WELFARE, dir.path()).await;
    for id in &ids {
        welfare.wait_stored(*id).await;
    }
    assert_eq!(welfare.node.records().inbox().await.unwrap().len(), 20);
    welfare.stop().await;
    clinic.stop().await;
    hub.kill().unwrap();
    hub.wait().unwrap();
}
