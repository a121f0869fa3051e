//! `tsunagu demo --serve-ui`: the hub and the five example agencies kept
//! running, each node serving its staff web UI on its own port, with two
//! demo accounts per agency (a member of staff, and a 管理者 for the
//! administration screens) whose names, passwords and TOTP secrets are
//! printed (they are demo accounts on example keys in a temporary
//! directory: printing them is the point). Each node's `agency.toml` is
//! written beside its records, so the CLI can act as that agency meanwhile.

use std::net::SocketAddr;
use std::path::Path;

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::agency::staff::{Actor, NewStaff, StaffAccounts, StaffRole};
use crate::agency::{AgencyConfig, NodeEvent, ui};
use crate::cli::output::say;
use crate::fleet::{HubOptions, RunningHub, RunningNode};
use crate::i18n::Lang;
use crate::protocol::{AgencyId, Timestamp};
use crate::{provision, store};

/// What a script needs to drive the demo (`--json`).
#[derive(Serialize)]
struct Served {
    hub: String,
    agencies: Vec<ServedAgency>,
}

#[derive(Serialize)]
struct ServedAgency {
    id: String,
    name: String,
    ui: String,
    config: String,
    staff: DemoStaff,
    /// The agency's 管理者 (staff accounts and the access log).
    admin: DemoStaff,
}

#[derive(Serialize)]
struct DemoStaff {
    name: String,
    role: String,
    password: String,
    totp_secret: String,
}

/// The demo 管理者 of each example agency.
fn demo_admin(id: &str) -> &'static str {
    match id {
        "minato-center" => "伊藤 恵",
        "sakura-clinic" => "加藤 直子",
        "minato-child-welfare" => "吉田 浩",
        "hikari-nursery" => "山田 陽子",
        _ => "松本 亮",
    }
}

/// A demo person for each example agency.
fn demo_person(id: &str) -> (&'static str, StaffRole) {
    match id {
        "minato-center" => ("高橋 由美", StaffRole::PublicHealthNurse),
        "sakura-clinic" => ("佐藤 美咲", StaffRole::Midwife),
        "minato-child-welfare" => ("中村 健", StaffRole::Caseworker),
        "hikari-nursery" => ("小林 さくら", StaffRole::NurseryTeacher),
        _ => ("山本 誠", StaffRole::Administrator),
    }
}

fn demo_password() -> anyhow::Result<String> {
    let mut bytes = [0u8; 12];
    getrandom::fill(&mut bytes).context("no random source")?;
    Ok(format!("demo-{}", URL_SAFE_NO_PAD.encode(bytes)))
}

/// Run until Ctrl-C or SIGTERM.
pub async fn serve(
    certs: &Path,
    ui_port: u16,
    idle_seconds: Option<u32>,
    json: bool,
    lang: Lang,
) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let db_url = store::testing::sqlite_url(dir.path(), "hub.db");
    let hub = RunningHub::start(certs, store::open(&db_url).await?, HubOptions::default()).await?;
    let shutdown = CancellationToken::new();
    let data = dir.path().join("agencies");
    std::fs::create_dir_all(&data)?;
    let mut nodes = Vec::new();
    let mut served = Served {
        hub: hub.url.clone(),
        agencies: Vec::new(),
    };
    for (i, (id, _, name)) in provision::EXAMPLE_AGENCIES.iter().enumerate() {
        let agency: AgencyId = id.parse()?;
        let port = match ui_port {
            0 => 0,
            base => base + u16::try_from(i)?,
        };
        let listen = SocketAddr::from(([127, 0, 0, 1], port));
        let mut config = AgencyConfig::from_example(certs, &agency, &hub.url, &data);
        config.ui.listen = Some(listen);
        config.ui.session_idle_seconds = idle_seconds;
        let path = data.join(format!("{id}.toml"));
        std::fs::write(&path, toml::to_string(&config)?)?;
        let mut node = RunningNode::open(&config).await?;
        let mut events = node.node.subscribe();
        node.start();
        while !matches!(events.recv().await?, NodeEvent::Connected { .. }) {}
        let accounts = StaffAccounts::from_config(&config, node.node.records().clone())?;
        let (person, role) = demo_person(id);
        let staff = add_demo_staff(&accounts, person, role).await?;
        let admin = add_demo_staff(&accounts, demo_admin(id), StaffRole::Administrator).await?;
        let running = ui::start(&config, node.node.clone(), listen, shutdown.clone()).await?;
        served.agencies.push(ServedAgency {
            id: id.to_string(),
            name: name.to_string(),
            ui: format!("http://{}/", running.addr),
            config: path.display().to_string(),
            staff,
            admin,
        });
        nodes.push(node);
    }
    if json {
        println!("{}", serde_json::to_string(&served)?);
    } else {
        print_human(&served, lang);
    }
    super::super::shutdown_signal().await;
    shutdown.cancel();
    for node in nodes {
        node.stop().await;
    }
    hub.stop().await?;
    Ok(())
}

async fn add_demo_staff(
    accounts: &StaffAccounts,
    name: &str,
    role: StaffRole,
) -> anyhow::Result<DemoStaff> {
    let password = demo_password()?;
    let new = NewStaff {
        name,
        role,
        contact: "内線 100",
        password: &password,
    };
    let (member, enrolment) = accounts
        .add(Actor::NodeConsole, new, Timestamp::now())
        .await?;
    Ok(DemoStaff {
        name: member.name,
        role: member.role.as_str().to_owned(),
        password,
        totp_secret: enrolment.secret_base32,
    })
}

fn print_human(served: &Served, lang: Lang) {
    say!(
        "{}",
        lang.pick(
            "デモ: ハブと5機関のノードを起動し、各ノードの職員用Web画面を開きました（例示用の鍵・架空の職員）。",
            "Demo: the hub and five agency nodes are running, each serving its staff web UI (example keys, fictional staff)."
        )
    );
    say!("{} {}", lang.pick("ハブ:", "hub:"), served.hub);
    for a in &served.agencies {
        say!("\n{}（{}）", a.name, a.id);
        say!("  {} {}", lang.pick("Web画面:", "web UI:"), a.ui);
        for (who, staff) in [
            (lang.pick("職員", "staff"), &a.staff),
            (lang.pick("管理者", "administrator"), &a.admin),
        ] {
            say!(
                "  {who}: {} / {} {} / {} {}",
                staff.name,
                lang.pick("パスワード", "password"),
                staff.password,
                lang.pick("TOTPシークレット", "TOTP secret"),
                staff.totp_secret
            );
        }
        say!("  {} {}", lang.pick("設定ファイル:", "config:"), a.config);
    }
    say!(
        "\n{}",
        lang.pick(
            "終了するには Ctrl-C を押してください。",
            "Press Ctrl-C to stop."
        )
    );
}
