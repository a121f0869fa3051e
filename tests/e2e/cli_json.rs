//! The staff CLI as scripts and staff use it: `--json` on every list and
//! show command (tests read fields, not sentences), the ids staff need, the
//! states and names they read, and output piped into a reader that closes.

use std::process::Stdio;

use serde_json::Value;

use crate::helpers::*;

both_backends!(staff_read_ids_states_and_names_from_every_list_as_json);

fn tsunagu() -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_tsunagu"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd.env("TSUNAGU_AUTHOR_NAME", "佐藤 美咲")
        .env("TSUNAGU_AUTHOR_ROLE", "助産師")
        .env("TSUNAGU_AUTHOR_CONTACT", "03-0000-0000")
        .env_remove("TSUNAGU_LANG");
    cmd
}

async fn staff(args: &[&str]) -> (bool, String, String) {
    staff_as(&midwife(), args).await
}

async fn json(args: &[&str]) -> Value {
    staff_json_as(&midwife(), args).await
}

fn today_form(dir: &std::path::Path) -> String {
    let form = dir.join("referral.toml");
    let today = time::OffsetDateTime::now_utc().date();
    std::fs::write(
        &form,
        toml::to_string(&tsunagu::protocol::referral::demo_referral(today)).unwrap(),
    )
    .unwrap();
    form.display().to_string()
}

pub async fn staff_read_ids_states_and_names_from_every_list_as_json(db: Db) {
    let hub = TestHub::start(&db).await;
    let dir = tempfile::tempdir().unwrap();
    let clinic = agency_toml(dir.path(), &hub.url, CLINIC);
    let center = agency_toml(dir.path(), &hub.url, CENTER);

    let case = json(&["case-open", "--config", &clinic]).await["case_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let recorded = json(&[
        "consent-record",
        "--config",
        &clinic,
        "--case",
        &case,
        "--to",
        CENTER,
        "--recipients",
        CENTER,
        "--categories",
        "basic,pregnancy-medical,mental-health,family",
        "--method",
        "oral",
        "--given-by-name",
        "山田 花子",
    ])
    .await;
    assert_eq!(recorded["case_id"], case.as_str());
    let consent = recorded["consent_id"].as_str().unwrap().to_owned();
    let form = today_form(dir.path());
    let send = |to: &'static str| {
        let (clinic, case, consent, form) = (&clinic, &case, &consent, &form);
        async move {
            staff(&[
                "send",
                "--config",
                clinic,
                "--case",
                case,
                "--basis",
                "consent",
                "--consent-id",
                consent,
                "--to",
                to,
                "--file",
                form,
                "--json",
            ])
            .await
        }
    };
    // A refusal names the nursery as staff know it and says what to do next.
    let (ok, out, err) = send(NURSERY).await;
    assert!(!ok && out.is_empty(), "{out}");
    assert!(err.contains("ひかり保育園"), "{err}");
    assert!(
        err.contains("次の手順") && err.contains("--justification"),
        "{err}"
    );
    let (ok, out, err) = send(CENTER).await;
    assert!(ok, "{err}");
    let sent: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(sent["status"], "stored");
    let referral = sent["envelope_id"].as_str().unwrap().to_owned();

    // The outbox says the hub stored it, not 受理.
    let outbox = json(&["outbox", "--config", &clinic]).await;
    let row = &outbox.as_array().unwrap()[0];
    assert_eq!(row["envelope_id"], referral.as_str());
    assert_eq!(row["status"]["name"], "accepted");
    assert_eq!(row["status"]["label"], "ハブ保存済み");
    assert_eq!(row["case_id"], case.as_str());
    assert_eq!(row["basis"]["consent_id"], consent.as_str());
    assert_eq!(row["recipients"][0]["name"], "みなと市こども家庭センター");

    let mut center_node = TestNode::connect(&hub.url, CENTER, dir.path()).await;
    center_node.wait_stored(referral.parse().unwrap()).await;
    center_node.stop().await;
    // The recipient sees the case, the basis and the consent it can withdraw.
    let inbox = json(&["inbox", "--config", &center]).await;
    let row = &inbox.as_array().unwrap()[0];
    assert_eq!(row["envelope_id"], referral.as_str());
    assert_eq!(row["sender"]["id"], CLINIC);
    assert_eq!(row["kind"]["name"], "referral");
    assert_eq!(row["case_id"], case.as_str());
    assert_eq!(row["basis"]["name"], "consent");
    assert_eq!(row["basis"]["label"], "本人同意");
    assert_eq!(row["basis"]["consent_id"], consent.as_str());
    let (ok, text, _) = staff(&["inbox", "--config", &center]).await;
    assert!(ok && text.starts_with("受信日時"), "a header row: {text}");
    assert!(text.contains(&case) && text.contains(&consent), "{text}");
    let shown = json(&["show", "--config", &center, &referral]).await;
    assert_eq!(shown["direction"], "received");
    assert_eq!(shown["basis"]["consent_id"], consent.as_str());
    assert_eq!(shown["payload"]["author"]["name"], "佐藤 美咲");
    let (ok, text, _) = staff(&["show", "--config", &center, &referral]).await;
    assert!(
        ok && text.contains("同意ID:") && text.contains(&case),
        "{text}"
    );

    let (ok, out, err) = staff(&[
        "referral-update",
        "--config",
        &center,
        &referral,
        "--state",
        "received",
        "--note",
        "受理",
        "--json",
    ])
    .await;
    assert!(ok, "{err}");
    let reply: String = serde_json::from_str::<Value>(&out).unwrap()["envelope_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let status = json(&["status", "--config", &clinic, &referral]).await;
    assert_eq!(status["states"][0]["agency"]["id"], CENTER);
    assert_eq!(status["states"][0]["state"]["name"], "received");

    // The reply reaches the clinic with its state and the referral it answers.
    let mut clinic_node = TestNode::connect(&hub.url, CLINIC, dir.path()).await;
    clinic_node.wait_stored(reply.parse().unwrap()).await;
    clinic_node.stop().await;
    let inbox = json(&["inbox", "--config", &clinic]).await;
    let row = &inbox.as_array().unwrap()[0];
    assert_eq!(row["referral_update"]["referral"], referral.as_str());
    assert_eq!(row["referral_update"]["state"]["label"], "受理");
    let (_, text, _) = staff(&["inbox", "--config", &clinic]).await;
    assert!(text.contains("受理") && text.contains(&referral), "{text}");
    let english = json(&["--lang", "en", "inbox", "--config", &clinic]).await;
    assert_eq!(english[0]["referral_update"]["state"]["label"], "received");
    assert_eq!(english[0]["kind"]["name"], "referral_update");

    let disclosures = json(&["disclosures", "--config", &clinic, "--case", &case]).await;
    let first = disclosures
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["kind"]["name"] == "referral")
        .unwrap();
    assert_eq!(first["basis"]["label"], "本人同意");
    assert_eq!(first["recipient"]["id"], CENTER);
    assert!(first["categories"][0]["label"].is_string(), "{first}");
    assert_eq!(
        json(&["notices", "--config", &clinic]).await,
        Value::Array(vec![])
    );
    // Oversight is for the center: the clinic is refused before any heading.
    let (ok, out, _) = staff(&["oversight", "--config", &clinic]).await;
    assert!(!ok && out.is_empty(), "{out}");
    let oversight = json(&["oversight", "--config", &center]).await;
    assert!(oversight["statutory_uses"].is_array(), "{oversight}");
    // The 調整機関 registers the case; the command names the case it changed.
    let yotaikyo = agency_toml(dir.path(), &hub.url, "minato-yotaikyo");
    let (ok, text, err) = staff(&[
        "case",
        "--config",
        &yotaikyo,
        "--case",
        &case,
        "--classification",
        "specified-expectant-mother",
        "--lead",
        CENTER,
        "--members",
        &format!("{CENTER},{CLINIC}"),
    ])
    .await;
    assert!(
        ok && text.contains(&format!("ケースID: {case}")),
        "{text}{err}"
    );
    hub.stop().await;
}

/// `tsunagu agency inbox | head -1` with the reader already gone: no panic
/// (exit 101), no message, success.
#[tokio::test]
async fn output_into_a_closed_pipe_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    // Listing needs no hub: nothing listens here.
    let config = agency_toml(dir.path(), "https://127.0.0.1:9", CLINIC);
    for args in [
        vec!["inbox", "--config", &config],
        vec!["outbox", "--config", &config, "--json"],
    ] {
        let mut child = tsunagu()
            .arg("agency")
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Close the only reader before the command writes a byte.
        drop(child.stdout.take());
        let out = child.wait_with_output().await.unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
    }
}

/// Missing flags and the missing pregnancy section are named together, in
/// one pass, before anything is opened or sent.
#[tokio::test]
async fn the_form_is_checked_in_one_pass() {
    let (ok, out, err) = staff(&[
        "send",
        "--config",
        "/nonexistent/agency.toml",
        "--to",
        CENTER,
        "--case",
        "case-3fa2c81b09d4",
        "--basis",
        "provision-to-municipality",
        "--justification",
        "特定妊婦の疑い",
        "--timing",
        "pregnancy",
        "--name",
        "山田 花子",
        "--reason",
        "young",
    ])
    .await;
    assert!(!ok && out.is_empty(), "{out}");
    assert!(
        err.contains("--phone") && err.contains("--findings"),
        "{err}"
    );
    assert!(
        err.contains("妊娠の状況"),
        "the pregnancy section too: {err}"
    );
    assert!(!err.contains("設定"), "nothing opened: {err}");
}
