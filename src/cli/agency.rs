//! `tsunagu agency …`: run an agency node, and the staff commands.

use super::labels;
use super::output::{self, say};
use super::table::Table;
use std::path::{Path, PathBuf};

use super::referral_flags::{self, ReferralFlags};
use crate::agency::outbox::HubAnswer;
use crate::agency::{AgencyConfig, Draft, Node, NodeEvent};
use crate::i18n::Lang;
use crate::protocol::case::{CaseClassification, Registration};
use crate::protocol::payload::{Body, Payload};
use crate::protocol::referral::Referral;
use crate::protocol::referral_text::render;
use crate::protocol::{
    Action, AgencyId, CaseId, ConsentId, EnvelopeId, ErrorBody, InfoCategory, ReferralState,
    Timestamp, Urgency,
};
use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use tokio_util::sync::CancellationToken;

use super::exchange::{self, AuthorArgs, SharingArgs};

#[derive(Subcommand)]
pub enum AgencyCommand {
    /// ノードを起動し、ハブとの接続を保つ / run the node and keep connected to the hub
    Run(RunArgs),
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
        /// 同意ID（inbox・show に表示） / consent id (inbox and show print it)
        #[arg(long = "consent-id", alias = "consent")]
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
    /// ケース会議（開催・出欠・日程変更・中止・会議録） / case meetings
    #[command(subcommand)]
    Meeting(super::meeting::MeetingCommand),
    /// 進行管理台帳（調整機関のみ） / the progress ledger (調整機関 only)
    #[command(subcommand)]
    Ledger(super::ledger::LedgerCommand),
    /// 支援台帳（こども家庭センター: 朝の一覧・接触記録・Excel 取込と書出し） / the center's support ledger: morning list, contacts, Excel in and out
    #[command(subcommand)]
    SupportLedger(super::support_ledger::SupportLedgerCommand),
    /// 事業評価の指標（こども家庭センター: 期間の集計・目標値・グラフ） / the center's indicators for a period, their targets and charts
    Report(super::report::ReportArgs),
    /// 支援プラン（作成・改訂・表示・差分・担当する支援） / support plans
    #[command(subcommand)]
    Plan(super::plan::PlanCommand),
    /// 職員アカウント（Web 画面のログイン・二要素認証） / staff accounts of the web UI (login, second factor)
    #[command(subcommand)]
    Staff(super::staff::StaffCommand),
    /// ノードの鍵（パスフレーズによる保護） / the node's keys: passphrase protection
    #[command(subcommand)]
    Keys(super::keys::KeysCommand),
    /// 閲覧記録（誰がいつどの記録を見たか） / the access log: who viewed which record, when
    AccessLog(super::staff::AccessLogArgs),
    /// ハブの監査ログの署名付きチェックポイント（表示・書き出し） / the hub's signed audit checkpoints: show, export
    #[command(subcommand)]
    Checkpoints(super::checkpoints::CheckpointsCommand),
    /// 1件を復号して表示 / show one message, decrypted
    Show {
        #[command(flatten)]
        node: NodeArgs,
        /// エンベロープID / envelope id
        id: EnvelopeId,
    },
}

/// `agency run` prints events for the operator, not records: no `--json`.
#[derive(Args)]
pub struct RunArgs {
    /// 機関ノードの設定ファイル / agency node config
    #[arg(long, default_value = "agency.toml")]
    config: PathBuf,
}

#[derive(Args)]
pub struct NodeArgs {
    /// 機関ノードの設定ファイル / agency node config
    #[arg(long, default_value = "agency.toml")]
    config: PathBuf,
    /// 一覧・表示・送信結果を JSON で出力（スクリプト用） / print lists, records and results as JSON, for scripts
    #[arg(long)]
    json: bool,
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
    sharing: SharingArgs,
    #[command(flatten)]
    author: AuthorArgs,
    /// 連絡票ファイル（TOML または JSON） / referral file (TOML or JSON)
    #[arg(long, conflicts_with = "ReferralFlags")]
    file: Option<PathBuf>,
    /// 所見などの自由記述に含まれる情報区分（複数可、--file とも併用可）/ category the free text discloses (repeatable, also with --file)
    #[arg(long = "also-category", value_enum, value_name = "CATEGORY")]
    also_category: Vec<InfoCategory>,
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
            AgencyCommand::Meeting(cmd) => super::meeting::run(cmd, lang).await,
            AgencyCommand::Ledger(cmd) => super::ledger::run(cmd, lang).await,
            AgencyCommand::Plan(cmd) => super::plan::run(cmd, lang).await,
            AgencyCommand::SupportLedger(cmd) => super::support_ledger::run(cmd, lang).await,
            AgencyCommand::Report(args) => super::report::run(args, lang).await,
            AgencyCommand::Staff(cmd) => super::staff::run(cmd, lang).await,
            AgencyCommand::Keys(cmd) => super::keys::run(cmd, lang).await,
            AgencyCommand::AccessLog(args) => super::staff::access_log(args, lang).await,
            AgencyCommand::Checkpoints(cmd) => super::checkpoints::run(cmd, lang).await,
            other => staff(other, lang).await,
        }
    })
}

async fn open(args: &NodeArgs, lang: Lang) -> anyhow::Result<Node> {
    open_config(&args.config, lang).await
}

/// Refuse (closing the records) if a recipient is not in the directory.
pub(super) async fn known_recipients(
    node: &Node,
    to: &[AgencyId],
    lang: Lang,
) -> anyhow::Result<()> {
    if let Some(unknown) = to.iter().find(|id| node.directory().get(id).is_none()) {
        node.records().close().await;
        bail!(
            "{} {unknown}",
            lang.pick(
                "宛先がディレクトリにありません（機関IDを確認してください）:",
                "recipient not in the directory (check the agency id):"
            )
        );
    }
    Ok(())
}

pub(super) async fn open_config(path: &Path, lang: Lang) -> anyhow::Result<Node> {
    open_node(&load_config(path, lang)?, lang).await
}

pub(super) fn load_config(path: &Path, lang: Lang) -> anyhow::Result<AgencyConfig> {
    AgencyConfig::load(path).with_context(|| {
        lang.pick(
            "機関ノードの設定を読み込めません。--config でファイルを指定してください",
            "cannot load the agency config; name it with --config",
        )
    })
}

async fn open_node(config: &AgencyConfig, lang: Lang) -> anyhow::Result<Node> {
    Node::open(config).await.with_context(|| {
        lang.pick(
            "機関ノードを開けません（鍵・証明書・ディレクトリ・データベースを確認してください）",
            "cannot open the agency node (check keys, certificates, directory and database)",
        )
    })
}

/// What a stored delivery is, for the running node's log line: its kind,
/// and for a meeting answer the answer itself, so the organiser sees each
/// one as it arrives. Metadata only: no content reaches the terminal.
async fn what_arrived(
    records: &crate::store::records::Records,
    id: EnvelopeId,
    lang: Lang,
) -> String {
    let Ok(Some(bytes)) = records.envelope_bytes(id).await else {
        return String::new();
    };
    let Ok(envelope) = crate::protocol::Envelope::parse(bytes) else {
        return String::new();
    };
    let meta = envelope.meta();
    match &meta.action {
        Some(crate::protocol::Action::AnswerMeeting { attendance, .. }) => {
            format!("{}（{}）", meta.kind.label(lang), attendance.label(lang))
        }
        _ => meta.kind.label(lang).to_owned(),
    }
}

async fn run_node(args: &RunArgs, lang: Lang) -> anyhow::Result<()> {
    let config = load_config(&args.config, lang)?;
    // Refuse a UI that would take passwords in clear before anything starts.
    if let Some(listen) = config.ui.listen {
        crate::agency::ui::tls_for(&config.ui, listen)?;
    }
    let node = std::sync::Arc::new(open_node(&config, lang).await?);
    let shutdown = CancellationToken::new();
    if let Some(listen) = config.ui.listen {
        let ui = crate::agency::ui::start(&config, node.clone(), listen, shutdown.clone()).await?;
        let scheme = if ui.https { "https" } else { "http" };
        eprintln!(
            "{} {scheme}://{}/",
            lang.pick("職員用Web画面:", "staff web UI:"),
            ui.addr
        );
    }
    let events = node.subscribe();
    let stop = shutdown.clone();
    tokio::spawn(async move {
        super::shutdown_signal().await;
        stop.cancel();
    });
    let id = node.id().clone();
    let directory = node.directory().clone();
    let records = node.records().clone();
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
                    "{} {} {envelope_id} ← {}",
                    lang.pick("受信・保存しました:", "received and stored:"),
                    what_arrived(&records, envelope_id, lang).await,
                    labels::named(&directory, sender.as_str())
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
                NodeEvent::Notice { notice, .. } => {
                    eprintln!("{}", labels::named(&directory, &notice.describe(lang)))
                }
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
                        labels::refusal(&directory, &body, lang)
                    ),
                },
                NodeEvent::HubError(body) => {
                    eprintln!("{}", labels::refusal(&directory, &body, lang))
                }
                NodeEvent::Checkpoint { .. } => {}
                NodeEvent::CheckpointRefused { reason } => eprintln!(
                    "{}: {reason}",
                    lang.pick(
                        "⚠ 署名を検証できない監査チェックポイントを破棄しました",
                        "⚠ discarded an audit checkpoint whose signature does not verify"
                    )
                ),
                NodeEvent::HistoryRewritten { reason } => eprintln!(
                    "{}: {reason}",
                    lang.pick(
                        "⚠⚠ ハブの監査ログが書き換えられた可能性があります（`tsunagu agency checkpoints show`）",
                        "⚠⚠ the hub's audit history may have been rewritten (`tsunagu agency checkpoints show`)"
                    )
                ),
                NodeEvent::HubRestored(restore) => eprintln!(
                    "{} {} → {}（{} {} → {}）",
                    lang.pick(
                        "⚠ ハブがバックアップから復元されました。復元後のハブから受信を再開し、失われた送信を再送します。エポック",
                        "⚠ the hub was restored from a backup; resuming from it and resending what it lost. Epoch"
                    ),
                    restore.from_epoch,
                    restore.to_epoch,
                    lang.pick("監査ログ", "audit chain"),
                    restore.chain_before.map_or_else(|| "?".into(), |n| n.to_string()),
                    restore.chain_after.unwrap_or_default(),
                ),
                NodeEvent::DirectoryUpdated { version } => eprintln!(
                    "{} {version}",
                    lang.pick(
                        "CA の署名を確認した新しい機関ディレクトリを使います。版:",
                        "now using a newer CA-signed directory, version"
                    )
                ),
                NodeEvent::DirectoryRefused { reason } => eprintln!(
                    "{}: {reason}",
                    lang.pick(
                        "⚠ ハブが示した機関ディレクトリを拒否しました（CA の署名がない・一致しない、または古い版）。これまでのディレクトリを使い続けます。ハブの管理者に連絡してください",
                        "⚠ refused the directory the hub offered (unsigned, not signed by the CA, or older); keeping the current one; contact the hub operator"
                    )
                ),
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

/// Check the whole form in one pass: the missing flags and what is wrong
/// with the rest (a missing pregnancy section, an impossible date) together.
fn check_form(
    referral: &Referral,
    missing: &[&str],
    today: time::Date,
    lang: Lang,
) -> anyhow::Result<()> {
    let sections: Vec<&str> = missing
        .iter()
        .filter_map(|f| referral_flags::section_of(f))
        .collect();
    let errors: Vec<_> = referral
        .validate(today)
        .err()
        .map(|e| e.0)
        .unwrap_or_default()
        .into_iter()
        .filter(|e| {
            let section = e.field.split(['.', '[']).next().unwrap_or(&e.field);
            let inside = e.field.contains('.') || e.field == "findings";
            !(inside && sections.contains(&section))
        })
        .collect();
    if missing.is_empty() && errors.is_empty() {
        return Ok(());
    }
    if !missing.is_empty() {
        eprintln!("{}", referral_flags::missing_message(missing));
    }
    for e in &errors {
        eprintln!("  {}: {}", e.field, e.message(lang));
    }
    bail!(
        "{}",
        lang.pick(
            "連絡票に誤りがあります。上の項目をすべて直して再送してください。",
            "the referral has errors; fix all the fields above and send again"
        )
    )
}

async fn send(args: SendArgs, lang: Lang) -> anyhow::Result<()> {
    let today = time::Date::from(crate::protocol::day::Day::today());
    let (mut referral, missing) = match &args.file {
        Some(path) => (load_referral(path, lang)?, Vec::new()),
        None => args.referral.draft(today),
    };
    for c in &args.also_category {
        if !referral.extra_categories.contains(c) {
            referral.extra_categories.push(*c);
        }
    }
    check_form(&referral, &missing, today, lang)?;
    let node = open(&args.node, lang).await?;
    known_recipients(&node, &args.to, lang).await?;
    let (basis, justification) = args.sharing.basis.resolve(lang)?;
    let purpose = args.sharing.purpose;
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
    let out = exchange::Out {
        lang,
        json: args.node.json,
    };
    let printed = out.sent(&node, result, None, None);
    node.records().close().await;
    printed
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
    let out = exchange::Out {
        lang,
        json: node_args.json,
    };
    let node = open(node_args, lang).await?;
    let result = match cmd {
        AgencyCommand::CaseOpen(_) => match node.open_case().await {
            Ok(case) if out.json => output::json(&serde_json::json!({ "case_id": case })),
            Ok(case) => {
                say!(
                    "{} {case}",
                    lang.pick("ケースを開設しました:", "case opened:")
                );
                Ok(())
            }
            Err(e) => Err(exchange::hub_error(&node, e, lang)),
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
            exchange::case_update(&node, case, action, note, members, author.author(), out).await
        }
        AgencyCommand::Oversight(_) => exchange::oversight(&node, out).await,
        AgencyCommand::ConsentRecord {
            author, consent, ..
        } => exchange::consent_record(&node, *consent, author.author(), out).await,
        AgencyCommand::ConsentWithdraw {
            author,
            case,
            consent,
            note,
            ..
        } => exchange::consent_withdraw(&node, case, consent, note, author.author(), out).await,
        AgencyCommand::ReferralUpdate {
            author,
            id,
            state,
            note,
            ..
        } => exchange::referral_update(&node, id, state, note, author.author(), out).await,
        AgencyCommand::Status { id, .. } => exchange::status(&node, id, out).await,
        AgencyCommand::Notices(_) => exchange::notices(&node, out).await,
        AgencyCommand::Disclosures { case, .. } => exchange::disclosures(&node, case, out).await,
        _ => unreachable!("dispatched in run"),
    };
    node.records().close().await;
    result
}

/// One received record, as a script reads it.
#[derive(serde::Serialize)]
struct InboxItem {
    envelope_id: String,
    received_at: Timestamp,
    sender: labels::AgencyRef,
    kind: labels::Labeled,
    urgency: labels::Labeled,
    #[serde(flatten)]
    facts: Option<labels::Facts>,
    /// `withdrawn` or `expired` once the consent it was shared under ended.
    consent_ended: Option<String>,
}

async fn inbox(args: &NodeArgs, lang: Lang) -> anyhow::Result<()> {
    let node = open(args, lang).await?;
    let rows = node.records().inbox().await;
    let mut items = Vec::new();
    for r in rows? {
        let facts = labels::record_meta(&node, &r.envelope_id)
            .await
            .map(|m| labels::facts(&m, lang));
        items.push(InboxItem {
            sender: labels::agency(&node, &r.sender),
            kind: labels::kind(&r.kind, lang),
            urgency: labels::urgency(&r.urgency, lang),
            facts,
            consent_ended: r.consent_end_reason,
            envelope_id: r.envelope_id,
            received_at: r.received_at,
        });
    }
    node.records().close().await;
    if args.json {
        return output::json(&items);
    }
    if items.is_empty() {
        say!("{}", lang.pick("受信箱は空です。", "the inbox is empty."));
        return Ok(());
    }
    let mut table = Table::new(&[
        lang.pick("受信日時", "received"),
        lang.pick("差出人", "from"),
        lang.pick("種別", "kind"),
        lang.pick("緊急度", "urgency"),
        lang.pick("ケースID", "case"),
        lang.pick("根拠", "basis"),
        lang.pick("同意ID・紹介", "consent / referral"),
        lang.pick("エンベロープID", "envelope id"),
    ]);
    for i in &items {
        table.row(vec![
            i.received_at.to_string(),
            i.sender.name.clone(),
            record_kind(&i.kind, i.facts.as_ref(), i.consent_ended.is_some(), lang),
            i.urgency.label.clone(),
            cell(i.facts.as_ref().and_then(|f| f.case_id.clone())),
            basis_cell(i.facts.as_ref(), lang),
            link_cell(i.facts.as_ref()),
            i.envelope_id.clone(),
        ]);
    }
    table.print();
    Ok(())
}

fn cell(value: Option<String>) -> String {
    value.unwrap_or_else(|| "—".to_owned())
}

fn record_kind(
    kind: &labels::Labeled,
    facts: Option<&labels::Facts>,
    consent_ended: bool,
    lang: Lang,
) -> String {
    let mut text = labels::kind_cell(&kind.name, facts, lang);
    if consent_ended {
        text.push_str(lang.pick(" ⚠同意終了", " ⚠consent ended"));
    }
    text
}

fn basis_cell(facts: Option<&labels::Facts>, lang: Lang) -> String {
    match facts.and_then(|f| f.basis.as_ref()) {
        Some(b) if b.consent_id.is_some() => b.label.clone(),
        // Statutory labels carry the article; the table keeps the short name.
        Some(b) => b.label.split('（').next().unwrap_or(&b.label).to_owned(),
        None => lang.pick("—", "—").to_owned(),
    }
}

/// The consent a record relies on, or the referral a reply answers.
fn link_cell(facts: Option<&labels::Facts>) -> String {
    let Some(f) = facts else {
        return "—".to_owned();
    };
    if let Some(r) = &f.referral_update {
        return format!("→ {}", r.referral);
    }
    cell(
        f.basis
            .as_ref()
            .and_then(|b| b.consent_id.map(|c| c.to_string())),
    )
}

/// One sent record, as a script reads it.
#[derive(serde::Serialize)]
struct OutboxItem {
    envelope_id: String,
    created_at: Timestamp,
    recipients: Vec<labels::AgencyRef>,
    kind: labels::Labeled,
    #[serde(flatten)]
    facts: Option<labels::Facts>,
    /// `pending`, `accepted` (stored by the hub) or `refused`.
    status: labels::Labeled,
    /// The hub's reason when refused (with the next step); the last failure while pending.
    detail: Option<String>,
    attempts: i64,
}

async fn outbox(args: &NodeArgs, lang: Lang) -> anyhow::Result<()> {
    let node = open(args, lang).await?;
    let rows = node.records().outbox().await;
    let mut items = Vec::new();
    for r in rows? {
        let recipients: Vec<String> = serde_json::from_str(&r.recipients).unwrap_or_default();
        let facts = labels::record_meta(&node, &r.envelope_id)
            .await
            .map(|m| labels::facts(&m, lang));
        let (status, detail) = match r.status.as_str() {
            // The hub stored it; the recipient's 受理 is a referral state.
            "accepted" => (lang.pick("ハブ保存済み", "stored by the hub"), None),
            "pending" => (lang.pick("送信待ち", "pending"), r.detail),
            _ => (
                lang.pick("拒否", "refused"),
                r.detail
                    .map(|d| match serde_json::from_str::<ErrorBody>(&d) {
                        Ok(body) => labels::refusal(node.directory(), &body, lang),
                        Err(_) => d,
                    }),
            ),
        };
        items.push(OutboxItem {
            recipients: recipients
                .iter()
                .map(|id| labels::agency(&node, id))
                .collect(),
            kind: labels::kind(&r.kind, lang),
            facts,
            status: labels::Labeled::new(&r.status, status),
            detail,
            attempts: r.attempts,
            envelope_id: r.envelope_id,
            created_at: r.created_at,
        });
    }
    node.records().close().await;
    if args.json {
        return output::json(&items);
    }
    if items.is_empty() {
        say!("{}", lang.pick("送信箱は空です。", "the outbox is empty."));
        return Ok(());
    }
    let mut table = Table::new(&[
        lang.pick("作成日時", "created"),
        lang.pick("宛先", "to"),
        lang.pick("種別", "kind"),
        lang.pick("状態", "status"),
        lang.pick("ケースID", "case"),
        lang.pick("根拠", "basis"),
        lang.pick("同意ID・紹介", "consent / referral"),
        lang.pick("エンベロープID", "envelope id"),
    ]);
    for i in &items {
        let status = match (&i.detail, i.status.name.as_str()) {
            (Some(_), "pending") => format!(
                "{}（{}{}）",
                i.status.label,
                i.attempts,
                lang.pick("回失敗", " failed attempts")
            ),
            _ => i.status.label.clone(),
        };
        let to: Vec<&str> = i.recipients.iter().map(|a| a.name.as_str()).collect();
        table.row(vec![
            i.created_at.to_string(),
            if to.is_empty() {
                "—".into()
            } else {
                to.join("、")
            },
            record_kind(&i.kind, i.facts.as_ref(), false, lang),
            status,
            cell(i.facts.as_ref().and_then(|f| f.case_id.clone())),
            basis_cell(i.facts.as_ref(), lang),
            link_cell(i.facts.as_ref()),
            i.envelope_id.clone(),
        ]);
    }
    table.print();
    // Reasons under the table: they are sentences, not cells.
    for i in &items {
        if let (Some(detail), "refused") = (&i.detail, i.status.name.as_str()) {
            say!(
                "{} {}: {detail}",
                lang.pick("拒否理由", "refused"),
                i.envelope_id
            );
        }
    }
    Ok(())
}

/// One record, as a script reads it.
#[derive(serde::Serialize)]
struct ShowItem {
    envelope_id: String,
    /// `received` or `sent`.
    direction: &'static str,
    sender: Option<labels::AgencyRef>,
    recipients: Vec<labels::AgencyRef>,
    kind: labels::Labeled,
    #[serde(flatten)]
    facts: Option<labels::Facts>,
    consent_ended: Option<String>,
    payload: Payload,
}

async fn show(args: &NodeArgs, id: EnvelopeId, lang: Lang) -> anyhow::Result<()> {
    let node = open(args, lang).await?;
    let found = show_item(&node, id, lang).await;
    node.records().close().await;
    let Some(item) = found? else {
        bail!(
            "{} {id}",
            lang.pick(
                "この機関の記録にありません:",
                "not in this agency's records:"
            )
        );
    };
    if args.json {
        return output::json(&item);
    }
    if let Some(reason) = &item.consent_ended {
        let reason = if reason == "expired" {
            lang.pick("期間満了", "expired")
        } else {
            lang.pick("撤回", "withdrawn")
        };
        say!(
            "⚠ {}（{reason}）",
            lang.pick(
                "この記録の根拠となった同意は終了しています。以後この情報を共有しないでください",
                "the consent this record was shared under has ended; share nothing more from it"
            )
        );
    }
    show_header(&item, lang);
    let payload = item.payload;
    say!(
        "{} {}（{}・{}）",
        lang.pick("記入者:", "author:"),
        payload.author.name,
        payload.author.role,
        payload.author.contact
    );
    match payload.body {
        Body::Referral(referral) => say!("{}", render(&referral, lang)),
        Body::ReferralUpdate(note) | Body::ConsentWithdrawal(note) | Body::CaseUpdate(note) => {
            say!("{}", note.text)
        }
        Body::CaseNote(note) => say!("{}", super::note::render(&note, lang)),
        body @ (Body::MeetingInvitation(_)
        | Body::MeetingChange(_)
        | Body::MeetingAnswer(_)
        | Body::Minutes(_)
        | Body::MinutesExcerpt(_)) => say!(
            "{}",
            labels::named(node.directory(), &super::meeting::render(&body, lang))
        ),
        body @ (Body::SupportPlan(_) | Body::PlanPart(_)) => {
            say!("{}", super::plan::render(&body, lang, node.directory()))
        }
        Body::ConsentRecord(details) => {
            say!(
                "{} {}",
                lang.pick("同意した人:", "given by:"),
                details.given_by_name
            );
            say!("{}", details.note);
            if let Some(scan) = details.scan {
                say!(
                    "{} {} ({} bytes)",
                    lang.pick("添付:", "attachment:"),
                    scan.file_name,
                    scan.bytes.len()
                );
            }
        }
    }
    if let Some(justification) = payload.justification {
        say!(
            "{} {justification}",
            lang.pick(
                "法令上の例外を用いる理由:",
                "why a statutory exception applies:"
            )
        );
    }
    Ok(())
}

async fn show_item(node: &Node, id: EnvelopeId, lang: Lang) -> anyhow::Result<Option<ShowItem>> {
    let facts = labels::record_meta(node, &id.to_string())
        .await
        .map(|m| labels::facts(&m, lang));
    let records = node.records();
    let item = if let Some(r) = records.inbox_item(id).await? {
        ShowItem {
            envelope_id: r.envelope_id,
            direction: "received",
            sender: Some(labels::agency(node, &r.sender)),
            recipients: vec![labels::agency(node, node.id().as_str())],
            kind: labels::kind(&r.kind, lang),
            facts,
            consent_ended: r.consent_end_reason,
            payload: serde_json::from_str(&r.payload)?,
        }
    } else if let Some(r) = records.outbox_item(id).await? {
        let to: Vec<String> = serde_json::from_str(&r.recipients).unwrap_or_default();
        ShowItem {
            envelope_id: r.envelope_id,
            direction: "sent",
            sender: Some(labels::agency(node, node.id().as_str())),
            recipients: to.iter().map(|a| labels::agency(node, a)).collect(),
            kind: labels::kind(&r.kind, lang),
            facts,
            consent_ended: None,
            payload: serde_json::from_str(&r.payload)?,
        }
    } else {
        return Ok(None);
    };
    Ok(Some(item))
}

/// The facts staff need to act on a record: who, what, the case, the basis
/// and the consent (to withdraw it), the referral a reply answers.
fn show_header(item: &ShowItem, lang: Lang) {
    if item.direction == "received" {
        if let Some(s) = &item.sender {
            say!("{} {}", lang.pick("差出人:", "from:"), s.name);
        }
    } else {
        let to: Vec<&str> = item.recipients.iter().map(|a| a.name.as_str()).collect();
        say!("{} {}", lang.pick("宛先:", "to:"), to.join("、"));
    }
    say!(
        "{} {}",
        lang.pick("種別:", "kind:"),
        labels::kind_cell(&item.kind.name, item.facts.as_ref(), lang)
    );
    let Some(f) = &item.facts else { return };
    if let Some(case) = &f.case_id {
        say!("{} {case}", lang.pick("ケースID:", "case id:"));
    }
    if let Some(b) = &f.basis {
        say!("{} {}", lang.pick("根拠:", "basis:"), b.label);
        if let Some(c) = b.consent_id {
            say!("{} {c}", lang.pick("同意ID:", "consent id:"));
        }
    }
    if !f.categories.is_empty() {
        let cs: Vec<&str> = f.categories.iter().map(|c| c.label.as_str()).collect();
        say!(
            "{} {}",
            lang.pick("情報区分:", "categories:"),
            cs.join("・")
        );
    }
    if let Some(r) = &f.referral_update {
        say!(
            "{} {}（{} {}）",
            lang.pick("紹介:", "referral:"),
            r.referral,
            lang.pick("新しい状態:", "new state:"),
            r.state.label
        );
    }
}
