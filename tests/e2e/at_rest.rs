//! The node's records and keys at rest: `records.db` (with its WAL and SHM)
//! holds no plaintext, an old plain database is encrypted in place at
//! upgrade, a wrong records key or passphrase is refused and changes
//! nothing, and keys protected by a passphrase still start the node.

use std::path::{Path, PathBuf};

use tsunagu::agency::AgencyConfig;
use tsunagu::agency::node::open_records;
use tsunagu::protocol::{Envelope, Seq};
use tsunagu::store::StoreError;
use tsunagu::store::records::Records;

use crate::helpers::*;

/// A name no referral or fixture uses, for the 支援台帳 row.
const LEDGER_MARKER: &str = "鷹ノ巣 標識子";

/// The plain SQLite header: an encrypted file must not start with it.
const SQLITE_HEADER: &[u8] = b"SQLite format 3\0";

/// `tsunagu agency ARGS` with `env` set, run as a nurse: (success, stdout,
/// stdout + stderr). Standard input is not a terminal, so no prompt waits.
async fn agency_with(args: &[&str], env: &[(&str, &Path)]) -> (bool, String, String) {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_tsunagu"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("TSUNAGU_LANG")
        .env_remove("TSUNAGU_PASSPHRASE_FILE")
        .env_remove("CREDENTIALS_DIRECTORY")
        .env("USER", "hokenshi")
        .arg("agency")
        .args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let both = format!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    (out.status.success(), stdout, both)
}

/// The records file and its WAL and SHM.
fn record_files(config: &AgencyConfig) -> Vec<PathBuf> {
    let db = config.database.strip_prefix("sqlite:").unwrap();
    ["", "-wal", "-shm"]
        .iter()
        .map(|s| PathBuf::from(format!("{db}{s}")))
        .collect()
}

fn holds(path: &Path, needle: &str) -> bool {
    let bytes = std::fs::read(path).unwrap_or_default();
    bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// The example keys of `id` copied into `dir` (0600), in a config that
/// names no records key, as configs written before records were encrypted.
fn own_keys(dir: &Path, hub: &str, id: &str) -> (AgencyConfig, String) {
    let mut config = AgencyConfig::from_example(&certs(), &agency(id), hub, dir);
    let keys = dir.join("keys");
    std::fs::create_dir(&keys).unwrap();
    for (slot, name) in [
        (&mut config.tls.key, "key.pem"),
        (&mut config.keys.age_identity, "age-identity.txt"),
        (&mut config.keys.signing_key, "signing-key.txt"),
    ] {
        let text = std::fs::read_to_string(&*slot).unwrap();
        tsunagu::crypto::files::write_secret(&keys.join(name), &text).unwrap();
        *slot = keys.join(name);
    }
    config.keys.records_key = None;
    let path = dir.join(format!("{id}.toml"));
    std::fs::write(&path, toml::to_string(&config).unwrap()).unwrap();
    (config, path.display().to_string())
}

#[tokio::test]
async fn records_hold_no_plaintext_marker_and_the_referral_survives_a_restart() {
    let (hub, data, clinic, center, id) = referral_received(&Db::Sqlite).await;
    let config = agency_toml(data.path(), &hub.url, CENTER);
    let born = time::OffsetDateTime::now_utc().date().to_string();
    let (ok, _, out) = agency_with(
        &[
            "support-ledger",
            "add",
            "--number",
            "R8-0901",
            "--kind",
            "child",
            "--name",
            LEDGER_MARKER,
            "--birth-date",
            &born,
            "--tier",
            "specified",
            "--district",
            "北地区",
            "--staff",
            "佐藤",
            "--reason",
            "出生連絡",
            "--config",
            &config,
        ],
        &[],
    )
    .await;
    assert!(ok, "{out}");

    // Read while the node runs, so the WAL holds the latest writes.
    let loaded = AgencyConfig::load(config.as_ref()).unwrap();
    let files = record_files(&loaded);
    assert!(files[1].exists(), "the WAL is there to be searched");
    for file in &files {
        for marker in [MARKER, LEDGER_MARKER, "やまだ"] {
            assert!(!holds(file, marker), "{marker} in {}", file.display());
        }
    }
    assert!(!std::fs::read(&files[0]).unwrap().starts_with(SQLITE_HEADER));
    // The search itself works: the node reads the marker back decrypted.
    let row = center.node.records().inbox_item(id).await.unwrap().unwrap();
    assert!(row.payload.contains(MARKER));

    center.stop().await;
    let center = TestNode::connect(&hub.url, CENTER, data.path()).await;
    let row = center.node.records().inbox_item(id).await.unwrap().unwrap();
    assert!(
        row.payload.contains(MARKER),
        "the referral survives a restart"
    );
    let (ok, listed, out) =
        agency_with(&["support-ledger", "list", "--config", &config], &[]).await;
    assert!(ok && listed.contains(LEDGER_MARKER), "{out}");
    for file in &files {
        assert!(!holds(file, LEDGER_MARKER), "{}", file.display());
    }
    clinic.stop().await;
    center.stop().await;
    hub.stop().await;
}

#[tokio::test]
async fn plain_records_from_before_are_encrypted_in_place_at_upgrade_and_keep_the_referral() {
    let (hub, _data, clinic, center, id) = referral_received(&Db::Sqlite).await;
    let bytes = center.node.records().envelope_bytes(id).await.unwrap();
    let payload = center.node.records().inbox_item(id).await.unwrap().unwrap();
    clinic.stop().await;
    center.stop().await;
    hub.stop().await;

    // A node's records as the release before wrote them: plain SQLite,
    // with its key files and a config that names no records key.
    let old = tempfile::tempdir().unwrap();
    let (config, _) = own_keys(old.path(), "https://127.0.0.1:9", CENTER);
    let plain = Records::open(&config.database).await.unwrap();
    let envelope = Envelope::parse(bytes.clone().unwrap()).unwrap();
    plain
        .store_delivery(
            Seq(payload.seq as u64),
            &envelope,
            &bytes.unwrap(),
            &payload.payload,
        )
        .await
        .unwrap();
    plain.close().await;
    let files = record_files(&config);
    assert!(std::fs::read(&files[0]).unwrap().starts_with(SQLITE_HEADER));
    assert!(files.iter().any(|f| holds(f, MARKER)));

    let records = open_records(&config).await.unwrap();
    let row = records.inbox_item(id).await.unwrap().unwrap();
    assert_eq!(row.payload, payload.payload, "the referral survives");
    for file in &files {
        assert!(!holds(file, MARKER), "{}", file.display());
    }
    assert!(!std::fs::read(&files[0]).unwrap().starts_with(SQLITE_HEADER));
    records.close().await;
    let key = old.path().join("keys").join("records-key.txt");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the created records key is private");
    }
    let leftovers: Vec<_> = std::fs::read_dir(old.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("encrypting"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // And it opens again with the key it was given.
    let again = open_records(&config).await.unwrap();
    assert!(again.inbox_item(id).await.unwrap().is_some());
    again.close().await;
}

#[tokio::test]
async fn a_wrong_records_key_is_refused_with_a_clear_error_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (mut config, path) = own_keys(dir.path(), "https://127.0.0.1:9", CENTER);
    open_records(&config).await.unwrap().close().await;
    let before: Vec<Vec<u8>> = record_files(&config)
        .iter()
        .map(|f| std::fs::read(f).unwrap_or_default())
        .collect();

    let other = dir.path().join("other-records-key.txt");
    let key = tsunagu::crypto::keys::RecordsKey::generate();
    tsunagu::crypto::files::write_secret(
        &other,
        &tsunagu::crypto::keys::records_key_file(&key, "another node's"),
    )
    .unwrap();
    config.keys.records_key = Some(other.clone());
    let refused = open_records(&config).await.err().unwrap();
    let text = refused.to_string();
    assert!(
        matches!(
            refused,
            tsunagu::agency::NodeError::Store(StoreError::RecordsKey { .. })
        ),
        "{text}"
    );
    assert!(
        text.contains("記録キー") && text.contains("records key") && text.contains(".db"),
        "{text}"
    );
    assert!(!text.contains("not a database"), "{text}");
    let after: Vec<Vec<u8>> = record_files(&config)
        .iter()
        .map(|f| std::fs::read(f).unwrap_or_default())
        .collect();
    assert_eq!(before, after, "nothing changed");

    // Staff see the same through the CLI.
    std::fs::write(&path, toml::to_string(&config).unwrap()).unwrap();
    let (ok, _, out) = agency_with(&["inbox", "--config", &path], &[]).await;
    assert!(!ok && out.contains("記録キー"), "{out}");

    // Its key lost, encrypted records get no new key that cannot open them.
    config.keys.records_key = None;
    let lost = config.keys.records_key_path();
    std::fs::remove_file(&lost).unwrap();
    let refused = open_records(&config).await.err().unwrap();
    assert!(refused.to_string().contains("records key"), "{refused}");
    assert!(!lost.exists(), "no new records key was made");
}

#[tokio::test]
async fn keys_protected_by_a_passphrase_open_the_node_and_a_wrong_passphrase_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (config, path) = own_keys(dir.path(), "https://127.0.0.1:9", CENTER);
    let good = dir.path().join("passphrase");
    tsunagu::crypto::files::write_secret(&good, "とても長い合言葉 correct horse\n").unwrap();
    let env = [("TSUNAGU_PASSPHRASE_FILE", good.as_path())];

    let (ok, out, all) = agency_with(&["keys", "protect", "--config", &path, "--json"], &env).await;
    assert!(ok, "{all}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    let changes: Vec<&str> = report
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["change"].as_str().unwrap())
        .collect();
    assert_eq!(changes, ["rewritten"; 3]);
    let key_files = config.keys.files();
    let sealed: Vec<Vec<u8>> = key_files
        .iter()
        .map(|f| std::fs::read(f).unwrap())
        .collect();
    for (file, bytes) in key_files.iter().zip(&sealed) {
        let text = String::from_utf8_lossy(bytes);
        assert!(
            text.starts_with("-----BEGIN AGE ENCRYPTED FILE-----")
                && !text.contains("AGE-SECRET-KEY"),
            "{}",
            file.display()
        );
    }

    // The node opens its records with the protected keys.
    let (ok, _, all) = agency_with(&["inbox", "--config", &path, "--json"], &env).await;
    assert!(ok, "{all}");

    // A wrong passphrase names the file, in Japanese and English, and no
    // key file changes; none at all asks where a passphrase comes from.
    let wrong = dir.path().join("wrong");
    tsunagu::crypto::files::write_secret(&wrong, "battery staple\n").unwrap();
    let (ok, _, all) = agency_with(
        &["inbox", "--config", &path],
        &[("TSUNAGU_PASSPHRASE_FILE", wrong.as_path())],
    )
    .await;
    assert!(!ok, "{all}");
    assert!(
        all.contains("パスフレーズが違います") && all.contains("wrong passphrase"),
        "{all}"
    );
    assert!(
        key_files
            .iter()
            .any(|f| all.contains(&*f.display().to_string())),
        "{all}"
    );
    let (ok, _, all) = agency_with(
        &["keys", "unprotect", "--config", &path],
        &[("TSUNAGU_PASSPHRASE_FILE", wrong.as_path())],
    )
    .await;
    assert!(!ok && all.contains("wrong passphrase"), "{all}");
    let (ok, _, all) = agency_with(&["inbox", "--config", &path], &[]).await;
    assert!(!ok && all.contains("TSUNAGU_PASSPHRASE_FILE"), "{all}");
    let after: Vec<Vec<u8>> = key_files
        .iter()
        .map(|f| std::fs::read(f).unwrap())
        .collect();
    assert_eq!(sealed, after, "no key file changed");

    // A systemd credential is found first, and unprotect restores plain keys.
    let (ok, out, all) = agency_with(
        &["keys", "unprotect", "--config", &path, "--json"],
        &[
            ("CREDENTIALS_DIRECTORY", dir.path()),
            ("TSUNAGU_PASSPHRASE_FILE", wrong.as_path()),
        ],
    )
    .await;
    assert!(
        !ok,
        "the credential is named tsunagu-passphrase: {out}{all}"
    );
    std::fs::rename(&good, dir.path().join("tsunagu-passphrase")).unwrap();
    let (ok, _, all) = agency_with(
        &["keys", "unprotect", "--config", &path, "--json"],
        &[
            ("CREDENTIALS_DIRECTORY", dir.path()),
            ("TSUNAGU_PASSPHRASE_FILE", wrong.as_path()),
        ],
    )
    .await;
    assert!(ok, "{all}");
    let identity = std::fs::read_to_string(&config.keys.age_identity).unwrap();
    assert!(identity.contains("AGE-SECRET-KEY-1"));
}
