//! A directory the hub cannot forge. Nodes verify every directory against
//! the CA certificate they already trust, refuse one that is unsigned,
//! signed by another key, altered or older than the one they hold, and go
//! on with the one they had; a running node picks up a newer signed
//! directory from the hub; an agency's keys rotate without losing what was
//! sent to the old ones; the operator's tools refuse bad input.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use tempfile::TempDir;
use tsunagu::agency::{AgencyConfig, NodeEvent, Sent};
use tsunagu::crypto::pki::{CaBundle, generate_ca};
use tsunagu::crypto::{keys, seal};
use tsunagu::directory::{self, Directory, SignedDirectory};
use tsunagu::fleet::{HubOptions, RunningHub, RunningNode};
use tsunagu::protocol::frame::{HubFrame, SubmitResponse, SubmitStatus};
use tsunagu::protocol::{Agency, Envelope, EnvelopeId, PublishedDirectory, Seq, Timestamp};
use tsunagu::provision;
use tsunagu::store;

use crate::cli::tsunagu;
use crate::helpers::*;
use crate::newer_hub::serve_fake;

/// A copy of the example set that a test may change, its directory
/// re-signed with the example CA key. It sits in a `certs-example` folder,
/// so its keys load whatever mode the copy has, as the committed ones do.
pub(crate) struct Pki {
    _tmp: TempDir,
    pub(crate) dir: PathBuf,
}

impl Pki {
    pub(crate) fn copy() -> Pki {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("certs-example");
        copy_dir(&certs(), &dir);
        Pki { _tmp: tmp, dir }
    }

    pub(crate) fn file(&self) -> PathBuf {
        self.dir.join("directory.toml")
    }

    pub(crate) fn signed(&self) -> SignedDirectory {
        SignedDirectory::load(&self.file(), &self.dir.join("ca.pem")).unwrap()
    }

    /// The next version with `edit` applied to its agencies, signed by the CA.
    pub(crate) fn publish(&self, edit: impl FnOnce(&mut Vec<Agency>)) -> SignedDirectory {
        let ca = CaBundle::load(&self.dir.join("ca.pem"), &self.dir.join("ca-key.pem")).unwrap();
        let text = next_version(self.signed().directory(), edit);
        provision::write_signed_directory(&self.file(), &text, &ca).unwrap();
        self.signed()
    }

    pub(crate) fn keys_of(&self, id: &str) -> PathBuf {
        self.dir.join("agencies").join(id)
    }

    /// A node of this set that takes its directory from the hub.
    pub(crate) fn unpinned(&self, id: &str, hub: &str, data: &Path) -> AgencyConfig {
        let mut config = AgencyConfig::from_example(&self.dir, &agency(id), hub, data);
        config.directory = None;
        config
    }
}

pub(crate) fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn next_version(current: &Directory, edit: impl FnOnce(&mut Vec<Agency>)) -> String {
    let mut agencies = current.agencies().to_vec();
    edit(&mut agencies);
    Directory::new(agencies)
        .unwrap()
        .with_version(current.version() + 1)
        .with_hub(current.hub().unwrap().clone())
        .to_toml()
}

fn entry<'a>(agencies: &'a mut [Agency], id: &str) -> &'a mut Agency {
    agencies.iter_mut().find(|a| a.id.as_str() == id).unwrap()
}

fn published(signed: &SignedDirectory) -> PublishedDirectory {
    offer(signed.text(), signed.signature())
}

fn offer(text: &str, signature: &str) -> PublishedDirectory {
    PublishedDirectory {
        directory: text.to_owned(),
        signature: signature.to_owned(),
    }
}

/// A hub that serves whatever directory the test makes it offer (and says
/// in `welcome` that it serves that version), and keeps every envelope
/// sent to it.
#[derive(Clone)]
struct FakeHub {
    offered: Arc<Mutex<(u64, PublishedDirectory)>>,
    received: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl FakeHub {
    async fn start(version: u64, directory: PublishedDirectory) -> (FakeHub, String) {
        let fake = FakeHub {
            offered: Arc::new(Mutex::new((version, directory))),
            received: Arc::default(),
        };
        let app = Router::new()
            .route("/v1/directory", get(serve_directory))
            .route("/v1/socket", get(socket))
            .route("/v1/envelopes", post(submit))
            .with_state(fake.clone());
        let addr = serve_fake(app).await;
        (fake, format!("https://127.0.0.1:{}", addr.port()))
    }

    fn offer(&self, version: u64, directory: PublishedDirectory) {
        *self.offered.lock().unwrap() = (version, directory);
    }
}

async fn serve_directory(State(fake): State<FakeHub>) -> Json<PublishedDirectory> {
    Json(fake.offered.lock().unwrap().1.clone())
}

async fn socket(State(fake): State<FakeHub>, upgrade: WebSocketUpgrade) -> Response {
    upgrade.on_upgrade(move |ws| welcome(ws, fake))
}

async fn welcome(mut ws: WebSocket, fake: FakeHub) {
    let Some(Ok(Message::Text(_hello))) = ws.recv().await else {
        return;
    };
    let directory_version = fake.offered.lock().unwrap().0;
    let frame = HubFrame::Welcome {
        agency: agency(CLINIC),
        last_seq: Seq(0),
        directory_version,
        epoch: None,
    };
    let text = serde_json::to_string(&frame).unwrap();
    if ws.send(Message::Text(text.into())).await.is_err() {
        return;
    }
    while let Some(Ok(_)) = ws.recv().await {}
}

async fn submit(State(fake): State<FakeHub>, body: Bytes) -> Json<SubmitResponse> {
    let id = Envelope::parse(body.to_vec()).unwrap().meta().id;
    fake.received.lock().unwrap().push(body.to_vec());
    Json(SubmitResponse {
        id,
        status: SubmitStatus::Accepted,
    })
}

async fn open_refused(config: &AgencyConfig) -> String {
    match RunningNode::open(config).await {
        Ok(_) => panic!("the node opened on a directory it should refuse"),
        Err(e) => e.to_string(),
    }
}

/// What the node holds after a refusal: nothing new.
async fn held_version(config: &AgencyConfig) -> Option<i64> {
    let records = tsunagu::agency::node::open_records(config).await.unwrap();
    let held = records
        .current_directory()
        .await
        .unwrap()
        .map(|r| r.version);
    records.close().await;
    held
}

#[tokio::test]
async fn a_node_refuses_a_forged_unsigned_or_foreign_directory_and_seals_nothing_to_the_attackers_key()
 {
    let genuine =
        SignedDirectory::load(&certs().join("directory.toml"), &certs().join("ca.pem")).unwrap();
    let attacker = age::x25519::Identity::generate();
    let center_key = genuine.directory().get(&agency(CENTER)).unwrap();
    let swapped = genuine.text().replace(
        &center_key.age_recipient.to_string(),
        &attacker.to_public().to_string(),
    );
    assert_ne!(swapped, genuine.text());
    let other_ca = generate_ca("attacker CA").unwrap();
    let offers = [
        // (a) the center's age key swapped, the genuine signature kept
        (
            genuine.signature().to_owned(),
            "does not verify with the CA",
        ),
        // (b) signed by another CA
        (
            directory::sign(&swapped, &other_ca).unwrap(),
            "does not verify with the CA",
        ),
        // (c) no signature at all
        (String::new(), "signature is not readable"),
    ];
    for (signature, expected) in offers {
        let (_fake, url) = FakeHub::start(genuine.version(), offer(&swapped, &signature)).await;
        let data = tempfile::tempdir().unwrap();
        let mut config = AgencyConfig::from_example(&certs(), &agency(CLINIC), &url, data.path());
        config.directory = None;
        let refused = open_refused(&config).await;
        assert!(refused.contains(expected), "{refused}");
        assert_eq!(held_version(&config).await, None, "a refusal keeps nothing");
    }

    // A running node: the hub turns and offers a "newer" directory with
    // the center's key swapped, signed by its own CA.
    let (fake, url) = FakeHub::start(genuine.version(), published(&genuine)).await;
    let data = tempfile::tempdir().unwrap();
    let mut config = AgencyConfig::from_example(&certs(), &agency(CLINIC), &url, data.path());
    config.directory = None;
    let mut clinic = TestNode::open_config(&config).await;
    let forged = swapped.replace("version = 1", "version = 2");
    fake.offer(
        2,
        offer(&forged, &directory::sign(&forged, &other_ca).unwrap()),
    );
    clinic.start();
    let refused = clinic
        .wait_for(|e| matches!(e, NodeEvent::DirectoryRefused { .. }))
        .await;
    let NodeEvent::DirectoryRefused { reason } = refused else {
        unreachable!()
    };
    assert!(reason.contains("does not verify with the CA"), "{reason}");
    assert_eq!(clinic.node.current_directory().version(), 1);
    assert_eq!(held_version(&config).await, Some(1));

    let sent = clinic
        .node
        .send(&referral_draft(&"case-1".parse().unwrap(), &[CENTER]))
        .await
        .unwrap();
    assert!(matches!(sent, Sent::Accepted { .. }), "{sent:?}");
    let bytes = fake.received.lock().unwrap()[0].clone();
    let envelope = Envelope::parse(bytes).unwrap();
    assert!(
        seal::open(envelope.ciphertext(), &attacker).is_err(),
        "the attacker's key must not open the referral"
    );
    let center =
        keys::load_age_identity(&certs().join("agencies/minato-center/age-identity.txt")).unwrap();
    assert!(seal::open(envelope.ciphertext(), &center).is_ok());
    clinic.stop().await;
}

/// (d) A validly signed but older directory (one that may still list a
/// revoked agency's keys) is refused, from the hub or from a pinned file;
/// the node stays on the newer one it holds. A pinned file without its
/// signature is refused too.
#[tokio::test]
async fn a_node_refuses_a_directory_older_than_the_one_it_holds() {
    let pki = Pki::copy();
    let v1 = pki.signed();
    let v2 = pki.publish(|agencies| entry(agencies, NURSERY).name = "ひかり保育園 新園舎".into());
    let (fake, url) = FakeHub::start(2, published(&v2)).await;
    let data = tempfile::tempdir().unwrap();
    let mut config = pki.unpinned(CLINIC, &url, data.path());
    let node = RunningNode::open(&config).await.unwrap();
    assert_eq!(node.node.current_directory().version(), 2);
    node.stop().await;

    fake.offer(1, published(&v1));
    let node = RunningNode::open(&config).await.unwrap();
    assert_eq!(node.node.current_directory().version(), 2);
    node.stop().await;

    let pinned = data.path().join("pinned.toml");
    std::fs::write(&pinned, v1.text()).unwrap();
    std::fs::write(directory::signature_path(&pinned), v1.signature()).unwrap();
    config.directory = Some(pinned.clone());
    let node = RunningNode::open(&config).await.unwrap();
    assert_eq!(node.node.current_directory().version(), 2);
    node.stop().await;
    assert_eq!(held_version(&config).await, Some(2));

    std::fs::remove_file(directory::signature_path(&pinned)).unwrap();
    let fresh = tempfile::tempdir().unwrap();
    let mut config = pki.unpinned(CLINIC, &url, fresh.path());
    config.directory = Some(pinned);
    let refused = open_refused(&config).await;
    assert!(
        refused.contains("has no signature") && refused.contains("tsunagu admin directory sign"),
        "{refused}"
    );
}

async fn start_hub(pki: &Pki, db_url: &str, addr: Option<SocketAddr>) -> RunningHub {
    let store = store::open(db_url).await.unwrap();
    let options = HubOptions {
        addr,
        ..HubOptions::default()
    };
    RunningHub::start(&pki.dir, store, options).await.unwrap()
}

/// A hub on SQLite over a fresh copy of the example set: the set, the
/// hub's data directory, its database URL, the hub.
pub(crate) async fn deployment() -> (Pki, TempDir, String, RunningHub) {
    let pki = Pki::copy();
    let data = tempfile::tempdir().unwrap();
    let db_url = Db::Sqlite.hub_url(data.path());
    let hub = start_hub(&pki, &db_url, None).await;
    (pki, data, db_url, hub)
}

/// Stop the hub, publish the next directory, start it again where nodes
/// expect it.
async fn republish(
    hub: RunningHub,
    pki: &Pki,
    db_url: &str,
    edit: impl FnOnce(&mut Vec<Agency>),
) -> RunningHub {
    let addr = hub.addr;
    hub.stop().await.unwrap();
    pki.publish(edit);
    start_hub(pki, db_url, Some(addr)).await
}

pub(crate) async fn running(config: &AgencyConfig) -> TestNode {
    let mut node = TestNode::open_config(config).await;
    node.start();
    node.wait_for(|e| matches!(e, NodeEvent::Connected { .. }))
        .await;
    node
}

async fn referral(node: &TestNode, to: &str) -> EnvelopeId {
    let case = node.node.open_case().await.unwrap();
    match node.node.send(&referral_draft(&case, &[to])).await.unwrap() {
        Sent::Accepted { id, .. } => id,
        queued => panic!("not accepted: {queued:?}"),
    }
}

#[tokio::test]
async fn a_running_node_picks_up_a_newer_directory_the_hub_serves() {
    let (pki, _hub_data, db_url, hub) = deployment().await;
    let data = tempfile::tempdir().unwrap();
    let mut nursery = running(&pki.unpinned(NURSERY, &hub.url, data.path())).await;
    assert_eq!(nursery.node.current_directory().version(), 1);

    let hub = republish(hub, &pki, &db_url, |agencies| {
        entry(agencies, NURSERY).name = "ひかり保育園 新園舎".into()
    })
    .await;
    nursery
        .wait_for(|e| matches!(e, NodeEvent::DirectoryUpdated { version: 2 }))
        .await;
    let current = nursery.node.current_directory();
    assert_eq!(
        current.directory().get(&agency(NURSERY)).unwrap().name,
        "ひかり保育園 新園舎"
    );
    nursery.stop().await;
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn after_a_rotation_the_node_opens_what_was_sealed_to_its_old_key_and_senders_use_the_new_one()
 {
    let (pki, _hub_data, db_url, hub) = deployment().await;
    let (clinic_data, center_data) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut clinic = running(&pki.unpinned(CLINIC, &hub.url, clinic_data.path())).await;
    let before = referral(&clinic, CENTER).await;

    // The center rotates its keys while its node is down.
    let center_keys = pki.keys_of(CENTER);
    let old = keys::load_age_identity(&center_keys.join("age-identity.txt")).unwrap();
    let rotation = provision::rotate_agency(&center_keys, Some(time::Duration::days(30))).unwrap();
    let hub = republish(hub, &pki, &db_url, |agencies| {
        let center = entry(agencies, CENTER);
        center.age_recipient = rotation.age_recipient.clone();
        center.signing_key = rotation.signing_key;
        center.retired_signing_keys = rotation.retired.clone().into_iter().collect();
    })
    .await;
    clinic
        .wait_for(|e| matches!(e, NodeEvent::DirectoryUpdated { version: 2 }))
        .await;

    let mut center = running(&pki.unpinned(CENTER, &hub.url, center_data.path())).await;
    center.wait_stored(before).await;
    let after = referral(&clinic, CENTER).await;
    center.wait_stored(after).await;
    let bytes = center
        .node
        .records()
        .envelope_bytes(after)
        .await
        .unwrap()
        .unwrap();
    let envelope = Envelope::parse(bytes).unwrap();
    let new = keys::load_age_identity(&center_keys.join("age-identity.txt")).unwrap();
    assert!(seal::open(envelope.ciphertext(), &new).is_ok());
    assert!(
        seal::open(envelope.ciphertext(), &old).is_err(),
        "sent after the rotation, sealed to the new key only"
    );
    center.stop().await;
    clinic.stop().await;
    hub.stop().await.unwrap();
}

/// What the clinic signed before rotating its key is still accepted during
/// the grace period the directory states, and quarantined after it.
/// The directory edit after the clinic's rotation: its new keys, and its old
/// signing key retired until `until`.
fn retire_clinic_key(
    rotation: &provision::Rotation,
    until: Timestamp,
) -> impl FnOnce(&mut Vec<Agency>) + use<> {
    let rotation = rotation.clone();
    move |agencies| {
        let clinic = entry(agencies, CLINIC);
        clinic.age_recipient = rotation.age_recipient.clone();
        clinic.signing_key = rotation.signing_key;
        let mut retired = rotation.retired.clone().unwrap();
        retired.until = until;
        clinic.retired_signing_keys = vec![retired];
    }
}

#[tokio::test]
async fn an_envelope_signed_with_a_retired_key_verifies_in_its_grace_period_and_is_quarantined_after()
 {
    let (pki, _hub_data, db_url, hub) = deployment().await;
    let clinic_data = tempfile::tempdir().unwrap();
    let clinic = running(&pki.unpinned(CLINIC, &hub.url, clinic_data.path())).await;
    let in_grace = referral(&clinic, CENTER).await;
    let too_late = referral(&clinic, WELFARE).await;
    clinic.stop().await;

    let rotation =
        provision::rotate_agency(&pki.keys_of(CLINIC), Some(time::Duration::days(30))).unwrap();
    let retire = |until| retire_clinic_key(&rotation, until);
    let future = rotation.retired.clone().unwrap().until;
    let hub = republish(hub, &pki, &db_url, retire(future)).await;
    let center_data = tempfile::tempdir().unwrap();
    let mut center = running(&pki.unpinned(CENTER, &hub.url, center_data.path())).await;
    center.wait_stored(in_grace).await;
    center.stop().await;

    let past = Timestamp::from_datetime(time::OffsetDateTime::now_utc() - time::Duration::days(1));
    let hub = republish(hub, &pki, &db_url, retire(past)).await;
    let welfare_data = tempfile::tempdir().unwrap();
    let mut welfare =
        TestNode::open_config(&pki.unpinned(WELFARE, &hub.url, welfare_data.path())).await;
    welfare.start();
    let quarantined = welfare
        .wait_for(|e| matches!(e, NodeEvent::Quarantined { .. }))
        .await;
    let NodeEvent::Quarantined { reason, .. } = quarantined else {
        unreachable!()
    };
    assert!(reason.contains("signature does not verify"), "{reason}");
    let inbox = welfare.node.records().inbox_item(too_late).await.unwrap();
    assert_eq!(inbox, None);
    welfare.stop().await;
    hub.stop().await.unwrap();
}

/// The hub applies the same grace as the nodes: an envelope signed with the
/// sender's retired key (a node still running on it, or an outbox sealed
/// before the rotation) is accepted until `until`, refused after.
#[tokio::test]
async fn the_hub_accepts_a_retired_key_in_its_grace_period_and_refuses_it_after() {
    let (pki, _hub_data, db_url, hub) = deployment().await;
    let clinic_data = tempfile::tempdir().unwrap();
    // Opened before the rotation: it signs with the old key from here on.
    let clinic = running(&pki.unpinned(CLINIC, &hub.url, clinic_data.path())).await;

    let rotation =
        provision::rotate_agency(&pki.keys_of(CLINIC), Some(time::Duration::days(30))).unwrap();
    let retire = |until| retire_clinic_key(&rotation, until);
    let future = rotation.retired.clone().unwrap().until;
    let hub = republish(hub, &pki, &db_url, retire(future)).await;
    referral(&clinic, CENTER).await;

    let past = Timestamp::from_datetime(time::OffsetDateTime::now_utc() - time::Duration::days(1));
    let hub = republish(hub, &pki, &db_url, retire(past)).await;
    let case = clinic.node.open_case().await.unwrap();
    let refused = refused_with(
        &clinic,
        &referral_draft(&case, &[CENTER]),
        tsunagu::protocol::ErrorCode::BadSignature,
    )
    .await;
    assert!(
        refused.message_en.contains("does not verify"),
        "{refused:?}"
    );
    clinic.stop().await;
    hub.stop().await.unwrap();
}

fn run(args: &[&std::ffi::OsStr]) -> (bool, String) {
    let out = tsunagu().args(args).output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), said)
}

#[test]
fn the_directory_tools_refuse_a_foreign_ca_key_a_tampered_file_and_an_older_version() {
    let pki = Pki::copy();
    let (file, ca_cert, ca_key) = (
        pki.file(),
        pki.dir.join("ca.pem"),
        pki.dir.join("ca-key.pem"),
    );
    let verify = || {
        run(&[
            "admin".as_ref(),
            "directory".as_ref(),
            "verify".as_ref(),
            "--ca-cert".as_ref(),
            ca_cert.as_os_str(),
            file.as_os_str(),
        ])
    };
    let sign = |key: &Path, extra: &[&str]| {
        let mut args = vec![
            "admin".as_ref(),
            "directory".as_ref(),
            "sign".as_ref(),
            "--ca-cert".as_ref(),
            ca_cert.as_os_str(),
            "--ca-key".as_ref(),
            key.as_os_str(),
        ];
        args.extend(extra.iter().map(std::ffi::OsStr::new));
        args.push(file.as_os_str());
        run(&args)
    };
    let (ok, said) = verify();
    assert!(
        ok && said.contains("✓ CA の署名を確認しました") && said.contains("version 1"),
        "{said}"
    );

    // Another CA's key cannot sign for this CA.
    let other = tempfile::tempdir().unwrap();
    let foreign = other.path().join("ca-key.pem");
    std::fs::write(&foreign, generate_ca("other").unwrap().key_pem).unwrap();
    restrict(&foreign);
    let (ok, said) = sign(&foreign, &[]);
    assert!(
        !ok && said.contains("CA の証明書または秘密鍵を読み込めません"),
        "{said}"
    );

    // A file changed after signing does not verify.
    let old = other.path().join("old.toml");
    std::fs::copy(&file, &old).unwrap();
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.replace("ひかり保育園", "ひかり保育園 分園")).unwrap();
    let (ok, said) = verify();
    assert!(
        !ok && said.contains("署名を確認できません")
            && said.contains("does not verify with the CA"),
        "{said}"
    );

    // What changed, before signing.
    let diff = run(&[
        "admin".as_ref(),
        "directory".as_ref(),
        "diff".as_ref(),
        old.as_os_str(),
        file.as_os_str(),
    ]);
    assert!(diff.0, "{}", diff.1);
    assert!(
        diff.1
            .contains("~ hikari-nursery name: ひかり保育園 → ひかり保育園 分園"),
        "{}",
        diff.1
    );
    assert!(diff.1.contains("⚠ 版が上がっていません"), "{}", diff.1);

    // Signing the same version again is refused unless told.
    let (ok, said) = sign(&ca_key, &[]);
    assert!(
        !ok && said.contains("版 1 は置き換える署名の版 1 より新しくありません"),
        "{said}"
    );
    let text = std::fs::read_to_string(&file)
        .unwrap()
        .replace("version = 1", "version = 2");
    std::fs::write(&file, &text).unwrap();
    let (ok, said) = sign(&ca_key, &[]);
    assert!(ok, "{said}");
    assert!(verify().0);
    std::fs::copy(&old, &file).unwrap();
    let (ok, said) = sign(&ca_key, &[]);
    assert!(
        !ok && said.contains("版 1 は置き換える署名の版 2 より新しくありません"),
        "{said}"
    );
    let (ok, said) = sign(&ca_key, &["--allow-same-or-older"]);
    assert!(ok, "{said}");
}

#[test]
fn the_hub_refuses_to_start_on_an_unsigned_or_altered_directory_and_names_the_fix() {
    let pki = Pki::copy();
    let data = tempfile::tempdir().unwrap();
    let serve = || {
        let db = format!("sqlite:{}", data.path().join("hub.db").display());
        run(&[
            "serve".as_ref(),
            "--listen".as_ref(),
            "127.0.0.1:0".as_ref(),
            "--database-url".as_ref(),
            db.as_ref(),
            "--directory".as_ref(),
            pki.file().as_os_str(),
            "--ca".as_ref(),
            pki.dir.join("ca.pem").as_os_str(),
        ])
    };
    let text = std::fs::read_to_string(pki.file()).unwrap();
    std::fs::write(
        pki.file(),
        text.replace("ひかり保育園", "ひかり保育園 分園"),
    )
    .unwrap();
    let (ok, said) = serve();
    assert!(
        !ok && said.contains("does not verify with the CA"),
        "{said}"
    );
    std::fs::remove_file(directory::signature_path(&pki.file())).unwrap();
    let (ok, said) = serve();
    assert!(
        !ok && said.contains("has no signature") && said.contains("tsunagu admin directory sign"),
        "{said}"
    );
}

fn restrict(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}

/// A hub from before signed directories sends no `directory_version`: the
/// node reads 0 and fetches nothing.
#[test]
fn a_welcome_without_a_directory_version_reads_as_zero() {
    let old = r#"{"type":"welcome","agency":"minato-center","last_seq":45}"#;
    let frame: HubFrame = serde_json::from_str(old).unwrap();
    assert!(matches!(
        frame,
        HubFrame::Welcome {
            directory_version: 0,
            ..
        }
    ));
}
