//! `tsunagu demo`: a hub and the five example agencies in one process,
//! playing one case from referral to case meeting and support plan,
//! narrated for a newcomer. Everything runs over real mutual TLS on
//! loopback; the hub's clock is moved forward where the story waits days.

mod casework;
mod serve_ui;

use crate::cli::output::say;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::agency::{AgencyConfig, Draft, Node, NodeError, NodeEvent, Sent};
use crate::directory::Directory;
use crate::fleet::{HubOptions, RunningHub, RunningNode};
use crate::i18n::Lang;
use crate::protocol::consent::{
    ConsentDecision, ConsentGiver, ConsentMethod, ConsentRecipient, ConsentScope,
};
use crate::protocol::payload::{Author, Body, ConsentDetails, Note, Payload};
use crate::protocol::referral::demo_referral;
use crate::protocol::referral_text::render;
use crate::protocol::{
    Action, AgencyId, ConsentId, Envelope, EnvelopeId, LegalBasis, MessageKind, Purpose,
    ReferralState, Timestamp, Urgency,
};
use crate::{provision, store};
use anyhow::{Context, bail};
use clap::Args;
use tokio::sync::broadcast;

#[derive(Args)]
pub struct DemoArgs {
    /// 例示用の証明書一式 / the example PKI
    #[arg(long, default_value = "certs-example")]
    certs: PathBuf,
    /// 物語を流さず、ハブと5機関のノードを起動したままにし、各ノードの職員用Web画面を開く（デモ職員の氏名・パスワード・TOTPシークレットを表示） / instead of the story, keep the hub and five nodes running, each serving its staff web UI (prints demo staff names, passwords and TOTP secrets)
    #[arg(long)]
    serve_ui: bool,
    /// --serve-ui: 最初の機関のWeb画面のポート（以降は +1、0 なら空きポート） / the first agency's UI port (the others follow; 0: any free port)
    #[arg(long, default_value_t = 8421, requires = "serve_ui")]
    ui_port: u16,
    /// --serve-ui: 接続先を JSON 1行で出力（スクリプト用） / print what is served as one JSON line, for scripts
    #[arg(long, requires = "serve_ui")]
    json: bool,
    /// --serve-ui: 操作がないままこの秒数でログアウト（試験用。既定は設定の15分） / sign staff out after this many idle seconds (for tests; default: the 15 minutes of the config)
    #[arg(long, requires = "serve_ui")]
    ui_idle_seconds: Option<u32>,
}

use casework::{CENTER, CLINIC, NURSERY, WELFARE};
/// Strings from the referral and the minutes that must never appear at the
/// hub.
const SECRETS: [&str; 4] = [
    "MARKER-PLAINTEXT-7f3a",
    "山田 花子",
    "やまだ はなこ",
    "パートナーは協力的",
];

pub fn run(args: DemoArgs, lang: Lang) -> anyhow::Result<()> {
    let certs = if args.certs.exists() {
        args.certs
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("certs-example")
    };
    let runtime = tokio::runtime::Runtime::new()?;
    if args.serve_ui {
        return runtime.block_on(serve_ui::serve(
            &certs,
            args.ui_port,
            args.ui_idle_seconds,
            args.json,
            lang,
        ));
    }
    runtime.block_on(play(&certs, lang))
}

struct Stage {
    step: u32,
    lang: Lang,
}

impl Stage {
    fn say(&mut self, ja: &str, en: &str) {
        self.step += 1;
        let mut lines = self.lang.pick(ja, en).lines();
        say!("\n[{}] {}", self.step, lines.next().unwrap_or_default());
        for line in lines {
            say!("    {line}");
        }
    }

    fn detail(&self, ja: &str, en: &str) {
        for line in self.lang.pick(ja, en).lines() {
            say!("    {line}");
        }
    }
}

async fn play(certs: &Path, lang: Lang) -> anyhow::Result<()> {
    let mut stage = Stage { step: 0, lang };
    let dir = tempfile::tempdir()?;
    say!(
        "{}",
        lang.pick(
            "tsunagu デモ — みなと市の母子支援ネットワーク（架空の人物・例示用の鍵を使用）",
            "tsunagu demo — the fictional city of Minato's maternal and child support network (example keys)"
        )
    );

    let directory =
        Directory::load(&certs.join("directory.toml")).context("certs-example/directory.toml")?;
    let db_url = store::testing::sqlite_url(dir.path(), "hub.db");
    // The story spans months: the hub runs on a clock the demo moves.
    let clock = Arc::new(crate::hub::clock::ManualClock::new());
    let options = HubOptions {
        clock: Some(clock.clone()),
        ..HubOptions::default()
    };
    let hub = RunningHub::start(certs, store::open(&db_url).await?, options).await?;
    let (url, hub_store) = (hub.url.clone(), hub.store.clone());
    stage.say(
        &format!("ハブを起動しました: {url}（一時データベース: SQLite）"),
        &format!("Hub started: {url} (temporary SQLite database)"),
    );

    let ids: Vec<AgencyId> = provision::EXAMPLE_AGENCIES
        .iter()
        .map(|(id, ..)| id.parse())
        .collect::<Result<_, _>>()?;
    let data = dir.path().join("agencies");
    let mut running = Vec::new();
    for id in &ids {
        running.push(RunningNode::open(&AgencyConfig::from_example(certs, id, &url, &data)).await?);
    }
    let nodes: Vec<Arc<Node>> = running.iter().map(|n| n.node.clone()).collect();
    let mut events: Vec<_> = nodes.iter().map(|n| n.subscribe()).collect();
    running.iter_mut().for_each(RunningNode::start);
    for e in &mut events {
        wait(e, |e| matches!(e, NodeEvent::Connected { .. })).await?;
    }
    stage.say(
        "5機関のノードが相互TLS（クライアント証明書）でハブに接続しました:",
        "Five agency nodes connected to the hub with mutual TLS (client certificates):",
    );
    for a in directory.agencies() {
        stage.detail(
            &format!("・{}（{}）", a.name, a.kind.label(Lang::Ja)),
            &format!("- {} ({})", a.name, a.kind.label(Lang::En)),
        );
    }

    let midwife = Author {
        name: "佐藤 美咲".into(),
        role: "助産師".into(),
        contact: "03-0000-0000 内線 12".into(),
    };
    let today = time::Date::from(crate::protocol::day::Day::today());
    let referral = demo_referral(today);
    referral
        .validate(today)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let categories_of_referral: Vec<_> = Body::Referral(Box::new(referral.clone()))
        .categories()
        .into_iter()
        .collect();

    let case = nodes[CLINIC].open_case().await?;
    stage.say(
        &format!("クリニックがケースを開設しました。ハブが発行したケースID: {case}（個人を特定する情報は含みません）"),
        &format!("The clinic opens a case; the hub issues its id: {case} (nothing in it identifies her)"),
    );
    let scope = ConsentScope {
        consent_id: ConsentId::new(),
        case_id: case.clone(),
        given_by: ConsentGiver::Person,
        method: ConsentMethod::Oral,
        decision: ConsentDecision::Granted,
        recipients: vec![
            ConsentRecipient::Agency(ids[CENTER].clone()),
            ConsentRecipient::Agency(ids[WELFARE].clone()),
        ],
        categories: categories_of_referral.clone(),
        purposes: vec![
            Purpose::Referral,
            Purpose::CaseMeeting,
            Purpose::SupportPlan,
        ],
        valid_from: Timestamp::now(),
        valid_until: None,
    };
    let consent_id = scope.consent_id;
    let consent = Draft {
        recipients: vec![ids[CENTER].clone()],
        case_id: Some(case.clone()),
        urgency: Urgency::Normal,
        basis: None,
        purpose: None,
        action: Some(Action::RecordConsent { scope }),
        payload: Payload {
            author: midwife.clone(),
            body: Body::ConsentRecord(ConsentDetails {
                given_by_name: "山田 花子".into(),
                note:
                    "センターと子ども家庭総合支援拠点への情報提供について口頭で説明し、同意を得た"
                        .into(),
                scan: None,
            }),
            justification: None,
        },
    };
    accepted(nodes[CLINIC].send(&consent).await?)?;
    let labels: Vec<&str> = categories_of_referral
        .iter()
        .map(|c| c.label(lang))
        .collect();
    stage.say(
        "助産師が本人に説明し、口頭で同意を得て記録しました（範囲はハブが平文で保持し、詳細は暗号化）:",
        "The midwife explains and records her oral consent (the hub keeps the scope in clear; the details travel encrypted):",
    );
    stage.detail(
        &format!(
            "提供先: センター、子ども家庭総合支援拠点 ／ 目的: 紹介・ケース会議・支援プラン ／ 情報区分: {}",
            labels.join("、")
        ),
        &format!(
            "to: the center and child welfare / purposes: referral, case meeting, support plan / categories: {}",
            labels.join(", ")
        ),
    );

    let draft = Draft {
        recipients: vec![ids[CENTER].clone(), ids[WELFARE].clone()],
        case_id: Some(case.clone()),
        urgency: Urgency::Early,
        basis: Some(LegalBasis::Consent { consent_id }),
        purpose: Some(Purpose::Referral),
        action: None,
        payload: Payload {
            author: midwife.clone(),
            body: Body::Referral(Box::new(referral)),
            justification: None,
        },
    };
    let categories: Vec<&str> = draft
        .payload
        .body
        .categories()
        .into_iter()
        .map(|c| c.label(lang))
        .collect();
    stage.say(
        "さくらレディースクリニックの助産師 佐藤 美咲 が連絡票（ハイリスク妊産婦）を作成:",
        "Sakura clinic's midwife, Misaki Sato, writes a high-risk pregnancy referral:",
    );
    stage.detail(
        "19歳・初産・妊娠12週で初診（それまで未受診）・EPDS 11点・身近な支援者なし",
        "19 years old, first pregnancy, first seen at 12 weeks (unbooked until now), EPDS 11, no support at home",
    );
    stage.detail(
        "宛先: こども家庭センター、子ども家庭総合支援拠点 ／ 緊急度: 早期 ／ 根拠: 本人同意 ／ 入力チェック: OK",
        "To: the center and child welfare / urgency: early / basis: consent / form validation: OK",
    );
    stage.detail(
        &format!("情報区分: {}", categories.join("、")),
        &format!("information categories: {}", categories.join(", ")),
    );

    let started = Instant::now();
    let id = match nodes[CLINIC].send(&draft).await? {
        Sent::Accepted { id, .. } => id,
        Sent::Queued { reason, .. } => bail!("the hub did not accept the referral: {reason}"),
    };
    let accepted_ms = started.elapsed().as_secs_f64() * 1000.0;
    stage.say(
        &format!("age で暗号化（宛先2機関＋送信元の鍵）し Ed25519 で署名して送信。ハブは保存を確定してから受理を返しました（{accepted_ms:.1} ms）"),
        &format!("Encrypted with age (to both recipients and the sender), signed with Ed25519, sent. The hub committed it before answering 'accepted' ({accepted_ms:.1} ms)"),
    );
    stage.detail(
        &format!("エンベロープID: {id}"),
        &format!("envelope id: {id}"),
    );

    stage.say(
        "受信した機関: 署名を検証 → 復号 → 自機関の記録に保存 → 受領確認（ack）",
        "Recipients: verify the signature → decrypt → store in their own records → acknowledge",
    );
    for who in [CENTER, WELFARE] {
        wait_stored(&mut events[who], id).await?;
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        let name = &directory
            .get(&ids[who])
            .map(|a| a.name.clone())
            .unwrap_or_default();
        stage.detail(
            &format!("✔ {name}: 保存・受領確認済み（送信から {ms:.1} ms）"),
            &format!("✔ {name}: stored and acknowledged ({ms:.1} ms after sending)"),
        );
    }

    let mut to_nursery = draft.clone();
    to_nursery.recipients = vec![ids[NURSERY].clone()];
    match nodes[CLINIC].send(&to_nursery).await {
        Err(NodeError::Refused(body)) => {
            // What staff would read: the nursery by name, and the next step.
            let refusal = super::labels::refusal(&directory, &body, lang);
            stage.say(
                &format!(
                    "同じ連絡票を保育園にも送ろうとすると、同意の範囲外なのでハブが拒否し、何も保存しません: {refusal}"
                ),
                &format!(
                    "Sending the same referral to the nursery too is outside the consent: the hub refuses and stores nothing: {refusal}"
                ),
            )
        }
        other => bail!("the hub should have refused the nursery: {other:?}"),
    }
    close_the_loop(&mut stage, &nodes, &mut events, id).await?;
    show_hub_view(&mut stage, hub_store.as_ref(), id).await?;
    let record = nodes[CENTER].disclosures(&case).await?;
    stage.say(
        "「誰が私のことを知っているの？」— ケースの提供記録（ハブのメタデータのみ）:",
        "\"Who knows about me?\" — the case's disclosure record (hub metadata only):",
    );
    for d in &record {
        let who = directory
            .get(&d.recipient)
            .map(|a| a.name.clone())
            .unwrap_or_default();
        let categories: Vec<&str> = d.categories.iter().map(|c| c.label(lang)).collect();
        let kind = MessageKind::parse(&d.kind).map_or(d.kind.as_str(), |k| k.label(lang));
        let basis = d.basis.as_deref().map_or_else(
            || "—".to_owned(),
            |b| super::labels::basis_name(b, lang).label,
        );
        stage.detail(
            &format!("{who}: {kind} ／ {} ／ 根拠 {basis}", categories.join("、")),
            &format!("{who}: {kind} / {} / basis {basis}", categories.join(", ")),
        );
    }

    let nursery_inbox = nodes[NURSERY].records().inbox().await?;
    stage.say(
        &format!(
            "ひかり保育園は宛先ではありません: 受信箱 {} 件",
            nursery_inbox.len()
        ),
        &format!(
            "Hikari nursery is not a recipient: {} messages in its inbox",
            nursery_inbox.len()
        ),
    );
    if !nursery_inbox.is_empty() {
        bail!("the nursery received something it should not have");
    }

    let row = nodes[CENTER]
        .records()
        .inbox_item(id)
        .await?
        .context("center record")?;
    let payload: Payload = serde_json::from_str(&row.payload)?;
    stage.say(
        "センターの保健師が自機関の記録で見る連絡票（復号済み・抜粋）:",
        "What the center's public health nurse sees in the center's own records (decrypted, excerpt):",
    );
    let Body::Referral(referral) = &payload.body else {
        bail!("the center holds something else under the referral id");
    };
    for line in render(referral, lang).lines().take(14) {
        say!("      {line}");
    }
    say!("      …");

    let mut cast = casework::Cast {
        hub: &hub,
        clock,
        nodes: &nodes,
        events: &mut events,
        ids: &ids,
        directory: &directory,
        lang,
    };
    casework::play(&mut stage, &mut cast, &case, consent_id).await?;

    drop(nodes);
    for node in running {
        node.stop().await;
    }
    hub.stop().await?;
    let hits = files_containing(dir.path(), &SECRETS);
    stage.say(
        &format!("停止後、ハブのデータベースファイルを氏名・ふりがな・所見の文字列で検索: {hits} 件"),
        &format!("After shutdown, the hub's database files searched for the name, furigana and findings: {hits} hits"),
    );
    if hits > 0 {
        bail!("plaintext found in the hub's files");
    }
    say!("\n{}", lang.pick("デモ完了。", "Demo complete."));
    Ok(())
}

fn accepted(sent: Sent) -> anyhow::Result<EnvelopeId> {
    match sent {
        Sent::Accepted { id, .. } => Ok(id),
        Sent::Queued { reason, .. } => bail!("the hub did not accept: {reason}"),
    }
}

/// The center's 保健師 acknowledges (受理), takes it on, and replies with the
/// outcome (返信); the clinic sees each step as it happens.
async fn close_the_loop(
    stage: &mut Stage,
    nodes: &[Arc<Node>],
    events: &mut [broadcast::Receiver<NodeEvent>],
    referral: EnvelopeId,
) -> anyhow::Result<()> {
    let nurse = Author {
        name: "高橋 由紀".into(),
        role: "保健師".into(),
        contact: "こども家庭センター 内線 301".into(),
    };
    let steps = [
        (
            ReferralState::Received,
            "受理しました。担当: 保健師 高橋",
            "受理（担当 保健師 高橋）",
            "received (public health nurse Takahashi)",
        ),
        (
            ReferralState::Accepted,
            "今週中に家庭訪問します",
            "対応決定",
            "accepted",
        ),
        (
            ReferralState::Completed,
            "家庭訪問を実施。特定妊婦として要対協に諮り、支援プランを作成します",
            "返信（家庭訪問を実施し、支援プラン作成へ）",
            "completed: visited at home; support plan to follow",
        ),
    ];
    stage.say("センターが対応状況を返し、ループが閉じます（各段階は署名付きの暗号化メッセージ）:", "The center replies with each state and the loop closes (each a signed, encrypted message):");
    for (state, text, ja, en) in steps {
        let draft = Draft {
            recipients: vec![nodes[CLINIC].id().clone()],
            case_id: None,
            urgency: Urgency::Normal,
            basis: None,
            purpose: None,
            action: Some(Action::UpdateReferral { referral, state }),
            payload: Payload {
                author: nurse.clone(),
                body: Body::ReferralUpdate(Note {
                    text: text.into(),
                    categories: vec![],
                }),
                justification: None,
            },
        };
        let update = accepted(nodes[CENTER].send(&draft).await?)?;
        wait_stored(&mut events[CLINIC], update).await?;
        stage.detail(
            &format!("→ クリニックに届きました: {ja}"),
            &format!("→ reached the clinic: {en}"),
        );
    }
    let status = nodes[CLINIC].referral_status(referral).await?;
    stage.detail(
        "クリニックから見た宛先ごとの状況:",
        "what the clinic sees, per recipient:",
    );
    for s in status.states {
        let name = nodes
            .iter()
            .find(|n| n.id() == &s.agency)
            .and_then(|n| n.directory().get(&s.agency))
            .map(|a| a.name.clone())
            .unwrap_or_default();
        stage.detail(
            &format!("  {name}: {}", s.state.label(Lang::Ja)),
            &format!("  {name}: {}", s.state.label(Lang::En)),
        );
    }
    Ok(())
}

async fn show_hub_view(
    stage: &mut Stage,
    hub: &dyn store::HubStore,
    id: EnvelopeId,
) -> anyhow::Result<()> {
    let body = hub
        .envelope_body(id)
        .await?
        .context("the hub lost the envelope")?;
    let envelope = Envelope::parse(body)?;
    let m = envelope.meta();
    let recipients: Vec<&str> = m.recipients.iter().map(|r| r.as_str()).collect();
    stage.say(
        "ハブが保持しているもの（経路と法的根拠の確認に必要なメタデータと暗号文のみ）:",
        "What the hub holds (only routing metadata and ciphertext):",
    );
    stage.detail(
        &format!(
            "送信元: {} ／ 宛先: {} ／ 種別: {} ／ 緊急度: {}",
            m.sender,
            recipients.join(", "),
            m.kind.as_str(),
            m.urgency.as_str()
        ),
        &format!(
            "sender: {} / recipients: {} / kind: {} / urgency: {}",
            m.sender,
            recipients.join(", "),
            m.kind.as_str(),
            m.urgency.as_str()
        ),
    );
    let ciphertext = envelope.ciphertext();
    let header =
        String::from_utf8_lossy(&ciphertext[..ciphertext.len().min(60)]).replace('\n', "⏎");
    stage.detail(
        &format!("暗号文 {} バイト: {header}…", ciphertext.len()),
        &format!("ciphertext, {} bytes: {header}…", ciphertext.len()),
    );
    let leaks = SECRETS
        .iter()
        // The metadata travels as base64: look in its decoded JSON too.
        .filter(|s| {
            contains(envelope.bytes(), s.as_bytes()) || contains(envelope.meta_json(), s.as_bytes())
        })
        .count();
    stage.detail(
        &format!("保存内容に氏名・所見の文字列: {leaks} 件"),
        &format!("name or findings in what it stored: {leaks} hits"),
    );
    Ok(())
}

async fn wait(
    events: &mut broadcast::Receiver<NodeEvent>,
    pred: impl Fn(&NodeEvent) -> bool,
) -> anyhow::Result<NodeEvent> {
    tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let event = events.recv().await?;
            if pred(&event) {
                return Ok(event);
            }
        }
    })
    .await
    .context("timed out")?
}

async fn wait_stored(
    events: &mut broadcast::Receiver<NodeEvent>,
    id: EnvelopeId,
) -> anyhow::Result<()> {
    wait(
        events,
        |e| matches!(e, NodeEvent::Stored { envelope_id, .. } if *envelope_id == id),
    )
    .await?;
    Ok(())
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// How many of the hub's files (not the agencies') contain any secret.
fn files_containing(dir: &Path, secrets: &[&str]) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .filter(|p| {
            let bytes = std::fs::read(p).unwrap_or_default();
            secrets.iter().any(|s| contains(&bytes, s.as_bytes()))
        })
        .count()
}
