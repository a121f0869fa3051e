//! Staff accounts through the real binary: the first administrator added
//! with `staff add --password-stdin`, listed as JSON, then signed in at the
//! library level with a TOTP code computed from the secret the command
//! printed; and each kind of bad input refused with its own message.

use std::process::Stdio;

use serde_json::Value;
use tokio::io::AsyncWriteExt;
use tsunagu::agency::AgencyConfig;
use tsunagu::agency::staff::{StaffAccounts, TotpSecret, Viewed};
use tsunagu::protocol::Timestamp;

use crate::helpers::*;

const PASSWORD: &str = "夏の海に白い帆が三つ見える";

/// `tsunagu agency ARGS` in Japanese with `stdin` on its standard input:
/// (success, stdout, stderr).
async fn agency(args: &[&str], stdin: &str) -> (bool, String, String) {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_tsunagu"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("TSUNAGU_LANG")
        .arg("agency")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    // A command that refuses its arguments exits without reading its
    // input: the pipe is then closed under us, which is its answer, not ours.
    if let Err(e) = input.write_all(stdin.as_bytes()).await {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
    }
    drop(input);
    let out = child.wait_with_output().await.unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn add(config: &str, name: &str, role: &str, password: &str) -> (bool, String, String) {
    let args = [
        "staff",
        "add",
        "--config",
        config,
        "--name",
        name,
        "--role",
        role,
        "--contact",
        "内線 100",
        "--password-stdin",
        "--json",
    ];
    agency(&args, &format!("{password}\n")).await
}

fn now_secs() -> u64 {
    u64::try_from(Timestamp::now().unix_millis() / 1000).unwrap()
}

#[tokio::test]
async fn the_first_administrator_is_added_listed_and_signs_in_with_the_printed_secret() {
    let dir = tempfile::tempdir().unwrap();
    let config = agency_toml(dir.path(), "https://127.0.0.1:9", CENTER);

    let (ok, out, err) = add(&config, "管理 花子", "administrator", PASSWORD).await;
    assert!(ok, "{out}{err}");
    assert!(
        !err.contains(PASSWORD),
        "the password reached the log: {err}"
    );
    let added: Value = serde_json::from_str(&out).unwrap();
    let secret = added["secret"].as_str().unwrap();
    assert!(
        added["otpauth_uri"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/")
    );
    assert_eq!(added["recovery_codes"].as_array().unwrap().len(), 10);

    let (ok, out, err) = agency(&["staff", "list", "--config", &config, "--json"], "").await;
    assert!(ok, "{out}{err}");
    let list: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["name"], "管理 花子");
    assert_eq!(list[0]["role"]["name"], "administrator");
    assert_eq!(list[0]["role"]["label"], "管理者");
    assert_eq!(list[0]["enabled"], true);
    assert_eq!(list[0]["id"], added["staff"]["id"]);

    let loaded = AgencyConfig::load(config.as_ref()).unwrap();
    let records = tsunagu::agency::node::open_records(&loaded).await.unwrap();
    let accounts = StaffAccounts::from_config(&loaded, records).unwrap();
    let code = TotpSecret::from_base32(secret).unwrap().code_at(now_secs());
    let session = accounts
        .login("管理 花子", PASSWORD, &code, "127.0.0.1", Timestamp::now())
        .await
        .unwrap();
    let author = session.staff.author();
    assert_eq!(
        (
            author.name.as_str(),
            author.role.as_str(),
            author.contact.as_str()
        ),
        ("管理 花子", "管理者", "内線 100")
    );
    accounts
        .record_view(
            &session.staff,
            Viewed::Case,
            "case-3fa2c81b09d4",
            Timestamp::now(),
        )
        .await
        .unwrap();
    accounts.records().close().await;

    let (ok, out, err) = agency(&["access-log", "--config", &config, "--csv"], "").await;
    assert!(ok, "{out}{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[1].ends_with(",管理 花子,administrator,case,case-3fa2c81b09d4"),
        "{out}"
    );
}

#[tokio::test]
async fn staff_commands_refuse_bad_input_each_with_its_own_reason() {
    let dir = tempfile::tempdir().unwrap();
    let config = agency_toml(dir.path(), "https://127.0.0.1:9", CENTER);
    let (ok, out, err) = add(&config, "管理 花子", "administrator", PASSWORD).await;
    assert!(ok, "{out}{err}");

    let (ok, _, err) = add(&config, "佐藤 美咲", "midwife", "password1234").await;
    assert!(!ok && err.contains("このパスワードは使えません"), "{err}");
    assert!(err.contains("よく使われる"), "{err}");

    let (ok, _, err) = add(&config, "管理 花子", "clerk", PASSWORD).await;
    assert!(!ok && err.contains("すでに登録されています"), "{err}");

    let (ok, _, err) = add(&config, "佐藤 美咲", "doctor", PASSWORD).await;
    assert!(
        !ok && err.contains("doctor") && err.contains("--role"),
        "{err}"
    );

    let (ok, _, err) = agency(&["staff", "disable", "--config", &config, "管理 花子"], "").await;
    assert!(
        !ok && err.contains("最後の有効な管理者は無効にできません"),
        "{err}"
    );

    let (ok, _, err) = agency(&["staff", "disable", "--config", &config, "鈴木 一郎"], "").await;
    assert!(!ok && err.contains("登録されていません"), "{err}");

    // A role by its Japanese name; the human output shows the QR code once.
    let args = [
        "staff",
        "add",
        "--config",
        &config,
        "--name",
        "佐藤 美咲",
        "--role",
        "助産師",
        "--password-stdin",
    ];
    let (ok, out, err) = agency(&args, &format!("{PASSWORD}\n")).await;
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("otpauth://totp/") && out.contains('█'),
        "{out}"
    );
    assert_eq!(
        out.lines()
            .filter(|l| l.starts_with("  ") && l.len() == 21)
            .count(),
        10,
        "{out}"
    );

    let (ok, out, err) = agency(&["staff", "disable", "--config", &config, "佐藤 美咲"], "").await;
    assert!(ok && out.contains("無効にしました"), "{out}{err}");
}
