//! `tsunagu agency …`: run an agency node, and the staff commands.

use std::path::{Path, PathBuf};

use super::referral_flags::ReferralFlags;
use crate::agency::outbox::HubAnswer;
use crate::agency::{AgencyConfig, Draft, Node, NodeEvent};
use crate::i18n::Lang;
use crate::protocol::case::{CaseClassification, Registration};
use crate::protocol::payload::{Body, Payload};
use crate::protocol::referral::Referral;
use crate::protocol::referral_text::render;
use crate::protocol::{
    Action, AgencyId, CaseId, ConsentId, EnvelopeId, MessageKind, ReferralState, Urgency,
};
use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use tokio_util::sync::CancellationToken;

use super::exchange::{self, AuthorArgs, BasisArgs};

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
    /// ケースを開設（ハブがIDを発行） / open a case (the hub issues its id)
    CaseOpen(NodeArgs),
    /// 同意を記録（拒否・未説明も） / record a consent (or a refusal, or 未説明)
    ConsentRecord {
        #[command(flatten)]
        node: NodeArgs,
        #[command(flatten)]
        author: AuthorArgs,
        #[command(flatten)]
        consent: Box<exchange::ConsentRecordArgs>,
    },
    /// 同意の撤回 / withdraw a consent
    ConsentWithdraw {
        #[command(flatten)]
        node: NodeArgs,
        #[command(flatten)]
        author: AuthorArgs,
        /// ケースID / case id
        #[arg(long)]
        case: CaseId,
        /// 同意ID / consent id
        #[arg(long)]
        consent: ConsentId,
        /// 本人の申し出の内容 / what the person said
        #[arg(long, default_value = "")]
        note: String,
    },
    /// 紹介の対応状況を更新（受理・対応決定・辞退・経過・返信・取消） / update a referral's state
    ReferralUpdate {
        #[command(flatten)]
        node: NodeArgs,
        #[command(flatten)]
        author: AuthorArgs,
        /// 紹介のエンベロープID / the referral's envelope id
        id: EnvelopeId,
        /// 新しい状態 / new state
        #[arg(long, value_enum)]
        state: ReferralState,
        /// 受理者・辞退理由・経過・返信の内容 / note, reason or outcome
        #[arg(long, default_value = "")]
        note: String,
    },
    /// 紹介の宛先ごとの対応状況 / a referral's state per recipient
    Status {
        #[command(flatten)]
        node: NodeArgs,
        /// 紹介のエンベロープID / the referral's envelope id
        id: EnvelopeId,
    },
    /// 要対協へのケース登録・区分変更・終結（調整機関のみ） / register, reclassify or close a case (調整機関 only)
    Case {
        #[command(flatten)]
        node: NodeArgs,
        #[command(flatten)]
        author: AuthorArgs,
        /// ケースID / case id
        #[arg(long)]
        case: CaseId,
        /// 登録・変更する区分（省略して --close で終結） / classification to register or change to
        #[arg(long, value_enum, required_unless_present = "close")]
        classification: Option<CaseClassification>,
        /// 主担当機関（登録時） / lead agency (when registering)
        #[arg(long)]
        lead: Option<AgencyId>,
        /// 関係機関（登録時、カンマ区切り） / member agencies involved (when registering)
        #[arg(long, value_delimiter = ',')]
        members: Vec<AgencyId>,
        /// 終結 / close the case
        #[arg(long, conflicts_with = "classification")]
        close: bool,
        /// 理由・経緯 / reason
        #[arg(long, default_value = "")]
        note: String,
    },
    /// 法令上の例外による提供と違反報告の一覧（センター・調整機関） / statutory uses and violations (center, 調整機関)
    Oversight(NodeArgs),
    /// ハブからの通知 / notices from the hub
    Notices(NodeArgs),
    /// ケースの提供記録（誰が何を知っているか） / a case's disclosure record
    Disclosures {
        #[command(flatten)]
        node: NodeArgs,
        /// ケースID / case id
        #[arg(long)]
        case: CaseId,
    },
    /// 経過記録・情報共有（ケースについての短い記録） / case notes
    #[command(subcommand)]
    Note(super::note::NoteCommand),
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
    /// ケースID（agency case-open で開設） / case id (from agency case-open)
    #[arg(long)]
    case: CaseId,
    #[command(flatten)]
    basis: BasisArgs,
    #[command(flatten)]
    author: AuthorArgs,
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
            AgencyCommand::Note(cmd) => super::note::run(cmd, lang).await,
            other => staff(other, lang).await,
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
    let events = node.subscribe();
    let stop = shutdown.clone();
    tokio::spawn(async move {
        super::shutdown_signal().await;
        stop.cancel();
    });
    let id = node.id().clone();
    tokio::spawn(async move {
        let mut events = events;
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
                NodeEvent::Notice { notice, .. } => eprintln!("{}", notice.describe(lang)),
                NodeEvent::ViolationReported { envelope_id } => eprintln!(
                    "{} {envelope_id}",
                    lang.pick(
                        "⚠ 申告された情報区分を超える内容を受信し、ハブに報告しました:",
                        "⚠ received content beyond its declared categories; reported to the hub:"
                    )
                ),
                NodeEvent::Answered { id, answer } => match answer {
                    HubAnswer::Accepted { .. } => eprintln!(
                        "{} {id}",
                        lang.pick(
                            "送信待ちだったものをハブに届けました:",
                            "delivered to the hub from the outbox:"
                        )
                    ),
                    HubAnswer::Refused(body) => eprintln!(
                        "{} {id}: {}",
                        lang.pick("⚠ ハブが拒否しました", "⚠ refused by the hub"),
                        lang.pick(&body.message, &body.message_en)
                    ),
                },
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
    let (basis, purpose, justification) = args.basis.resolve(lang)?;
    let draft = Draft {
        recipients: args.to,
        case_id: Some(args.case),
        urgency: args.urgency.into(),
        basis: Some(basis),
        purpose: Some(purpose),
        action: None,
        payload: Payload {
            author: args.author.author(),
            body: Body::Referral(Box::new(referral)),
            justification,
        },
    };
    let result = node.send(&draft).await;
    node.records().close().await;
    exchange::report(result, lang)
}

/// The commands that act through an open node and close it after.
async fn staff(cmd: AgencyCommand, lang: Lang) -> anyhow::Result<()> {
    let node_args = match &cmd {
        AgencyCommand::CaseOpen(n) | AgencyCommand::Notices(n) | AgencyCommand::Oversight(n) => n,
        AgencyCommand::Case { node, .. } => node,
        AgencyCommand::ConsentRecord { node, .. }
        | AgencyCommand::ConsentWithdraw { node, .. }
        | AgencyCommand::ReferralUpdate { node, .. }
        | AgencyCommand::Status { node, .. }
        | AgencyCommand::Disclosures { node, .. } => node,
        _ => unreachable!("dispatched in run"),
    };
    let node = open(node_args, lang).await?;
    let result = match cmd {
        AgencyCommand::CaseOpen(_) => match node.open_case().await {
            Ok(case) => {
                println!(
                    "{} {case}",
                    lang.pick("ケースを開設しました:", "case opened:")
                );
                Ok(())
            }
            Err(e) => Err(exchange::hub_error(e, lang)),
        },
        AgencyCommand::Case {
            author,
            case,
            classification,
            lead,
            members,
            close,
            note,
            ..
        } => {
            let action = match (close, classification, lead) {
                (true, _, _) => Action::CloseCase,
                (false, Some(classification), Some(lead)) => Action::RegisterCase {
                    registration: Registration {
                        classification,
                        lead,
                        members: members.clone(),
                    },
                },
                (false, Some(classification), None) => Action::ReclassifyCase { classification },
                (false, None, _) => unreachable!("clap requires --classification or --close"),
            };
            exchange::case_update(&node, case, action, note, members, author.author(), lang).await
        }
        AgencyCommand::Oversight(_) => exchange::oversight(&node, lang).await,
        AgencyCommand::ConsentRecord {
            author, consent, ..
        } => exchange::consent_record(&node, *consent, author.author(), lang).await,
        AgencyCommand::ConsentWithdraw {
            author,
            case,
            consent,
            note,
            ..
        } => exchange::consent_withdraw(&node, case, consent, note, author.author(), lang).await,
        AgencyCommand::ReferralUpdate {
            author,
            id,
            state,
            note,
            ..
        } => exchange::referral_update(&node, id, state, note, author.author(), lang).await,
        AgencyCommand::Status { id, .. } => exchange::status(&node, id, lang).await,
        AgencyCommand::Notices(_) => exchange::notices(&node, lang).await,
        AgencyCommand::Disclosures { case, .. } => exchange::disclosures(&node, case, lang).await,
        _ => unreachable!("dispatched in run"),
    };
    node.records().close().await;
    result
}

async fn inbox(args: &NodeArgs, lang: Lang) -> anyhow::Result<()> {
    let node = open(args, lang).await?;
    let rows = node.records().inbox().await?;
    if rows.is_empty() {
        println!("{}", lang.pick("受信箱は空です。", "the inbox is empty."));
    }
    for r in rows {
        let ended = if r.consent_end_reason.is_some() {
            lang.pick("  ⚠同意終了", "  ⚠consent ended")
        } else {
            ""
        };
        println!(
            "{}  {}  {}  {}  {}{ended}",
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
            "accepted" => lang.pick("受理済み", "accepted").to_owned(),
            "pending" if r.attempts > 0 => format!(
                "{} ({} {}: {})",
                lang.pick("送信待ち", "pending"),
                r.attempts,
                lang.pick("回失敗", "failed attempts"),
                r.detail.as_deref().unwrap_or("")
            ),
            "pending" => lang.pick("送信待ち", "pending").to_owned(),
            _ => lang.pick("拒否", "refused").to_owned(),
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
    if let Some(reason) = node.records().consent_ended(id).await? {
        let reason = if reason == "expired" {
            lang.pick("期間満了", "expired")
        } else {
            lang.pick("撤回", "withdrawn")
        };
        println!(
            "⚠ {}（{reason}）",
            lang.pick(
                "この記録の根拠となった同意は終了しています。以後この情報を共有しないでください",
                "the consent this record was shared under has ended; share nothing more from it"
            )
        );
    }
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
        Body::ReferralUpdate(note) | Body::ConsentWithdrawal(note) | Body::CaseUpdate(note) => {
            println!("{}", note.text)
        }
        Body::CaseNote(note) => println!("{}", super::note::render(&note, lang)),
        Body::ConsentRecord(details) => {
            println!(
                "{} {}",
                lang.pick("同意した人:", "given by:"),
                details.given_by_name
            );
            println!("{}", details.note);
            if let Some(scan) = details.scan {
                println!(
                    "{} {} ({} bytes)",
                    lang.pick("添付:", "attachment:"),
                    scan.file_name,
                    scan.bytes.len()
                );
            }
        }
    }
    if let Some(justification) = payload.justification {
        println!(
            "{} {justification}",
            lang.pick(
                "法令上の例外を用いる理由:",
                "why a statutory exception applies:"
            )
        );
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
