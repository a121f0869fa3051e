//! `TestHub` and `TestNode`: start a hub or an agency node in one line.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tempfile::TempDir;
use tokio::sync::broadcast;
use tsunagu::agency::{AgencyConfig, Draft, NodeError, NodeEvent, Sent};
use tsunagu::crypto::tls;
use tsunagu::fleet::{HubOptions, RunningHub, RunningNode};
use tsunagu::hub::clock::ManualClock;
use tsunagu::hub::{Deadlines, Limits, MetricsConfig};
use tsunagu::protocol::consent::{
    ConsentDecision, ConsentGiver, ConsentMethod, ConsentRecipient, ConsentScope,
};
use tsunagu::protocol::payload::{Author, Body, ConsentDetails, Note, Payload};
use tsunagu::protocol::referral::demo_referral;
use tsunagu::protocol::{
    Action, AgencyId, CaseId, ConsentId, EnvelopeId, ErrorBody, ErrorCode, InfoCategory,
    LegalBasis, Purpose, Timestamp, Urgency,
};
use tsunagu::store;

pub const CLINIC: &str = "sakura-clinic";
pub const CENTER: &str = "minato-center";
pub const WELFARE: &str = "minato-child-welfare";
pub const NURSERY: &str = "hikari-nursery";
pub const YOTAIKYO: &str = "minato-yotaikyo";

/// A guard on every wait: generous, because it only fires when a test is
/// already failing.
pub const PATIENCE: Duration = Duration::from_secs(20);

pub fn certs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("certs-example")
}

/// The example hub's signing key (the directory's `[hub] signing_key`), for
/// fake hubs that sign what the real one would.
pub fn hub_signing_key() -> ed25519_dalek::SigningKey {
    tsunagu::crypto::keys::load_signing_key(&certs().join("hub-signing-key.txt")).unwrap()
}

pub fn agency(id: &str) -> AgencyId {
    id.parse().unwrap()
}

/// Which database a test runs on.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite,
    Postgres(String),
}

impl Db {
    /// A fresh PostgreSQL database: on `TSUNAGU_TEST_PG_URL`'s server, else
    /// on a throwaway one. Tests that call this carry
    /// `#[cfg_attr(not(tsunagu_pg), ignore = "…")]` (see build.rs).
    pub async fn postgres() -> Db {
        Db::Postgres(store::testing::fresh_pg_url().await)
    }

    /// The hub's database URL: a SQLite file in the hub's directory `dir`,
    /// or the PostgreSQL database (which ignores `dir`).
    pub fn hub_url(&self, dir: &Path) -> String {
        match self {
            Db::Sqlite => store::testing::sqlite_url(dir, "hub.db"),
            Db::Postgres(url) => url.clone(),
        }
    }
}

/// Wraps a hub's store (identity for a normal hub).
pub type WrapStore<'a> = dyn Fn(Arc<dyn store::HubStore>) -> Arc<dyn store::HubStore> + 'a;

/// A hub on a random loopback port (the fleet harness's hub, with its
/// temporary directory); its fields (`addr`, `url`, `store`, `hub`) are the
/// running hub's.
pub struct TestHub {
    pub dir: Arc<TempDir>,
    running: RunningHub,
}

impl std::ops::Deref for TestHub {
    type Target = RunningHub;

    fn deref(&self) -> &RunningHub {
        &self.running
    }
}

impl TestHub {
    pub async fn start(db: &Db) -> TestHub {
        Self::start_with(
            db,
            Limits::default(),
            Arc::new(tempfile::tempdir().unwrap()),
            None,
        )
        .await
    }

    /// Start on `addr` (to restart on the same port) or a random port.
    pub async fn start_with(
        db: &Db,
        limits: Limits,
        dir: Arc<TempDir>,
        addr: Option<SocketAddr>,
    ) -> TestHub {
        let clock = Arc::new(ManualClock::new());
        Self::start_full(db, limits, dir, addr, clock, &|store| store).await
    }

    /// A hub whose store `wrap` wraps, e.g. to inject faults.
    pub async fn start_wrapped(db: &Db, wrap: &WrapStore<'_>) -> TestHub {
        Self::start_wrapped_with(db, Limits::default(), wrap).await
    }

    /// The same, with these limits.
    pub async fn start_wrapped_with(db: &Db, limits: Limits, wrap: &WrapStore<'_>) -> TestHub {
        let dir = Arc::new(tempfile::tempdir().unwrap());
        let clock = Arc::new(ManualClock::new());
        Self::start_full(db, limits, dir, None, clock, wrap).await
    }

    /// A hub whose clock the test moves.
    pub async fn start_with_clock(
        db: &Db,
        dir: Arc<TempDir>,
        addr: Option<SocketAddr>,
        clock: Arc<ManualClock>,
    ) -> TestHub {
        Self::start_full(db, Limits::default(), dir, addr, clock, &|store| store).await
    }

    async fn start_full(
        db: &Db,
        limits: Limits,
        dir: Arc<TempDir>,
        addr: Option<SocketAddr>,
        clock: Arc<ManualClock>,
        wrap: &WrapStore<'_>,
    ) -> TestHub {
        let store = wrap(store::open(&db.hub_url(dir.path())).await.unwrap());
        let options = HubOptions {
            limits,
            // Deadlines are checked when a test says so (`hub.tick()`), on
            // a clock the test moves.
            deadlines: Some(Deadlines {
                check_interval_secs: 0,
                ..Deadlines::default()
            }),
            clock: Some(clock),
            addr,
            // Every test hub answers /metrics and /readyz on a port of its
            // own; figures read afresh at each scrape.
            operations: Some(MetricsConfig {
                listen: SocketAddr::from(([127, 0, 0, 1], 0)),
                cache_secs: 0,
                ..MetricsConfig::default()
            }),
        };
        let running = RunningHub::start(&certs(), store, options).await.unwrap();
        TestHub { dir, running }
    }

    /// Graceful stop; returns when the store is closed.
    pub async fn stop(self) {
        self.running.stop().await.unwrap();
    }

    /// The same hub again (same database, same port), after `stop`.
    pub async fn restart(db: &Db, previous: (SocketAddr, Arc<TempDir>)) -> TestHub {
        Self::start_with(db, Limits::default(), previous.1, Some(previous.0)).await
    }
}

/// A bare client with the example certificate of `id`, for requests a
/// well-behaved node would never make.
pub fn client_as(hub: &TestHub, id: &str) -> tsunagu::agency::client::HubClient {
    client_at(&hub.url, id)
}

/// The same, for a hub at `url` (one a test started as a process).
pub fn client_at(url: &str, id: &str) -> tsunagu::agency::client::HubClient {
    let own = certs().join("agencies").join(id);
    let tls = tls::client_config_from_files(
        &certs().join("ca.pem"),
        &own.join("cert.pem"),
        &own.join("key.pem"),
    )
    .unwrap();
    tsunagu::agency::client::HubClient::new(url, tls).unwrap()
}

/// An agency node connected to a hub, with its event stream.
pub struct TestNode {
    running: RunningNode,
    pub events: broadcast::Receiver<NodeEvent>,
}

impl std::ops::Deref for TestNode {
    type Target = RunningNode;

    fn deref(&self) -> &RunningNode {
        &self.running
    }
}

impl TestNode {
    /// Open the node (not connected yet).
    pub async fn open(hub_url: &str, id: &str, data: &Path) -> TestNode {
        let config = AgencyConfig::from_example(&certs(), &agency(id), hub_url, data);
        Self::open_config(&config).await
    }

    /// Open the node with this configuration (not connected yet).
    pub async fn open_config(config: &AgencyConfig) -> TestNode {
        let running = RunningNode::open(config).await.unwrap();
        let events = running.node.subscribe();
        TestNode { running, events }
    }

    /// Open and connect; returns once the hub has welcomed the node.
    pub async fn connect(hub_url: &str, id: &str, data: &Path) -> TestNode {
        let mut n = Self::open(hub_url, id, data).await;
        n.start();
        n.wait_for(|e| matches!(e, NodeEvent::Connected { .. }))
            .await;
        n
    }

    pub fn start(&mut self) {
        self.running.start();
    }

    pub async fn stop(self) {
        self.running.stop().await;
    }

    /// The next event matching `pred`.
    pub async fn wait_for(&mut self, pred: impl Fn(&NodeEvent) -> bool) -> NodeEvent {
        tokio::time::timeout(PATIENCE, async {
            loop {
                let event = self.events.recv().await.expect("node event stream ended");
                if pred(&event) {
                    return event;
                }
            }
        })
        .await
        .expect("timed out waiting for a node event")
    }

    /// Wait until the envelope is stored in this node's records. Reads the
    /// records after every event (or missed events, when a burst outran the
    /// channel), so no Stored event can slip by unseen.
    pub async fn wait_stored(&mut self, id: EnvelopeId) {
        tokio::time::timeout(PATIENCE, async {
            loop {
                if self.node.records().inbox_item(id).await.unwrap().is_some() {
                    return;
                }
                match self.events.recv().await {
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => panic!("node event stream ended"),
                }
            }
        })
        .await
        .expect("timed out waiting for a delivery to be stored")
    }
}

pub fn midwife() -> Author {
    Author {
        name: "佐藤 美咲".into(),
        role: "助産師".into(),
        contact: "03-0000-0000 内線 12".into(),
    }
}

/// The center's public health nurse (保健師).
pub fn hokenshi() -> Author {
    Author {
        name: "田中 由美".into(),
        role: "保健師".into(),
        contact: "こども家庭センター 内線 301".into(),
    }
}

/// The 調整機関 registers the case with the 要対協 as a 特定妊婦: the center
/// leads; the center, child welfare and the nursery are members.
pub fn registration_draft(case: &CaseId) -> Draft {
    action_draft(
        Some(case),
        &[],
        Action::RegisterCase {
            registration: tsunagu::protocol::case::Registration {
                classification:
                    tsunagu::protocol::case::CaseClassification::SpecifiedExpectantMother,
                lead: agency(CENTER),
                members: vec![agency(CENTER), agency(WELFARE), agency(NURSERY)],
            },
        },
        Body::CaseUpdate(note("実務者会議で登録")),
    )
}

/// `tsunagu agency ARGS` run by `author` (named through the environment,
/// as staff set it once), in Japanese: (success, stdout, stderr).
pub async fn staff_as(author: &Author, args: &[&str]) -> (bool, String, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_tsunagu"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("TSUNAGU_AUTHOR_NAME", &author.name)
        .env("TSUNAGU_AUTHOR_ROLE", &author.role)
        .env("TSUNAGU_AUTHOR_CONTACT", &author.contact)
        .env_remove("TSUNAGU_LANG")
        .arg("agency")
        .args(args)
        .output()
        .await
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `tsunagu agency ARGS --json` run by `author`, which must succeed; its
/// JSON.
pub async fn staff_json_as(author: &Author, args: &[&str]) -> serde_json::Value {
    let mut all = args.to_vec();
    all.push("--json");
    let (ok, out, err) = staff_as(author, &all).await;
    assert!(ok, "{args:?} failed: {out}{err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {out}"))
}

/// The demo referral from the clinic's midwife, provided to the municipality
/// under 児童福祉法 第21条の10の5 (no consent needed for the center and
/// child welfare).
pub fn referral_draft(case: &CaseId, to: &[&str]) -> Draft {
    let mut draft = consent_referral_draft(case, ConsentId::new(), to);
    draft.basis = Some(LegalBasis::ProvisionToMunicipality);
    draft.payload.justification = Some("特定妊婦と思われ、早期の支援が必要なため".into());
    draft
}

/// The demo referral relying on a recorded consent.
pub fn consent_referral_draft(case: &CaseId, consent_id: ConsentId, to: &[&str]) -> Draft {
    let today = time::OffsetDateTime::now_utc().date();
    Draft {
        recipients: to.iter().map(|r| agency(r)).collect(),
        case_id: Some(case.clone()),
        urgency: Urgency::Early,
        basis: Some(LegalBasis::Consent { consent_id }),
        purpose: Some(Purpose::Referral),
        action: None,
        payload: Payload {
            author: midwife(),
            body: Body::Referral(Box::new(demo_referral(today))),
            justification: None,
        },
    }
}

/// The scope of a consent she gave for the referral: the center and child
/// welfare, the demo referral's categories, referral and case meetings.
pub fn consent_scope(case: &CaseId, recipients: &[&str]) -> ConsentScope {
    ConsentScope {
        consent_id: ConsentId::new(),
        case_id: case.clone(),
        given_by: ConsentGiver::Person,
        method: ConsentMethod::Oral,
        decision: ConsentDecision::Granted,
        recipients: recipients
            .iter()
            .map(|r| ConsentRecipient::Agency(agency(r)))
            .collect(),
        categories: vec![
            InfoCategory::Basic,
            InfoCategory::PregnancyMedical,
            InfoCategory::MentalHealth,
            InfoCategory::Family,
        ],
        purposes: vec![Purpose::Referral, Purpose::CaseMeeting],
        valid_from: Timestamp::now(),
        valid_until: None,
    }
}

/// Record a consent (the details travel encrypted to the center).
pub fn consent_record_draft(scope: ConsentScope) -> Draft {
    Draft {
        recipients: vec![agency(CENTER)],
        case_id: Some(scope.case_id.clone()),
        urgency: Urgency::Normal,
        basis: None,
        purpose: None,
        action: Some(Action::RecordConsent { scope }),
        payload: Payload {
            author: midwife(),
            body: Body::ConsentRecord(ConsentDetails {
                given_by_name: "山田 花子".into(),
                note: "口頭で説明し同意を得た".into(),
                scan: None,
            }),
            justification: None,
        },
    }
}

/// A note-only envelope of some kind with an action.
pub fn action_draft(case: Option<&CaseId>, to: &[&str], action: Action, body: Body) -> Draft {
    Draft {
        recipients: to.iter().map(|r| agency(r)).collect(),
        case_id: case.cloned(),
        urgency: Urgency::Normal,
        basis: None,
        purpose: None,
        action: Some(action),
        payload: Payload {
            author: midwife(),
            body,
            justification: None,
        },
    }
}

pub fn note(text: &str) -> Note {
    Note {
        text: text.into(),
        categories: vec![],
    }
}

/// Send and expect the hub to accept.
pub async fn sent(node: &TestNode, draft: &Draft) -> EnvelopeId {
    match node.node.send(draft).await {
        Ok(Sent::Accepted { id, .. }) => id,
        other => panic!("expected accepted, got {other:?}"),
    }
}

/// Send and expect a refusal with this code.
pub async fn refused_with(node: &TestNode, draft: &Draft, code: ErrorCode) -> ErrorBody {
    match node.node.send(draft).await {
        Err(NodeError::Refused(body)) => {
            assert_eq!(body.code, code, "{body:?}");
            body
        }
        other => panic!("expected refusal {code:?}, got {other:?}"),
    }
}

/// A raw connection to the records of the example node `node` under `data`,
/// keyed with its records key as the node keys it (they are encrypted).
pub async fn node_db(data: &Path, node: &str) -> sqlx::SqliteConnection {
    use sqlx::ConnectOptions;
    let url = store::testing::sqlite_url(data, &format!("{node}.db"));
    let key_file = certs().join("agencies").join(node).join("records-key.txt");
    let key = tsunagu::crypto::keys::load_records_key(&key_file).unwrap();
    let options: sqlx::sqlite::SqliteConnectOptions = url.parse().unwrap();
    store::sqlite::cipher::keyed(options, key.expose())
        .connect()
        .await
        .unwrap()
}

/// The marker string inside the demo referral's findings.
pub const MARKER: &str = "MARKER-PLAINTEXT-7f3a";

/// A hub, the clinic's and the center's nodes under one data directory, and
/// the demo referral (with [`MARKER`]) sent by the clinic and stored by the
/// center.
pub async fn referral_received(
    db: &Db,
) -> (TestHub, tempfile::TempDir, TestNode, TestNode, EnvelopeId) {
    let hub = TestHub::start(db).await;
    let data = tempfile::tempdir().unwrap();
    let clinic = TestNode::connect(&hub.url, CLINIC, data.path()).await;
    let mut center = TestNode::connect(&hub.url, CENTER, data.path()).await;
    let case = clinic.node.open_case().await.unwrap();
    let id = sent(&clinic, &referral_draft(&case, &[CENTER])).await;
    center.wait_stored(id).await;
    (hub, data, clinic, center, id)
}

/// A hub with the clinic's, the center's and the 調整機関's nodes running,
/// their records under one data directory (the cast of the 要対協 ledger and
/// the 支援台帳 tests; each adds its own steps in an `impl` of its own).
pub struct CouncilWorld {
    pub hub: TestHub,
    pub clinic: TestNode,
    pub center: TestNode,
    pub yotaikyo: TestNode,
    pub data: tempfile::TempDir,
}

impl CouncilWorld {
    pub async fn start(db: &Db) -> Self {
        let hub = TestHub::start(db).await;
        let data = tempfile::tempdir().unwrap();
        Self {
            clinic: TestNode::connect(&hub.url, CLINIC, data.path()).await,
            center: TestNode::connect(&hub.url, CENTER, data.path()).await,
            yotaikyo: TestNode::connect(&hub.url, YOTAIKYO, data.path()).await,
            hub,
            data,
        }
    }

    pub async fn stop(self) {
        for n in [self.clinic, self.center, self.yotaikyo] {
            n.stop().await;
        }
        self.hub.stop().await;
    }

    /// The config file of `id`'s node: the same records the running test
    /// node uses.
    pub fn config(&self, id: &str) -> String {
        agency_toml(self.data.path(), &self.hub.url, id)
    }
}

/// Write the example `agency.toml` of `id` into `dir` (records beside it),
/// for tests that run the binary; returns its path.
pub fn agency_toml(dir: &std::path::Path, url: &str, id: &str) -> String {
    let config = tsunagu::agency::AgencyConfig::from_example(&certs(), &agency(id), url, dir);
    let path = dir.join(format!("{id}.toml"));
    std::fs::write(&path, toml::to_string(&config).unwrap()).unwrap();
    path.display().to_string()
}

/// Run the `tsunagu` binary; whether it succeeded, and its stdout then
/// stderr.
pub fn run_tsunagu(args: &[&str]) -> (bool, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tsunagu"))
        .args(args)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// The clinic records a consent covering the center and refers a case
/// under it; returns once the center's node has stored the referral.
pub async fn consented_referral(
    clinic: &TestNode,
    center: &mut TestNode,
) -> (CaseId, ConsentScope) {
    let case = clinic.node.open_case().await.unwrap();
    let scope = consent_scope(&case, &[CENTER]);
    sent(clinic, &consent_record_draft(scope.clone())).await;
    let id = sent(
        clinic,
        &consent_referral_draft(&case, scope.consent_id, &[CENTER]),
    )
    .await;
    center.wait_stored(id).await;
    (case, scope)
}
