//! Changing the directory of a running hub: the operator edits it with
//! `tsunagu admin agency …` (signed with the CA key), the hub reloads it
//! without a restart; a revoked agency's live socket closes within seconds
//! and its next connection is refused with the reason; an added agency
//! connects at once; a changed 要対協 membership changes the policy at once;
//! a bad directory changes nothing.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use tsunagu::agency::NodeEvent;
use tsunagu::agency::client::ClientError;
use tsunagu::crypto::pki::generate_ca;
use tsunagu::directory::{self, SignedDirectory};
use tsunagu::fleet::RunningHub;
use tsunagu::protocol::LegalBasis;
use tsunagu::protocol::action::Action;
use tsunagu::protocol::case::{CaseClassification, Registration};
use tsunagu::protocol::payload::Body;
use tsunagu::protocol::{ErrorCode, Notice};

use crate::directory::{Pki, deployment, running};
use crate::helpers::*;
use crate::processes::spawn_serve;

/// How long a revoked socket may stay open after the reload. A generous
/// bound for a loaded CI machine, not a benchmark: the close is pushed the
/// moment the directory is swapped.
const CLOSED_WITHIN: Duration = Duration::from_secs(5);

/// `tsunagu admin agency ARGS --directory … --ca-cert … --ca-key …` on the
/// copy's directory; whether it succeeded and what it said.
fn admin_agency(pki: &Pki, args: &[&str]) -> (bool, String) {
    let (file, ca, key) = (
        pki.file(),
        pki.dir.join("ca.pem"),
        pki.dir.join("ca-key.pem"),
    );
    let mut all = vec!["admin", "agency"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--directory", file.to_str().unwrap()]);
    all.extend_from_slice(&["--ca-cert", ca.to_str().unwrap()]);
    all.extend_from_slice(&["--ca-key", key.to_str().unwrap()]);
    run_tsunagu(&all)
}

/// `tsunagu certs issue` with the copy's CA into `out`.
fn issue(
    pki: &Pki,
    id: &str,
    kind: &str,
    name: &str,
    out: &Path,
    extra: &[&str],
) -> (bool, String) {
    let (ca, key) = (pki.dir.join("ca.pem"), pki.dir.join("ca-key.pem"));
    let mut args = vec!["certs", "issue", "--id", id, "--kind", kind, "--name", name];
    args.extend_from_slice(&["--ca-cert", ca.to_str().unwrap()]);
    args.extend_from_slice(&["--ca-key", key.to_str().unwrap()]);
    args.extend_from_slice(&["--out", out.to_str().unwrap()]);
    args.extend_from_slice(extra);
    run_tsunagu(&args)
}

async fn reload(pki: &Pki, hub: &RunningHub) -> tsunagu::hub::Reloaded {
    hub.hub
        .reload_directory(&pki.file(), &pki.dir.join("ca.pem"))
        .await
        .unwrap()
        .expect("a newer directory")
}

async fn audit_events(hub: &RunningHub, name: &str) -> Vec<serde_json::Value> {
    let entries = hub.store.audit_entries(None, None).await.unwrap();
    entries
        .into_iter()
        .filter(|e| e.event == name)
        .map(|e| serde_json::from_str(&e.detail).unwrap())
        .collect()
}

#[tokio::test]
async fn a_revoked_agency_is_cut_off_within_seconds_and_refused_with_the_reason() {
    let (pki, _hub_data, _db, hub) = deployment().await;
    let data = tempfile::tempdir().unwrap();
    let mut nursery = running(&pki.unpinned(NURSERY, &hub.url, data.path())).await;
    let mut clinic = running(&pki.unpinned(CLINIC, &hub.url, data.path())).await;
    // A kept-alive HTTP connection of the nursery, opened before.
    let nursery_http = client_at(&hub.url, NURSERY);
    nursery_http.directory().await.unwrap();

    let (ok, said) = admin_agency(&pki, &["revoke", "--id", NURSERY]);
    assert!(ok, "{said}");
    assert!(said.contains("- hikari-nursery"), "{said}");
    let started = Instant::now();
    let reloaded = reload(&pki, &hub).await;
    assert_eq!(reloaded.revoked, [agency(NURSERY)]);

    let closed = nursery
        .wait_for(|e| matches!(e, NodeEvent::Disconnected { .. }))
        .await;
    assert!(
        started.elapsed() < CLOSED_WITHIN,
        "closed after {:?}",
        started.elapsed()
    );
    assert!(
        format!("{closed:?}").contains("agency revoked"),
        "{closed:?}"
    );
    // Its next connection is refused with the reason, which staff see.
    let refused = nursery
        .wait_for(|e| matches!(e, NodeEvent::HubError(_)))
        .await;
    let NodeEvent::HubError(body) = refused else {
        unreachable!()
    };
    assert_eq!(body.code, ErrorCode::CertificateRevoked);
    assert!(
        body.message.contains("取り消されました"),
        "{}",
        body.message
    );
    match nursery_http.directory().await {
        Err(ClientError::Refused(body)) => assert_eq!(body.code, ErrorCode::CertificateRevoked),
        other => panic!("the old connection still served: {other:?}"),
    }

    // The clinic stayed connected and exchanges as before.
    let mut welfare = TestNode::connect(&hub.url, WELFARE, data.path()).await;
    let case = clinic.node.open_case().await.unwrap();
    let id = sent(&clinic, &referral_draft(&case, &[WELFARE])).await;
    welfare.wait_stored(id).await;
    while let Ok(event) = clinic.events.try_recv() {
        assert!(
            !matches!(event, NodeEvent::Disconnected { .. }),
            "another agency's socket closed: {event:?}"
        );
    }
    // Sending to the revoked agency is refused.
    refused_with(
        &clinic,
        &referral_draft(&case, &[NURSERY]),
        ErrorCode::UnknownRecipient,
    )
    .await;

    let reloads = audit_events(&hub, "directory_reloaded").await;
    assert_eq!(reloads.len(), 1);
    assert_eq!(reloads[0]["revoked"], serde_json::json!([NURSERY]));
    assert_eq!(reloads[0]["new_version"], 2);
    let closed = audit_events(&hub, "connection_closed").await;
    assert_eq!(closed[0]["reason"], "agency revoked");
    for node in [nursery, clinic, welfare] {
        node.stop().await;
    }
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn a_revoked_agencys_queue_is_cancelled_and_each_sender_told() {
    let (pki, _hub_data, _db, hub) = deployment().await;
    let data = tempfile::tempdir().unwrap();
    let mut clinic = running(&pki.unpinned(CLINIC, &hub.url, data.path())).await;
    // Child welfare is offline: the referral waits in its queue.
    let case = clinic.node.open_case().await.unwrap();
    let id = sent(&clinic, &referral_draft(&case, &[WELFARE])).await;
    let (ok, said) = admin_agency(&pki, &["revoke", "--id", WELFARE]);
    assert!(ok, "{said}");
    reload(&pki, &hub).await;
    let told = clinic
        .wait_for(|e| {
            matches!(
                e,
                NodeEvent::Notice {
                    notice: Notice::RecipientRevoked { .. },
                    ..
                }
            )
        })
        .await;
    let NodeEvent::Notice { notice, .. } = told else {
        unreachable!()
    };
    assert_eq!(
        notice,
        Notice::RecipientRevoked {
            envelope_id: id,
            recipient: agency(WELFARE)
        }
    );
    let cancelled = audit_events(&hub, "deliveries_cancelled_revoked").await;
    assert_eq!(
        cancelled[0]["envelopes"],
        serde_json::json!([id.to_string()])
    );
    clinic.stop().await;
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn a_replaced_certificate_closes_the_old_nodes_socket_and_the_new_one_connects() {
    let (pki, _hub_data, _db, hub) = deployment().await;
    let data = tempfile::tempdir().unwrap();
    let mut stolen = running(&pki.unpinned(CLINIC, &hub.url, data.path())).await;
    let fresh = tempfile::tempdir().unwrap();
    let keys = fresh.path().join("sakura-clinic");
    let (ok, said) = issue(
        &pki,
        CLINIC,
        "obstetric_clinic",
        "さくらレディースクリニック",
        &keys,
        &[],
    );
    assert!(ok, "{said}");
    let (ok, said) = admin_agency(
        &pki,
        &[
            "update",
            "--id",
            CLINIC,
            "--from",
            keys.to_str().unwrap(),
            "--compromised",
        ],
    );
    assert!(ok, "{said}");
    assert!(said.contains("cert_fingerprint"), "{said}");
    let reloaded = reload(&pki, &hub).await;
    assert_eq!(reloaded.updated, [agency(CLINIC)]);
    let closed = stolen
        .wait_for(|e| matches!(e, NodeEvent::Disconnected { .. }))
        .await;
    assert!(
        format!("{closed:?}").contains("certificate replaced"),
        "{closed:?}"
    );
    let refused = stolen
        .wait_for(|e| matches!(e, NodeEvent::HubError(_)))
        .await;
    assert!(
        format!("{refused:?}").contains("新しい証明書"),
        "{refused:?}"
    );
    stolen.stop().await;

    // The clinic's new node, with the new keys, connects.
    let replaced = pki.keys_of(CLINIC);
    std::fs::remove_dir_all(&replaced).unwrap();
    crate::directory::copy_dir(&keys, &replaced);
    let data = tempfile::tempdir().unwrap();
    let clinic = running(&pki.unpinned(CLINIC, &hub.url, data.path())).await;
    clinic.stop().await;
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn an_added_agency_connects_and_exchanges_without_a_restart() {
    let (pki, _hub_data, _db, hub) = deployment().await;
    let id = "aoba-clinic";
    let keys = pki.keys_of(id);
    let (ok, said) = issue(&pki, id, "obstetric_clinic", "あおばクリニック", &keys, &[]);
    assert!(ok, "{said}");
    let (ok, said) = admin_agency(
        &pki,
        &[
            "add",
            "--id",
            id,
            "--from",
            keys.to_str().unwrap(),
            "--kind",
            "obstetric_clinic",
            "--name",
            "あおばクリニック",
        ],
    );
    assert!(ok, "{said}");
    let reloaded = reload(&pki, &hub).await;
    assert_eq!(reloaded.added, [agency(id)]);

    let data = tempfile::tempdir().unwrap();
    let aoba = running(&pki.unpinned(id, &hub.url, data.path())).await;
    let mut center = running(&pki.unpinned(CENTER, &hub.url, data.path())).await;
    assert_eq!(center.node.current_directory().version(), 2);
    let case = aoba.node.open_case().await.unwrap();
    let sent_id = sent(&aoba, &referral_draft(&case, &[CENTER])).await;
    center.wait_stored(sent_id).await;
    aoba.stop().await;
    center.stop().await;
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn a_changed_yotaikyo_membership_changes_the_policy_at_once() {
    let (pki, _hub_data, _db, hub) = deployment().await;
    let data = tempfile::tempdir().unwrap();
    let center = TestNode::connect(&hub.url, CENTER, data.path()).await;
    let yotaikyo = TestNode::connect(&hub.url, "minato-yotaikyo", data.path()).await;
    let mut nursery = TestNode::connect(&hub.url, NURSERY, data.path()).await;
    let case = center.node.open_case().await.unwrap();
    let registration = Registration {
        classification: CaseClassification::SpecifiedExpectantMother,
        lead: agency(CENTER),
        members: vec![agency(CENTER), agency(NURSERY)],
    };
    let register = action_draft(
        Some(&case),
        &[NURSERY],
        Action::RegisterCase { registration },
        Body::CaseUpdate(note("実務者会議で登録")),
    );
    sent(&yotaikyo, &register).await;
    let mut share = referral_draft(&case, &[NURSERY]);
    share.basis = Some(LegalBasis::YotaikyoSharing);
    let id = sent(&center, &share).await;
    nursery.wait_stored(id).await;

    let (ok, said) = admin_agency(
        &pki,
        &["update", "--id", NURSERY, "--yotaikyo-member=false"],
    );
    assert!(ok, "{said}");
    assert!(said.contains("yotaikyo_member: true → false"), "{said}");
    reload(&pki, &hub).await;
    // The nodes still hold the old directory; the hub refuses at once.
    refused_with(&center, &share, ErrorCode::RecipientNotCovered).await;
    for node in [center, yotaikyo, nursery] {
        node.stop().await;
    }
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn a_bad_directory_changes_nothing_and_the_hub_keeps_serving() {
    let (pki, _hub_data, _db, hub) = deployment().await;
    let data = tempfile::tempdir().unwrap();
    let mut nursery = running(&pki.unpinned(NURSERY, &hub.url, data.path())).await;
    let ca = pki.dir.join("ca.pem");
    let v1 = SignedDirectory::load(&pki.file(), &ca).unwrap();
    let (ok, said) = admin_agency(&pki, &["revoke", "--id", NURSERY]);
    assert!(ok, "{said}");
    let v2 = SignedDirectory::load(&pki.file(), &ca).unwrap();
    let sig = directory::signature_path(&pki.file());
    let foreign = generate_ca("another CA").unwrap();
    let write = |text: &str, signature: Option<&str>| {
        std::fs::write(pki.file(), text).unwrap();
        match signature {
            Some(s) => std::fs::write(&sig, s).unwrap(),
            None => std::fs::remove_file(&sig).unwrap(),
        }
    };
    let altered = v2.text().replace("version = 2", "version = 3");
    let foreign_signature = directory::sign(v2.text(), &foreign).unwrap();
    let bad = [
        ("unsigned", v2.text(), None),
        ("altered", altered.as_str(), Some(v2.signature())),
        ("foreign CA", v2.text(), Some(foreign_signature.as_str())),
    ];
    // v1 is in force.
    for (what, text, signature) in bad {
        write(text, signature);
        let refused = hub.hub.reload_directory(&pki.file(), &ca).await;
        assert!(refused.is_err(), "{what} was accepted");
        assert_eq!(hub.hub.published().version(), 1, "{what}");
    }
    // With v2 in force, v1 (properly signed) is older.
    write(v2.text(), Some(v2.signature()));
    hub.hub.reload_directory(&pki.file(), &ca).await.unwrap();
    write(v1.text(), Some(v1.signature()));
    let refused = hub
        .hub
        .reload_directory(&pki.file(), &ca)
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("not newer"), "{refused}");
    assert_eq!(hub.hub.published().version(), 2);
    // The same directory again: nothing to do, nothing audited.
    write(v2.text(), Some(v2.signature()));
    assert!(
        hub.hub
            .reload_directory(&pki.file(), &ca)
            .await
            .unwrap()
            .is_none()
    );

    let refusals = audit_events(&hub, "directory_reload_refused").await;
    assert_eq!(refusals.len(), 4, "{refusals:?}");
    assert!(
        refusals[0]["reason"]
            .as_str()
            .unwrap()
            .contains("no signature")
    );
    assert_eq!(audit_events(&hub, "directory_reloaded").await.len(), 1);
    // Until the good one, the nursery's socket stayed open; it closed then.
    let closed = nursery
        .wait_for(|e| matches!(e, NodeEvent::Disconnected { .. }))
        .await;
    assert!(
        format!("{closed:?}").contains("agency revoked"),
        "{closed:?}"
    );
    nursery.stop().await;
    hub.stop().await.unwrap();
}

/// `tsunagu serve` on the copy, on a random port; returns once it listens,
/// with its log (stderr) to read.
fn spawn_hub(pki: &Pki, db: &str) -> (Child, String, BufReader<std::process::ChildStderr>) {
    let at = |file: &str| pki.dir.join(file).display().to_string();
    let (directory, ca) = (at("directory.toml"), at("ca.pem"));
    let (cert, key) = (at("hub.pem"), at("hub-key.pem"));
    let args = [
        "--database-url",
        db,
        "--directory",
        &directory,
        "--ca",
        &ca,
        "--cert",
        &cert,
        "--key",
        &key,
    ];
    let (mut child, url) = spawn_serve(&args, Stdio::piped());
    let log = BufReader::new(child.stderr.take().unwrap());
    (child, url, log)
}

/// Read the log until a line contains `needle`.
fn log_until(log: &mut BufReader<std::process::ChildStderr>, needle: &str) -> String {
    let mut line = String::new();
    loop {
        line.clear();
        assert!(
            log.read_line(&mut line).unwrap() > 0,
            "log ended before {needle:?}"
        );
        if line.contains(needle) {
            return line;
        }
    }
}

fn hangup(child: &Child) {
    let status = std::process::Command::new("kill")
        .args(["-HUP", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[tokio::test]
async fn sighup_makes_the_running_binary_reload_its_directory() {
    let pki = Pki::copy();
    let data = tempfile::tempdir().unwrap();
    let db = Db::Sqlite.hub_url(data.path());
    let (mut child, url, mut log) = spawn_hub(&pki, &db);
    let (ok, said) = admin_agency(&pki, &["revoke", "--id", NURSERY]);
    assert!(ok, "{said}");
    hangup(&child);
    let line = log_until(&mut log, "directory reloaded");
    assert!(
        line.contains("new_version=2") || line.contains("\"new_version\":2"),
        "{line}"
    );
    let center = client_at(&url, CENTER);
    let published = center.directory().await.unwrap();
    assert!(published.directory.contains("version = 2"));
    match client_at(&url, NURSERY).directory().await {
        Err(ClientError::Refused(body)) => assert_eq!(body.code, ErrorCode::CertificateRevoked),
        other => panic!("a revoked agency was served: {other:?}"),
    }
    // A bad file on the next SIGHUP: an ERROR, and the hub goes on.
    std::fs::write(pki.file(), "version = [").unwrap();
    hangup(&child);
    let line = log_until(&mut log, "directory reload refused");
    assert!(line.contains("ERROR"), "{line}");
    assert!(
        center
            .directory()
            .await
            .unwrap()
            .directory
            .contains("version = 2")
    );
    child.kill().unwrap();
    child.wait().unwrap();
}

fn unchanged_after(pki: &Pki, args: &[String], expect: &str) {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let args = &args[..];
    let before = std::fs::read(pki.file()).unwrap();
    let (ok, said) = admin_agency(pki, args);
    assert!(!ok, "{args:?} succeeded: {said}");
    assert!(said.contains(expect), "{args:?}: {said}");
    assert_eq!(
        std::fs::read(pki.file()).unwrap(),
        before,
        "{args:?} changed the file"
    );
}

#[test]
fn the_agency_commands_refuse_bad_input_and_change_nothing() {
    let pki = Pki::copy();
    let keys = pki.keys_of(CLINIC).display().to_string();
    let empty = tempfile::tempdir().unwrap();
    let empty = empty.path().display().to_string();
    let add = |id: &str, from: &str, kind: &str| -> Vec<String> {
        [
            "add", "--id", id, "--from", from, "--kind", kind, "--name", "x",
        ]
        .map(String::from)
        .to_vec()
    };
    let words = |args: &[&str]| args.iter().map(|a| a.to_string()).collect::<Vec<_>>();
    let clinic_keys_again = add("new-one", &keys, "nursery");
    unchanged_after(
        &pki,
        &add(CENTER, &keys, "nursery"),
        "すでにディレクトリにあります",
    );
    unchanged_after(&pki, &clinic_keys_again, "すでに機関 sakura-clinic");
    unchanged_after(
        &pki,
        &add("new-one", &empty, "nursery"),
        "cert.pem がありません",
    );
    unchanged_after(&pki, &add("new-one", &keys, "hospital"), "hospital");
    unchanged_after(
        &pki,
        &words(&["revoke", "--id", "nobody"]),
        "nobody はディレクトリにありません",
    );
    unchanged_after(
        &pki,
        &words(&["update", "--id", CENTER]),
        "変更がありません",
    );
    let (ok, said) = admin_agency(&pki, &["revoke", "--id", NURSERY]);
    assert!(ok, "{said}");
    let welfare_keys = pki.keys_of(WELFARE).display().to_string();
    unchanged_after(
        &pki,
        &add(NURSERY, &welfare_keys, "nursery"),
        "再利用できません",
    );
    std::fs::write(pki.file(), "version = [").unwrap();
    unchanged_after(
        &pki,
        &words(&["revoke", "--id", CENTER]),
        "ディレクトリを解釈できません",
    );

    let (ok, said) = run_tsunagu(&[
        "admin",
        "agency",
        "list",
        "--json",
        "--directory",
        certs().join("directory.toml").to_str().unwrap(),
    ]);
    assert!(ok, "{said}");
    let listed: serde_json::Value = serde_json::from_str(&said).unwrap();
    let clinic = &listed["agencies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == CLINIC)
        .unwrap();
    assert_eq!(clinic["yotaikyo_member"], false);
    assert_eq!(clinic["kind"], "obstetric_clinic");
}

#[test]
fn certs_issue_takes_the_yotaikyo_membership_as_a_flag() {
    let pki = Pki::copy();
    let out = tempfile::tempdir().unwrap();
    let out = out.path().join("keys");
    let (ok, said) = issue(
        &pki,
        "aoba-nursery",
        "nursery",
        "あおば保育園",
        &out,
        &["--yotaikyo-member"],
    );
    assert!(ok, "{said}");
    assert!(said.contains("yotaikyo_member = true"), "{said}");
    assert!(said.contains("tsunagu admin agency add"), "{said}");
    let (ok, said) = admin_agency(
        &pki,
        &[
            "add",
            "--id",
            "aoba-nursery",
            "--from",
            out.to_str().unwrap(),
            "--kind",
            "nursery",
            "--name",
            "あおば保育園",
            "--yotaikyo-member",
        ],
    );
    assert!(ok, "{said}");
    let signed = pki.signed();
    let added = signed.directory().get(&agency("aoba-nursery")).unwrap();
    assert!(added.yotaikyo_member);
    assert_eq!(signed.version(), 2);
}
