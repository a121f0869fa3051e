//! Staff commands for cases, consent, referral states and oversight:
//! `tsunagu agency case-open | consent-record | consent-withdraw |
//! referral-update | status | notices | disclosures`.

use std::path::PathBuf;

use crate::agency::{Draft, Node, NodeError, Sent};
use crate::i18n::Lang;
use crate::protocol::AgencyKind;
use crate::protocol::consent::{
    ConsentDecision, ConsentGiver, ConsentMethod, ConsentRecipient, ConsentScope,
};
use crate::protocol::payload::{Attachment, Author, Body, ConsentDetails, Note, Payload};
use crate::protocol::{
    Action, AgencyId, CaseId, ConsentId, EnvelopeId, InfoCategory, LegalBasis, Purpose,
    ReferralState, Timestamp, Urgency,
};
use anyhow::bail;
use clap::Args;

/// Staff name themselves on everything they write.
#[derive(Args)]
pub struct AuthorArgs {
    /// 記入者の氏名 / your name (staff name themselves)
    #[arg(long, env = "TSUNAGU_AUTHOR_NAME")]
    author_name: String,
    /// 記入者の職種 / your role, e.g. 保健師
    #[arg(long, env = "TSUNAGU_AUTHOR_ROLE")]
    author_role: String,
    /// 記入者の連絡先 / your contact
    #[arg(long, env = "TSUNAGU_AUTHOR_CONTACT")]
    author_contact: String,
}

impl AuthorArgs {
    pub fn author(&self) -> Author {
        Author {
            name: self.author_name.clone(),
            role: self.author_role.clone(),
            contact: self.author_contact.clone(),
        }
    }
}

/// The legal basis of a referral.
#[derive(Args)]
pub struct BasisArgs {
    /// 法的根拠 / legal basis
    #[arg(long, value_enum)]
    basis: BasisName,
    /// 根拠とする同意のID（--basis consent のとき） / the consent relied on (with --basis consent)
    #[arg(long, required_if_eq("basis", "consent"))]
    consent_id: Option<ConsentId>,
    /// 目的 / purpose
    #[arg(long, value_enum, default_value = "referral")]
    purpose: Purpose,
    /// 法令上の例外を用いる理由（同意以外の根拠では必須） / why a statutory exception applies (required unless consent)
    #[arg(long)]
    justification: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum BasisName {
    /// 本人同意
    Consent,
    /// 要対協での情報共有（児童福祉法第25条の3）
    YotaikyoSharing,
    /// 市町村への情報提供（児童福祉法第21条の10の5）
    ProvisionToMunicipality,
    /// 虐待通告（児童虐待防止法第6条）
    AbuseNotification,
    /// 生命・身体の保護（個人情報保護法第27条第1項第2号）
    VitalInterest,
}

impl BasisArgs {
    /// The basis, purpose and justification, or what is missing.
    pub fn resolve(&self, lang: Lang) -> anyhow::Result<(LegalBasis, Purpose, Option<String>)> {
        let basis = match (self.basis, self.consent_id) {
            (BasisName::Consent, Some(consent_id)) => LegalBasis::Consent { consent_id },
            (BasisName::Consent, None) => bail!(
                "{}",
                lang.pick(
                    "--consent で同意IDを指定してください",
                    "name the consent with --consent"
                )
            ),
            (BasisName::YotaikyoSharing, _) => LegalBasis::YotaikyoSharing,
            (BasisName::ProvisionToMunicipality, _) => LegalBasis::ProvisionToMunicipality,
            (BasisName::AbuseNotification, _) => LegalBasis::AbuseNotification,
            (BasisName::VitalInterest, _) => LegalBasis::VitalInterest,
        };
        let justification = self.justification.clone().filter(|j| !j.trim().is_empty());
        if basis.is_statutory() && justification.is_none() {
            bail!(
                "{}",
                lang.pick(
                    "法令上の例外を用いるときは --justification に理由を書いてください",
                    "a statutory basis needs a written reason in --justification"
                )
            );
        }
        Ok((basis, self.purpose, justification))
    }
}

#[derive(Args)]
pub struct ConsentRecordArgs {
    /// ケースID / case id
    #[arg(long)]
    case: CaseId,
    /// 同意の詳細を暗号化して送る機関（省略時はハブのみに範囲を記録） / agencies that receive the encrypted details
    #[arg(long, value_delimiter = ',')]
    to: Vec<AgencyId>,
    /// 提供先の機関ID / recipient agencies covered
    #[arg(long, value_delimiter = ',')]
    recipients: Vec<AgencyId>,
    /// 提供先の機関種別 / recipient kinds covered
    #[arg(long, value_delimiter = ',', value_enum)]
    recipient_kinds: Vec<AgencyKind>,
    /// 情報区分 / information categories covered
    #[arg(long, value_delimiter = ',', value_enum, required = true)]
    categories: Vec<InfoCategory>,
    /// 目的 / purposes covered
    #[arg(long, value_delimiter = ',', value_enum, default_value = "referral")]
    purposes: Vec<Purpose>,
    /// 同意した人 / who gave it
    #[arg(long, value_enum, default_value = "person")]
    given_by: ConsentGiver,
    /// その氏名 / their name (travels encrypted)
    #[arg(long)]
    given_by_name: String,
    /// 方法 / how
    #[arg(long, value_enum)]
    method: ConsentMethod,
    /// 結果 / decision
    #[arg(long, value_enum, default_value = "granted")]
    decision: ConsentDecision,
    /// 有効期限（RFC 3339 UTC） / valid until (RFC 3339 UTC)
    #[arg(long)]
    until: Option<Timestamp>,
    /// 同意書のスキャン（書面の場合） / scan of the signed form
    #[arg(long)]
    scan: Option<PathBuf>,
    /// メモ / note
    #[arg(long, default_value = "")]
    note: String,
}

fn payload(author: Author, body: Body) -> Payload {
    Payload {
        author,
        body,
        justification: None,
    }
}

fn action_draft(
    case: Option<CaseId>,
    to: Vec<AgencyId>,
    action: Action,
    payload: Payload,
) -> Draft {
    Draft {
        recipients: to,
        case_id: case,
        urgency: Urgency::Normal,
        basis: None,
        purpose: None,
        action: Some(action),
        payload,
    }
}

pub async fn consent_record(
    node: &Node,
    args: ConsentRecordArgs,
    author: Author,
    lang: Lang,
) -> anyhow::Result<()> {
    let mut recipients: Vec<ConsentRecipient> = args
        .recipients
        .into_iter()
        .map(ConsentRecipient::Agency)
        .collect();
    recipients.extend(args.recipient_kinds.into_iter().map(ConsentRecipient::Kind));
    let scan = match &args.scan {
        Some(path) => Some(Attachment {
            file_name: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            media_type: if path.extension().is_some_and(|e| e == "pdf") {
                "application/pdf"
            } else {
                "application/octet-stream"
            }
            .into(),
            bytes: std::fs::read(path)?,
        }),
        None => None,
    };
    let scope = ConsentScope {
        consent_id: ConsentId::new(),
        case_id: args.case.clone(),
        given_by: args.given_by,
        method: args.method,
        decision: args.decision,
        recipients,
        categories: args.categories,
        purposes: args.purposes,
        valid_from: Timestamp::now(),
        valid_until: args.until,
    };
    let consent_id = scope.consent_id;
    let details = ConsentDetails {
        given_by_name: args.given_by_name,
        note: args.note,
        scan,
    };
    let draft = action_draft(
        Some(args.case),
        args.to,
        Action::RecordConsent { scope },
        payload(author, Body::ConsentRecord(details)),
    );
    report(node.send(&draft).await, lang)?;
    println!("{} {consent_id}", lang.pick("同意ID:", "consent id:"));
    Ok(())
}

pub async fn consent_withdraw(
    node: &Node,
    case: CaseId,
    consent: ConsentId,
    text: String,
    author: Author,
    lang: Lang,
) -> anyhow::Result<()> {
    let body = Body::ConsentWithdrawal(Note {
        text,
        categories: vec![],
    });
    let to = crate::agency::withdrawal::concerned(node, &case, consent).await;
    let draft = action_draft(
        Some(case),
        to,
        Action::WithdrawConsent {
            consent_id: consent,
        },
        payload(author, body),
    );
    report(node.send(&draft).await, lang)
}

/// From a recipient: its own state, to the referral's sender. From the
/// sender: `cancelled`, to every recipient.
pub async fn referral_update(
    node: &Node,
    referral: EnvelopeId,
    state: ReferralState,
    text: String,
    author: Author,
    lang: Lang,
) -> anyhow::Result<()> {
    let to = if let Some(row) = node.records().inbox_item(referral).await? {
        vec![row.sender.parse()?]
    } else if let Some(row) = node.records().outbox_item(referral).await? {
        serde_json::from_str(&row.recipients)?
    } else {
        bail!(
            "{} {referral}",
            lang.pick(
                "この機関の記録にない紹介です:",
                "not a referral in this agency's records:"
            )
        );
    };
    let body = Body::ReferralUpdate(Note {
        text,
        categories: vec![],
    });
    let draft = action_draft(
        None,
        to,
        Action::UpdateReferral { referral, state },
        payload(author, body),
    );
    report(node.send(&draft).await, lang)
}

/// A refusal from the hub in the staff's language; anything else as is.
pub fn hub_error(e: NodeError, lang: Lang) -> anyhow::Error {
    match e {
        NodeError::Refused(body) => {
            anyhow::anyhow!("{}", lang.pick(&body.message, &body.message_en))
        }
        other => other.into(),
    }
}

pub async fn status(node: &Node, referral: EnvelopeId, lang: Lang) -> anyhow::Result<()> {
    let status = node
        .referral_status(referral)
        .await
        .map_err(|e| hub_error(e, lang))?;
    println!(
        "{} {} ({})",
        lang.pick("紹介:", "referral:"),
        status.referral,
        status.sender
    );
    for s in status.states {
        println!("  {}  {}", name(node, &s.agency), s.state.label(lang));
    }
    Ok(())
}

pub async fn notices(node: &Node, lang: Lang) -> anyhow::Result<()> {
    let notices = node.records().notices().await?;
    if notices.is_empty() {
        println!("{}", lang.pick("通知はありません。", "no notices."));
    }
    for (_, notice) in notices {
        println!("{}", notice.describe(lang));
    }
    Ok(())
}

pub async fn disclosures(node: &Node, case: CaseId, lang: Lang) -> anyhow::Result<()> {
    for d in node
        .disclosures(&case)
        .await
        .map_err(|e| hub_error(e, lang))?
    {
        let sender = d.sender.map(|s| name(node, &s)).unwrap_or_else(|| {
            lang.pick("（通告者は非開示）", "(notifier withheld)")
                .into()
        });
        let categories: Vec<&str> = d.categories.iter().map(|c| c.label(lang)).collect();
        let state = if d.cancelled {
            lang.pick("取消", "cancelled")
        } else if d.delivered_at.is_some() {
            lang.pick("受信済み", "delivered")
        } else {
            lang.pick("配信待ち", "queued")
        };
        println!(
            "{}  {sender} → {}  [{}]  {}  {state}",
            d.accepted_at,
            name(node, &d.recipient),
            categories.join(", "),
            d.basis.unwrap_or_default()
        );
    }
    Ok(())
}

/// The 調整機関 registers a case with the 要対協, reclassifies or closes it.
pub async fn case_update(
    node: &Node,
    case: CaseId,
    action: Action,
    text: String,
    to: Vec<AgencyId>,
    author: Author,
    lang: Lang,
) -> anyhow::Result<()> {
    let body = Body::CaseUpdate(Note {
        text,
        categories: vec![],
    });
    report(
        node.send(&action_draft(Some(case), to, action, payload(author, body)))
            .await,
        lang,
    )
}

/// Statutory-basis uses and reported violations (center and 調整機関).
pub async fn oversight(node: &Node, lang: Lang) -> anyhow::Result<()> {
    println!(
        "{}",
        lang.pick(
            "■ 法令上の例外による提供",
            "■ sharing under a statutory exception"
        )
    );
    for u in node
        .statutory_uses()
        .await
        .map_err(|e| hub_error(e, lang))?
    {
        let sender = u.sender.map(|s| name(node, &s)).unwrap_or_else(|| {
            lang.pick("（通告者は非開示）", "(notifier withheld)")
                .into()
        });
        let to: Vec<String> = u.recipients.iter().map(|r| name(node, r)).collect();
        println!(
            "{}  {}  {sender} → {}  {}",
            u.accepted_at,
            u.basis,
            to.join(", "),
            u.envelope_id
        );
    }
    println!(
        "{}",
        lang.pick("■ 申告外の情報区分の報告", "■ reported category violations")
    );
    for v in node.violations().await.map_err(|e| hub_error(e, lang))? {
        println!(
            "{}  {}  {}  {}",
            v.reported_at,
            name(node, &v.reported_by),
            v.envelope_id,
            v.detail
        );
    }
    Ok(())
}

fn name(node: &Node, id: &AgencyId) -> String {
    node.directory()
        .get(id)
        .map(|a| a.name.clone())
        .unwrap_or_else(|| id.to_string())
}

/// Print what the hub said; a refusal is an error with its message.
pub fn report(result: Result<Sent, NodeError>, lang: Lang) -> anyhow::Result<()> {
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
                    "まだハブに届いていないため送信待ちにしました。稼働中のノード（agency run）が順に送ります:",
                    "not yet taken by the hub; queued, and the running node (agency run) sends it in order:"
                )
            );
            Ok(())
        }
        Err(NodeError::Refused(body)) => bail!("{}", lang.pick(&body.message, &body.message_en)),
        Err(e) => Err(e.into()),
    }
}
