//! Staff commands for cases, consent, referral states and oversight:
//! `tsunagu agency case-open | consent-record | consent-withdraw |
//! referral-update | status | notices | disclosures`.

use super::labels;
use super::output::{self, say};
use super::table::Table;
use std::path::PathBuf;

use crate::agency::consents::{ConsentRequest, withdrawal_draft};
use crate::agency::{Draft, Node, NodeError, Sent};
use crate::i18n::Lang;
use crate::protocol::AgencyKind;
use crate::protocol::attachment;
use crate::protocol::consent::{ConsentDecision, ConsentGiver, ConsentMethod, ConsentRecipient};
use crate::protocol::payload::{Author, Body, Note, Payload};
use crate::protocol::{
    Action, AgencyId, CaseId, ConsentId, EnvelopeId, InfoCategory, LegalBasis, Notice, Purpose,
    ReferralState, Timestamp, Urgency,
};
use anyhow::bail;
use clap::Args;
use serde::Serialize;

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

/// The legal basis of an exchange, with the reason a statutory one needs.
/// Meetings and plans take only this: their purpose is fixed.
#[derive(Args)]
pub struct BasisArgs {
    /// 法的根拠 / legal basis
    #[arg(long, value_enum)]
    basis: BasisName,
    /// 根拠とする同意のID（--basis consent のとき） / the consent relied on (with --basis consent)
    #[arg(long, required_if_eq("basis", "consent"))]
    consent_id: Option<ConsentId>,
    /// 法令上の例外を用いる理由（同意以外の根拠では必須） / why a statutory exception applies (required unless consent)
    #[arg(long)]
    justification: Option<String>,
}

/// The basis and what the information is shared for (referrals, notes).
#[derive(Args)]
pub struct SharingArgs {
    #[command(flatten)]
    pub basis: BasisArgs,
    /// 目的 / purpose
    #[arg(long, value_enum, default_value = "referral")]
    pub purpose: Purpose,
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
    /// The basis and its justification, or what is missing.
    pub fn resolve(&self, lang: Lang) -> anyhow::Result<(LegalBasis, Option<String>)> {
        let basis = match (self.basis, self.consent_id) {
            (BasisName::Consent, Some(consent_id)) => LegalBasis::Consent { consent_id },
            (BasisName::Consent, None) => bail!(
                "{}",
                lang.pick(
                    "--consent-id で同意IDを指定してください（agency consent-record が表示した同意ID）",
                    "name the consent with --consent-id (the id agency consent-record printed)"
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
        Ok((basis, justification))
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
    out: Out,
) -> anyhow::Result<()> {
    let mut recipients: Vec<ConsentRecipient> = args
        .recipients
        .into_iter()
        .map(ConsentRecipient::Agency)
        .collect();
    recipients.extend(args.recipient_kinds.into_iter().map(ConsentRecipient::Kind));
    let scan = match &args.scan {
        Some(path) => Some(attachment::attach(
            &path.file_name().unwrap_or_default().to_string_lossy(),
            std::fs::read(path)?,
        )?),
        None => None,
    };
    let request = ConsentRequest {
        case: args.case,
        to: args.to,
        recipients,
        categories: args.categories,
        purposes: args.purposes,
        given_by: args.given_by,
        given_by_name: args.given_by_name,
        method: args.method,
        decision: args.decision,
        valid_until: args.until,
        scan,
        note: args.note,
    };
    let (scope, draft) = request.draft(author);
    out.sent(
        node,
        node.send(&draft).await,
        Some(scope.case_id),
        Some(scope.consent_id),
    )
}

pub async fn consent_withdraw(
    node: &Node,
    case: CaseId,
    consent: ConsentId,
    text: String,
    author: Author,
    out: Out,
) -> anyhow::Result<()> {
    let draft = withdrawal_draft(node, case.clone(), consent, text, author).await;
    out.sent(node, node.send(&draft).await, Some(case), Some(consent))
}

/// From a recipient: its own state, to the referral's sender. From the
/// sender: `cancelled`, to every recipient.
pub async fn referral_update(
    node: &Node,
    referral: EnvelopeId,
    state: ReferralState,
    text: String,
    author: Author,
    out: Out,
) -> anyhow::Result<()> {
    let draft =
        crate::agency::referral_update::referral_update_draft(node, referral, state, text, author)
            .await
            .map_err(|e| match e {
                crate::agency::referral_update::UpdateDraftError::NotFound(_) => anyhow::anyhow!(
                    "{} {referral}",
                    out.lang.pick(
                        "この機関の記録にない紹介です:",
                        "not a referral in this agency's records:"
                    )
                ),
                other => other.into(),
            })?;
    out.sent(node, node.send(&draft).await, None, None)
}

/// A refusal from the hub in the staff's language; anything else as is.
pub fn hub_error(node: &Node, e: NodeError, lang: Lang) -> anyhow::Error {
    match e {
        NodeError::Refused(body) => {
            anyhow::anyhow!("{}", labels::refusal(node.directory(), &body, lang))
        }
        other => other.into(),
    }
}

/// A referral's state at one recipient.
#[derive(Serialize)]
struct StateRow {
    agency: labels::AgencyRef,
    state: labels::Labeled,
}

pub async fn status(node: &Node, referral: EnvelopeId, out: Out) -> anyhow::Result<()> {
    let lang = out.lang;
    let status = node
        .referral_status(referral)
        .await
        .map_err(|e| hub_error(node, e, lang))?;
    let sender = labels::agency(node, status.sender.as_str());
    let states: Vec<StateRow> = status
        .states
        .iter()
        .map(|s| StateRow {
            agency: labels::agency(node, s.agency.as_str()),
            state: labels::state(s.state, lang),
        })
        .collect();
    if out.json {
        return output::json(&serde_json::json!({
            "referral": status.referral,
            "sender": sender,
            "states": states,
        }));
    }
    say!(
        "{} {}（{} {}）",
        lang.pick("紹介:", "referral:"),
        status.referral,
        lang.pick("送信元", "from"),
        sender.name
    );
    let mut table = Table::new(&[lang.pick("宛先", "recipient"), lang.pick("状態", "state")]);
    for s in states {
        table.row(vec![s.agency.name, s.state.label]);
    }
    table.print();
    Ok(())
}

/// A notice, for scripts: its wire form and the line staff read.
#[derive(Serialize)]
struct NoticeRow {
    #[serde(flatten)]
    notice: Notice,
    description: String,
}

pub async fn notices(node: &Node, out: Out) -> anyhow::Result<()> {
    let lang = out.lang;
    let notices = node.records().notices().await?;
    if out.json {
        let rows: Vec<NoticeRow> = notices
            .into_iter()
            .map(|(_, notice)| NoticeRow {
                description: labels::named(node.directory(), &notice.describe(lang)),
                notice,
            })
            .collect();
        return output::json(&rows);
    }
    if notices.is_empty() {
        say!("{}", lang.pick("通知はありません。", "no notices."));
    }
    for (_, notice) in notices {
        say!(
            "{}",
            labels::named(node.directory(), &notice.describe(lang))
        );
    }
    Ok(())
}

/// One disclosure: who told whom what, under which basis, and where it stands.
#[derive(Serialize)]
struct DisclosureRow {
    envelope_id: EnvelopeId,
    accepted_at: Timestamp,
    /// Absent when the notifier is protected (児童虐待防止法第7条).
    sender: Option<labels::AgencyRef>,
    recipient: labels::AgencyRef,
    kind: labels::Labeled,
    categories: Vec<labels::Labeled>,
    #[serde(skip)]
    raw_categories: Vec<InfoCategory>,
    basis: Option<labels::Labeled>,
    /// `delivered`, `queued` or `cancelled`.
    state: labels::Labeled,
    delivered_at: Option<Timestamp>,
}

pub async fn disclosures(node: &Node, case: CaseId, out: Out) -> anyhow::Result<()> {
    let lang = out.lang;
    let rows: Vec<DisclosureRow> = node
        .disclosures(&case)
        .await
        .map_err(|e| hub_error(node, e, lang))?
        .into_iter()
        .map(|d| {
            let state = if d.cancelled {
                labels::Labeled::new("cancelled", lang.pick("取消", "cancelled"))
            } else if d.delivered_at.is_some() {
                labels::Labeled::new("delivered", lang.pick("受信済み", "delivered"))
            } else {
                labels::Labeled::new("queued", lang.pick("配信待ち", "queued"))
            };
            DisclosureRow {
                envelope_id: d.envelope_id,
                accepted_at: d.accepted_at,
                sender: d.sender.map(|s| labels::agency(node, s.as_str())),
                recipient: labels::agency(node, d.recipient.as_str()),
                kind: labels::kind(&d.kind, lang),
                categories: d
                    .categories
                    .iter()
                    .map(|c| labels::category(*c, lang))
                    .collect(),
                raw_categories: d.categories,
                basis: d.basis.as_deref().map(|b| labels::basis_name(b, lang)),
                state,
                delivered_at: d.delivered_at,
            }
        })
        .collect();
    if out.json {
        return output::json(&rows);
    }
    if rows.is_empty() {
        say!("{}", lang.pick("提供記録はありません。", "no disclosures."));
        return Ok(());
    }
    let mut table = Table::new(&[
        lang.pick("提供日時", "when"),
        lang.pick("提供元", "from"),
        lang.pick("提供先", "to"),
        lang.pick("種別", "kind"),
        lang.pick("情報区分", "categories"),
        lang.pick("根拠", "basis"),
        lang.pick("状態", "state"),
    ]);
    for d in rows {
        table.row(vec![
            d.accepted_at.to_string(),
            d.sender.map(|s| s.name).unwrap_or_else(|| withheld(lang)),
            d.recipient.name,
            d.kind.label,
            labels::categories_cell(&d.raw_categories, lang),
            d.basis
                .map(|b| short(&b.label))
                .unwrap_or_else(|| "—".into()),
            d.state.label,
        ]);
    }
    table.print();
    Ok(())
}

fn withheld(lang: Lang) -> String {
    lang.pick("（通告者は非開示）", "(notifier withheld)")
        .into()
}

/// A statutory label without its article, for a table cell.
fn short(label: &str) -> String {
    label
        .split(['（', '('])
        .next()
        .unwrap_or(label)
        .trim()
        .to_owned()
}

/// The 調整機関 registers a case with the 要対協, reclassifies or closes it.
pub async fn case_update(
    node: &Node,
    case: CaseId,
    action: Action,
    text: String,
    to: Vec<AgencyId>,
    author: Author,
    out: Out,
) -> anyhow::Result<()> {
    let body = Body::CaseUpdate(Note {
        text,
        categories: vec![],
    });
    let draft = action_draft(Some(case.clone()), to, action, payload(author, body));
    out.sent(node, node.send(&draft).await, Some(case), None)
}

/// A use of a statutory exception, for oversight.
#[derive(Serialize)]
struct StatutoryRow {
    envelope_id: EnvelopeId,
    accepted_at: Timestamp,
    sender: Option<labels::AgencyRef>,
    recipients: Vec<labels::AgencyRef>,
    case_id: Option<CaseId>,
    basis: labels::Labeled,
    categories: Vec<labels::Labeled>,
    urgency: labels::Labeled,
}

/// A recipient's report that content went beyond its declared categories.
#[derive(Serialize)]
struct ViolationRow {
    envelope_id: EnvelopeId,
    reported_at: Timestamp,
    reported_by: labels::AgencyRef,
    detail: serde_json::Value,
}

/// Statutory-basis uses and reported violations (center and 調整機関).
/// Both are fetched before anything is printed, so a refusal prints no heading.
pub async fn oversight(node: &Node, out: Out) -> anyhow::Result<()> {
    let lang = out.lang;
    let uses = node
        .statutory_uses()
        .await
        .map_err(|e| hub_error(node, e, lang))?;
    let violations = node
        .violations()
        .await
        .map_err(|e| hub_error(node, e, lang))?;
    let uses: Vec<StatutoryRow> = uses
        .into_iter()
        .map(|u| StatutoryRow {
            envelope_id: u.envelope_id,
            accepted_at: u.accepted_at,
            sender: u.sender.map(|s| labels::agency(node, s.as_str())),
            recipients: u
                .recipients
                .iter()
                .map(|r| labels::agency(node, r.as_str()))
                .collect(),
            case_id: u.case_id,
            basis: labels::basis_name(&u.basis, lang),
            categories: u
                .categories
                .iter()
                .map(|c| labels::category(*c, lang))
                .collect(),
            urgency: labels::urgency(u.urgency.as_str(), lang),
        })
        .collect();
    let violations: Vec<ViolationRow> = violations
        .into_iter()
        .map(|v| ViolationRow {
            envelope_id: v.envelope_id,
            reported_at: v.reported_at,
            reported_by: labels::agency(node, v.reported_by.as_str()),
            detail: v.detail,
        })
        .collect();
    if out.json {
        return output::json(&serde_json::json!({
            "statutory_uses": uses,
            "violations": violations,
        }));
    }
    say!(
        "{}",
        lang.pick(
            "■ 法令上の例外による提供",
            "■ sharing under a statutory exception"
        )
    );
    let mut table = Table::new(&[
        lang.pick("提供日時", "when"),
        lang.pick("根拠", "basis"),
        lang.pick("提供元", "from"),
        lang.pick("提供先", "to"),
        lang.pick("ケースID", "case"),
        lang.pick("エンベロープID", "envelope id"),
    ]);
    for u in uses {
        let to: Vec<String> = u.recipients.into_iter().map(|r| r.name).collect();
        table.row(vec![
            u.accepted_at.to_string(),
            short(&u.basis.label),
            u.sender.map(|s| s.name).unwrap_or_else(|| withheld(lang)),
            to.join("、"),
            u.case_id
                .map(|c| c.to_string())
                .unwrap_or_else(|| "—".into()),
            u.envelope_id.to_string(),
        ]);
    }
    print_or_none(&table, lang);
    say!(
        "{}",
        lang.pick("■ 申告外の情報区分の報告", "■ reported category violations")
    );
    let mut table = Table::new(&[
        lang.pick("報告日時", "reported"),
        lang.pick("報告機関", "by"),
        lang.pick("エンベロープID", "envelope id"),
        lang.pick("内容", "detail"),
    ]);
    for v in violations {
        table.row(vec![
            v.reported_at.to_string(),
            v.reported_by.name,
            v.envelope_id.to_string(),
            v.detail.to_string(),
        ]);
    }
    print_or_none(&table, lang);
    Ok(())
}

fn print_or_none(table: &Table, lang: Lang) {
    if table.is_empty() {
        say!("  {}", lang.pick("なし", "none"));
    } else {
        table.print();
    }
}

/// How a command prints: the staff's language, or JSON for scripts.
#[derive(Clone, Copy)]
pub struct Out {
    pub lang: Lang,
    pub json: bool,
}

/// What a sending command tells a script.
#[derive(Serialize)]
pub struct SendResult {
    pub envelope_id: EnvelopeId,
    /// `stored` (committed by the hub) or `queued` (the running node sends it).
    pub status: &'static str,
    pub case_id: Option<CaseId>,
    pub consent_id: Option<ConsentId>,
    pub detail: Option<String>,
}

impl Out {
    /// Print what the hub said, with the ids staff need next (the case, the
    /// consent); a refusal is an error naming agencies and the next step.
    pub fn sent(
        self,
        node: &Node,
        result: Result<Sent, NodeError>,
        case_id: Option<CaseId>,
        consent_id: Option<ConsentId>,
    ) -> anyhow::Result<()> {
        let lang = self.lang;
        let (envelope_id, status, detail) = match result {
            Ok(Sent::Accepted { id, .. }) => (id, "stored", None),
            Ok(Sent::Queued { id, reason }) => (id, "queued", Some(reason.to_string())),
            Err(e) => return Err(hub_error(node, e, lang)),
        };
        if self.json {
            return output::json(&SendResult {
                envelope_id,
                status,
                case_id,
                consent_id,
                detail,
            });
        }
        match detail {
            None => say!(
                "{} {envelope_id}",
                lang.pick(
                    "送信しました（ハブが保存済み）:",
                    "sent (stored by the hub):"
                )
            ),
            Some(reason) => say!(
                "{} {envelope_id}\n  ({reason})",
                lang.pick(
                    "まだハブに届いていないため送信待ちにしました。稼働中のノード（agency run）が順に送ります:",
                    "not yet taken by the hub; queued, and the running node (agency run) sends it in order:"
                )
            ),
        }
        if let Some(case) = case_id {
            say!("{} {case}", lang.pick("ケースID:", "case id:"));
        }
        if let Some(consent) = consent_id {
            say!("{} {consent}", lang.pick("同意ID:", "consent id:"));
        }
        Ok(())
    }
}
