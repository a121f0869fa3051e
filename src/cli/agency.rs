//! `tsunagu agency …`: run an agency node, and the staff commands.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use tokio_util::sync::CancellationToken;
use tsunagu::agency::referral_flags::ReferralFlags;
use tsunagu::agency::{AgencyConfig, Draft, Node, NodeError, NodeEvent, Sent};
use tsunagu::i18n::Lang;
use tsunagu::protocol::payload::{Author, Body, Payload};
use tsunagu::protocol::referral::Referral;
use tsunagu::protocol::referral_text::render;
use tsunagu::protocol::{AgencyId, CaseId, EnvelopeId, MessageKind, Urgency};

#[derive(Subcommand)]
pub enum AgencyCommand {
    /// ノードを起動し、ハブとの接続を保つ / run the node and keep connected to the hub
    Run(NodeArgs),
    /// 連絡票を送る / send a referral
    Send(Box<SendArgs>),
    /// 受信箱 / list received messages
    Inbox(NodeArgs),
    /// 送信箱 / list sent messages
    Outbox(NodeArgs),
    /// 1件を復号して表示 / show one message, decrypted
    Show {
        #[command(flatten)]
        node: NodeArgs,
        /// エンベロープID / envelope id
        id: EnvelopeId,
    },
}

#[derive(Args)]
pub struct NodeArgs {
    /// 機関ノードの設定ファイル / agency node config
    #[arg(long, default_value = "agency.toml")]
    config: PathBuf,
}

#[derive(Args)]
pub struct SendArgs {
    #[command(flatten)]
    node: NodeArgs,
    /// 宛先の機関ID（カンマ区切り） / recipient agency ids, comma-separated
    #[arg(long, value_delimiter = ',', required = true)]
    to: Vec<AgencyId>,
    /// 緊急度 / urgency
    #[arg(long, value_enum, default_value_t = UrgencyArg::Normal)]
    urgency: UrgencyArg,
    /// ケースID（あれば） / case id, if any
    #[arg(long)]
    case: Option<CaseId>,
    /// 記入者の氏名 / your name (staff name themselves)
    #[arg(long, env = "TSUNAGU_AUTHOR_NAME")]
    author_name: String,
    /// 記入者の職種 / your role, e.g. 助産師
    #[arg(long, env = "TSUNAGU_AUTHOR_ROLE")]
    author_role: String,
    /// 記入者の連絡先 / your contact
    #[arg(long, env = "TSUNAGU_AUTHOR_CONTACT")]
    author_contact: String,
    /// 連絡票ファイル（TOML または JSON） / referral file (TOML or JSON)
    #[arg(long, conflicts_with = "ReferralFlags")]
    file: Option<PathBuf>,
    #[command(flatten)]
    referral: ReferralFlags,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum UrgencyArg {
    /// 緊急
    Emergency,
    /// 早期
    Early,
    /// 通常
    Normal,
}

impl From<UrgencyArg> for Urgency {
    fn from(u: UrgencyArg) -> Self {
        match u {
            UrgencyArg::Emergency => Urgency::Emergency,
            UrgencyArg::Early => Urgency::Early,
            UrgencyArg::Normal => Urgency::Normal,
        }
    }
}

pub fn run(cmd: AgencyCommand, lang: Lang) -> anyhow::Result<()> {
    tokio::runtime::Runtime::new()?.block_on(async move {
        match cmd {
            AgencyCommand::Run(args) => run_node(&args, lang).await,
            AgencyCommand::Send(args) => send(*args, lang).await,
            AgencyCommand::Inbox(args) => inbox(&args, lang).await,
            AgencyCommand::Outbox(args) => outbox(&args, lang).await,
            AgencyCommand::Show { node, id } => show(&node, id, lang).await,
        }
    })
}

async fn open(args: &NodeArgs, lang: Lang) -> anyhow::Result<Node> {
    let config = AgencyConfig::load(&args.config).with_context(|| {
        lang.pick(
            "機関ノードの設定を読み込めません。--config でファイルを指定してください",
            "cannot load the agency config; name it with --config",
        )
    })?;
    Node::open(&config).await.with_context(|| {
        lang.pick(
            "機関ノードを開けません（鍵・証明書・ディレクトリ・データベースを確認してください）",
            "cannot open the agency node (check keys, certificates, directory and database)",
        )
    })
}

async fn run_node(args: &NodeArgs, lang: Lang) -> anyhow::Result<()> {
    let node = open(args, lang).await?;
    let shutdown = CancellationToken::new();
    let mut events = node.subscribe();
    let stop = shutdown.clone();
    tokio::spawn(async move {
        super::shutdown_signal().await;
        stop.cancel();
    });
    let id = node.id().clone();
    tokio::spawn(async move {
        while let Ok(event) = events.recv().await {
            match event {
                NodeEvent::Connected { .. } => eprintln!(
                    "{} ({id})",
                    lang.pick("ハブに接続しました", "connected to the hub")
                ),
                NodeEvent::Stored {
                    envelope_id,
                    sender,
                    ..
                } => eprintln!(
                    "{} {envelope_id} ← {sender}",
                    lang.pick("受信・保存しました:", "received and stored:")
                ),
                NodeEvent::Quarantined { seq, reason } => eprintln!(
                    "{} #{seq}: {reason}",
                    lang.pick(
                        "⚠ 検証できない配信を隔離しました",
                        "⚠ quarantined a delivery that failed verification"
                    )
                ),
                NodeEvent::Disconnected { reason } => eprintln!(
                    "{}: {reason}",
                    lang.pick(
                        "ハブとの接続が切れました。再接続します",
                        "disconnected from the hub; reconnecting"
                    )
                ),
                NodeEvent::HubError(body) => {
                    eprintln!("{}", lang.pick(&body.message, &body.message_en))
                }
            }
        }
    });
    node.run(shutdown).await;
    node.records().close().await;
    Ok(())
}

fn load_referral(path: &Path, lang: Lang) -> anyhow::Result<Referral> {
    let text = std::fs::read_to_string(path).with_context(|| {
        format!(
            "{} {}",
            lang.pick("連絡票ファイルを読めません:", "cannot read referral file"),
            path.display()
        )
    })?;
    let parsed = if path.extension().is_some_and(|e| e == "json") {
        serde_json::from_str(&text).map_err(anyhow::Error::from)
    } else {
        toml::from_str(&text).map_err(anyhow::Error::from)
    };
    parsed.with_context(|| {
        format!(
            "{} {}",
            lang.pick(
                "連絡票ファイルの形式が正しくありません:",
                "referral file is not valid:"
            ),
            path.display()
        )
    })
}

async fn send(args: SendArgs, lang: Lang) -> anyhow::Result<()> {
    let today = time::OffsetDateTime::now_utc().date();
    let referral = match &args.file {
        Some(path) => load_referral(path, lang)?,
        None => args
            .referral
            .to_referral(today)
            .map_err(anyhow::Error::msg)?,
    };
    if let Err(errors) = referral.validate(today) {
        for e in &errors.0 {
            eprintln!("  {}: {}", e.field, e.message(lang));
        }
        bail!(
            "{}",
            lang.pick(
                "連絡票に誤りがあります。上の項目を直して再送してください。",
                "the referral has errors; fix the fields above and send again"
            )
        );
    }
    let node = open(&args.node, lang).await?;
    if let Some(unknown) = args.to.iter().find(|id| node.directory().get(id).is_none()) {
        node.records().close().await;
        bail!(
            "{} {unknown}",
            lang.pick(
                "宛先がディレクトリにありません（機関IDを確認してください）:",
                "recipient not in the directory (check the agency id):"
            )
        );
    }
    let draft = Draft {
        recipients: args.to,
        case_id: args.case,
        urgency: args.urgency.into(),
        payload: Payload {
            author: Author {
                name: args.author_name,
                role: args.author_role,
                contact: args.author_contact,
            },
            body: Body::Referral(Box::new(referral)),
        },
    };
    let result = node.send(&draft).await;
    node.records().close().await;
    match result {
        Ok(Sent::Accepted { id, .. }) => {
            println!(
                "{} {id}",
                lang.pick(
                    "送信しました（ハブが受理・保存済み）:",
                    "sent (accepted and stored by the hub):"
                )
            );
            Ok(())
        }
        Ok(Sent::Queued { id, reason }) => {
            println!(
                "{} {id}\n  ({reason})",
                lang.pick(
                    "ハブに接続できないため送信待ちにしました。ノード（agency run）が接続したときに送ります:",
                    "the hub is unreachable; queued, and sent when the node (agency run) connects:"
                )
            );
            Ok(())
        }
        Err(NodeError::Refused(body)) => bail!("{}", lang.pick(&body.message, &body.message_en)),
        Err(e) => Err(e.into()),
    }
}

async fn inbox(args: &NodeArgs, lang: Lang) -> anyhow::Result<()> {
    let node = open(args, lang).await?;
    let rows = node.records().inbox().await?;
    if rows.is_empty() {
        println!("{}", lang.pick("受信箱は空です。", "the inbox is empty."));
    }
    for r in rows {
        println!(
            "{}  {}  {}  {}  {}",
            r.received_at,
            agency_name(&node, &r.sender),
            kind_label(&r.kind, lang),
            urgency_label(&r.urgency, lang),
            r.envelope_id
        );
    }
    node.records().close().await;
    Ok(())
}

async fn outbox(args: &NodeArgs, lang: Lang) -> anyhow::Result<()> {
    let node = open(args, lang).await?;
    let rows = node.records().outbox().await?;
    if rows.is_empty() {
        println!("{}", lang.pick("送信箱は空です。", "the outbox is empty."));
    }
    for r in rows {
        let to: Vec<String> = serde_json::from_str::<Vec<String>>(&r.recipients)
            .unwrap_or_default()
            .iter()
            .map(|id| agency_name(&node, id))
            .collect();
        let status = match r.status.as_str() {
            "accepted" => lang.pick("受理済み", "accepted"),
            "pending" => lang.pick("送信待ち", "pending"),
            _ => lang.pick("拒否", "refused"),
        };
        println!(
            "{}  → {}  {}  {}  {}",
            r.created_at,
            to.join(", "),
            kind_label(&r.kind, lang),
            status,
            r.envelope_id
        );
    }
    node.records().close().await;
    Ok(())
}

async fn show(args: &NodeArgs, id: EnvelopeId, lang: Lang) -> anyhow::Result<()> {
    let node = open(args, lang).await?;
    let (header, payload) = if let Some(r) = node.records().inbox_item(id).await? {
        (
            format!(
                "{} {}",
                lang.pick("差出人:", "from:"),
                agency_name(&node, &r.sender)
            ),
            r.payload,
        )
    } else if let Some(r) = node.records().outbox_item(id).await? {
        (
            format!("{} {}", lang.pick("宛先:", "to:"), r.recipients),
            r.payload,
        )
    } else {
        node.records().close().await;
        bail!(
            "{} {id}",
            lang.pick(
                "この機関の記録にありません:",
                "not in this agency's records:"
            )
        );
    };
    node.records().close().await;
    let payload: Payload = serde_json::from_str(&payload)?;
    println!("{header}");
    println!(
        "{} {}（{}・{}）",
        lang.pick("記入者:", "author:"),
        payload.author.name,
        payload.author.role,
        payload.author.contact
    );
    match payload.body {
        Body::Referral(referral) => println!("{}", render(&referral, lang)),
    }
    Ok(())
}

fn agency_name(node: &Node, id: &str) -> String {
    id.parse::<AgencyId>()
        .ok()
        .and_then(|id| node.directory().get(&id).map(|a| a.name.clone()))
        .unwrap_or_else(|| id.to_owned())
}

fn kind_label(kind: &str, lang: Lang) -> String {
    MessageKind::parse(kind).map_or_else(|| kind.to_owned(), |k| k.label(lang).to_owned())
}

fn urgency_label(urgency: &str, lang: Lang) -> String {
    Urgency::parse(urgency).map_or_else(|| urgency.to_owned(), |u| u.label(lang).to_owned())
}
