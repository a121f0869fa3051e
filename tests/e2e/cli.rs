//! The binary itself: the demo a newcomer runs, and a hub killed with SIGKILL.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use crate::helpers::*;

both_backends!(
    a_hub_killed_with_sigkill_loses_nothing_it_accepted,
    staff_record_consent_refer_and_follow_the_referral_from_the_command_line,
);

pub(crate) fn tsunagu() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tsunagu"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

// The demo runs its own hub on SQLite: nothing to choose.
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
    // The longer story: the nursery refused as an invitee, the hub's
    // reminder, and the nursery holding only its excerpt of the minutes.
    assert!(
        stdout.contains("宛先「ひかり保育園」（hikari-nursery）はこの同意の範囲外です"),
        "{stdout}"
    );
    assert!(stdout.contains("前日のお知らせを送りました"), "{stdout}");
    assert!(stdout.contains("保育園には抜粋"), "{stdout}");
    assert!(
        stdout.contains("支援プランの見直し期限を過ぎています"),
        "{stdout}"
    );
    assert!(stdout.contains("支援内容（変更）"), "the diff: {stdout}");
    assert!(
        stdout.contains("保育園が受け取ったのは自園の担当部分だけ"),
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
    spawn_serve(&["--database-url", db], Stdio::null())
}

/// `tsunagu serve ARGS` on a random port, its log to `stderr`; returns once
/// it says it listens, with its URL.
pub(crate) fn spawn_serve(args: &[&str], stderr: Stdio) -> (Child, String) {
    let mut child = tsunagu()
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

async fn a_hub_killed_with_sigkill_loses_nothing_it_accepted(db: Db) {
    let dir = tempfile::tempdir().unwrap();
    let db = db.hub_url(dir.path());
    let (mut hub, url) = spawn_hub(&db);
    let clinic = TestNode::open(&url, CLINIC, dir.path()).await;
    let case = clinic.node.open_case().await.unwrap();
    let mut ids = Vec::new();
    for _ in 0..20 {
        ids.push(sent(&clinic, &referral_draft(&case, &[WELFARE])).await);
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

/// Run `tsunagu agency …` as a member of staff; (success, stdout + stderr).
fn staff(args: &[&str]) -> (bool, String) {
    let out = tsunagu()
        .arg("agency")
        .args(args)
        .env("TSUNAGU_AUTHOR_NAME", "佐藤 美咲")
        .env("TSUNAGU_AUTHOR_ROLE", "助産師")
        .env("TSUNAGU_AUTHOR_CONTACT", "03-0000-0000")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn last_word(text: &str) -> String {
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .and_then(|l| l.split_whitespace().last())
        .unwrap_or_default()
        .to_owned()
}

async fn staff_record_consent_refer_and_follow_the_referral_from_the_command_line(db: Db) {
    let dir = tempfile::tempdir().unwrap();
    let db = db.hub_url(dir.path());
    let (mut hub, url) = spawn_hub(&db);
    let clinic = agency_toml(dir.path(), &url, CLINIC);
    let center = agency_toml(dir.path(), &url, CENTER);

    let (ok, out) = staff(&["case-open", "--config", &clinic]);
    assert!(ok && out.contains("ケースを開設しました"), "{out}");
    let case = last_word(&out);
    let (ok, out) = staff(&[
        "consent-record",
        "--config",
        &clinic,
        "--case",
        &case,
        "--to",
        CENTER,
        "--recipients",
        &format!("{CENTER},{WELFARE}"),
        "--categories",
        "basic,pregnancy-medical,mental-health,family",
        "--method",
        "oral",
        "--given-by-name",
        "山田 花子",
    ]);
    assert!(ok && out.contains("同意ID"), "{out}");
    let consent = last_word(&out);
    // Today's version of the demo form (the example file's dates are fixed).
    let form = dir.path().join("referral.toml");
    let today = time::OffsetDateTime::now_utc().date();
    std::fs::write(
        &form,
        toml::to_string(&tsunagu::protocol::referral::demo_referral(today)).unwrap(),
    )
    .unwrap();
    let form = form.display().to_string();
    let send = |to: &str| {
        staff(&[
            "send",
            "--config",
            &clinic,
            "--case",
            &case,
            "--basis",
            "consent",
            "--consent-id",
            &consent,
            "--to",
            to,
            "--urgency",
            "early",
            "--file",
            &form,
        ])
    };
    let (ok, out) = send(NURSERY);
    assert!(
        !ok && out.contains("範囲外") && out.contains(NURSERY),
        "the nursery is refused and named: {out}"
    );
    let (ok, out) = send(CENTER);
    assert!(ok && out.contains("送信しました"), "{out}");
    let referral = last_word(&out);

    let (ok, out) = staff(&["status", "--config", &clinic, &referral]);
    assert!(ok && out.contains("送付済み"), "{out}");
    // The center's node must hold it before its staff can acknowledge.
    let mut center_node = TestNode::connect(&url, CENTER, dir.path()).await;
    center_node.wait_stored(referral.parse().unwrap()).await;
    center_node.stop().await;
    let (ok, out) = staff(&[
        "referral-update",
        "--config",
        &center,
        &referral,
        "--state",
        "accepted",
    ]);
    assert!(
        !ok && out.contains("変更できません"),
        "受理 comes first: {out}"
    );
    let (ok, out) = staff(&[
        "referral-update",
        "--config",
        &center,
        &referral,
        "--state",
        "received",
        "--note",
        "受理",
    ]);
    assert!(ok, "{out}");
    let (ok, out) = staff(&["--lang", "en", "status", "--config", &clinic, &referral]);
    assert!(ok && out.contains("received"), "{out}");
    let (ok, out) = staff(&["disclosures", "--config", &clinic, "--case", &case]);
    assert!(
        ok && out.contains("本人同意"),
        "the basis by its label: {out}"
    );
    hub.kill().unwrap();
    hub.wait().unwrap();
}
