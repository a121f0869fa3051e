//! The case view: the cases this node holds (`GET /cases`, and
//! `POST /cases` to open one), and one case (`GET /cases/{id}`): a single
//! timeline of everything this node holds about it — referrals and their
//! updates, consents and withdrawals, notes, meetings and minutes, plan
//! versions, the hub's notices — each linking to its record, and the
//! disclosure record the hub keeps ("who received what, on which basis").
//! Meetings, plans and consents are read through the agency layer's folds,
//! never re-derived here. Viewing a case is written to the access log.

use std::collections::BTreeSet;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use serde::Deserialize;

use super::UiState;
use super::auth::SignedIn;
use super::consents::{Shown, agency_name, show};
use super::error::PageError;
use super::inbox::local_time;
use super::lang::{Chrome, PageLang};
use crate::agency::meetings::{self, HeldMinutes, MeetingView};
use crate::agency::plans::{self, HeldVersion};
use crate::agency::staff::Viewed;
use crate::agency::{Node, NodeError, consents};
use crate::i18n::Lang;
use crate::protocol::api::Disclosure;
use crate::protocol::notice::ConsentEnd;
use crate::protocol::payload::{Body, Payload};
use crate::protocol::{
    Action, AgencyId, CaseId, Envelope, EnvelopeId, ErrorBody, LegalBasis, MessageKind, Notice,
    Timestamp, Urgency,
};
use crate::store::records::CaseRecord;

pub fn routes() -> Router<UiState> {
    Router::new()
        .route("/cases", get(list).post(open))
        .route("/cases/{id}", get(case))
}

/// A case in the list.
pub struct CaseItem {
    pub id: String,
    pub last_at: String,
    pub last_kind: String,
    pub records: i64,
}

#[derive(Template)]
#[template(path = "ui/cases.html")]
struct ListPage {
    chrome: Chrome,
    cases: Vec<CaseItem>,
    /// Why a case could not be opened.
    refusal: Option<String>,
}

async fn list_page(
    state: &UiState,
    signed: &SignedIn,
    lang: Lang,
    refusal: Option<String>,
) -> Result<Html<String>, PageError> {
    let cases = state
        .node
        .records()
        .cases()
        .await?
        .into_iter()
        .map(|c| CaseItem {
            id: c.case_id,
            last_at: local_time(c.last_at),
            last_kind: MessageKind::parse(&c.last_kind)
                .map_or(c.last_kind.clone(), |k| k.label(lang).to_owned()),
            records: c.records,
        })
        .collect();
    let page = ListPage {
        chrome: signed.chrome(lang),
        cases,
        refusal,
    };
    Ok(Html(page.render()?))
}

/// The cases this node holds, latest activity first.
pub async fn list(
    State(state): State<UiState>,
    signed: SignedIn,
    PageLang(lang): PageLang,
) -> Result<Html<String>, PageError> {
    list_page(&state, &signed, lang, None).await
}

#[derive(Deserialize)]
pub struct OpenForm {
    #[serde(default)]
    csrf: String,
}

/// Open a case at the hub (a new id, nothing about her in it), then record
/// her consent for it: the first thing done about a new case.
#[tracing::instrument(skip_all)]
pub async fn open(
    State(state): State<UiState>,
    signed: SignedIn,
    PageLang(lang): PageLang,
    Form(f): Form<OpenForm>,
) -> Result<Response, PageError> {
    signed.check_csrf(&f.csrf)?;
    match state.node.open_case().await {
        Ok(case) => Ok(Redirect::to(&format!("/consents/new?case={case}")).into_response()),
        Err(e) => {
            tracing::warn!(error = ?anyhow::Error::from(e), "case not opened");
            let why = lang.pick(
                "ハブに接続できないため、ケースを開設できませんでした。しばらくしてからもう一度開設してください。続く場合はシステム管理者に連絡してください。",
                "The hub could not be reached, so no case was opened. Try again later; if it persists, tell the system administrator.",
            );
            let page = list_page(&state, &signed, lang, Some(why.to_owned())).await?;
            Ok((axum::http::StatusCode::SERVICE_UNAVAILABLE, page).into_response())
        }
    }
}

/// One entry of the timeline.
pub struct Entry {
    pub at: String,
    /// What it is, in the staff's words.
    pub what: String,
    /// From which agency (to which, when sent here).
    pub who: String,
    /// One line about it (untrusted text is escaped on the page).
    pub summary: String,
    /// Its record page, if it has one.
    pub link: Option<String>,
    /// A second link (the consent, for a consent record or withdrawal).
    pub consent: Option<String>,
    /// Something went wrong with it: refused, consent ended, cancelled.
    pub flag: Option<String>,
    /// A notice from the hub rather than a record.
    pub notice: bool,
    key: (Timestamp, usize),
}

/// One row of the disclosure record.
pub struct Shared {
    pub at: String,
    pub from: String,
    pub to: String,
    pub what: String,
    pub categories: String,
    pub basis: String,
    pub consent: Option<String>,
    pub state: String,
}

#[derive(Template)]
#[template(path = "ui/case.html")]
struct CasePage {
    chrome: Chrome,
    id: String,
    newest_first: bool,
    entries: Vec<Entry>,
    consents: Vec<Shown>,
    disclosures: Vec<Shared>,
    /// Why the disclosure record could not be read.
    disclosures_unknown: Option<String>,
}

#[derive(Deserialize)]
pub struct Order {
    order: Option<String>,
}

/// Everything this node holds about one case, and the hub's disclosure
/// record; the view is logged before anything is shown.
#[tracing::instrument(skip_all, fields(case = %id))]
pub async fn case(
    State(state): State<UiState>,
    signed: SignedIn,
    PageLang(lang): PageLang,
    Path(id): Path<String>,
    Query(order): Query<Order>,
) -> Result<Html<String>, PageError> {
    let case: CaseId = id.parse().map_err(|_| PageError::NotFound)?;
    let node = &state.node;
    let Timeline {
        mut entries,
        consents: held_consents,
    } = timeline(&state, &signed, &case, lang)
        .await?
        .ok_or(PageError::NotFound)?;
    let newest_first = order.order.as_deref() == Some("newest");
    if newest_first {
        entries.reverse();
    }
    let (disclosures, disclosures_unknown) = match node.disclosures(&case).await {
        Ok(d) => (
            d.iter()
                .map(|d| shared(node, d, &held_consents, lang))
                .collect(),
            None,
        ),
        Err(e) => (Vec::new(), Some(unknown(node, e, lang))),
    };
    let page = CasePage {
        chrome: signed.chrome(lang),
        id: case.to_string(),
        newest_first,
        entries,
        consents: held_consents.iter().map(|c| show(node, c, lang)).collect(),
        disclosures,
        disclosures_unknown,
    };
    Ok(Html(page.render()?))
}

/// What this node holds about one case: the timeline, oldest first, and
/// the consents recorded for it.
pub(super) struct Timeline {
    pub entries: Vec<Entry>,
    pub consents: Vec<consents::HeldConsent>,
}

/// The timeline of `case` (`None` when this node holds nothing about it),
/// its view written to the access log before anything is shown: the case
/// page and the 支援台帳's row page show it alike.
pub(super) async fn timeline(
    state: &UiState,
    signed: &SignedIn,
    case: &CaseId,
    lang: Lang,
) -> Result<Option<Timeline>, PageError> {
    let node = &state.node;
    let records = node.records().case_records(case).await?;
    let held_consents: Vec<_> = consents::consents(node.records())
        .await?
        .into_iter()
        .filter(|c| c.scope.case_id == *case)
        .collect();
    let notices: Vec<(Timestamp, Notice)> = node
        .records()
        .timed_notices()
        .await?
        .into_iter()
        .filter(|(_, n)| about(n, case, &records))
        .collect();
    if records.is_empty() && held_consents.is_empty() && notices.is_empty() {
        return Ok(None);
    }
    signed.viewed(state, Viewed::Case, case.as_str()).await?;
    let folds = Folds {
        meetings: meetings::meetings(node.records(), node.id()).await?,
        plans: plans::held_versions(node.records()).await?,
        consents: &held_consents,
    };
    let mut entries: Vec<Entry> = records
        .iter()
        .enumerate()
        .map(|(i, r)| entry(node, r, i, &folds, lang))
        .collect();
    entries.extend(
        notices
            .iter()
            .enumerate()
            .map(|(i, (at, n))| notice_entry(node, *at, n, records.len() + i, lang)),
    );
    entries.sort_by_key(|e| e.key);
    Ok(Some(Timeline {
        entries,
        consents: held_consents,
    }))
}

/// Whether a notice concerns this case (by its case, or by a record of it).
fn about(notice: &Notice, case: &CaseId, records: &[CaseRecord]) -> bool {
    let holds = |id: &EnvelopeId| {
        let id = id.to_string();
        records.iter().any(|r| r.envelope_id == id)
    };
    match notice {
        Notice::ConsentEnded { case_id, .. }
        | Notice::MeetingReminder { case_id, .. }
        | Notice::PlanReviewDue { case_id, .. }
        | Notice::PlanReviewOverdue { case_id, .. } => case_id == case,
        Notice::DeliveryCancelled { envelope_id, .. }
        | Notice::RecipientRevoked { envelope_id, .. } => holds(envelope_id),
        Notice::DeadlineMissed { referral, .. } => holds(referral),
    }
}

/// The agency layer's folds, read once per page.
struct Folds<'a> {
    meetings: Vec<MeetingView>,
    plans: Vec<HeldVersion>,
    consents: &'a [consents::HeldConsent],
}

fn entry(node: &Node, r: &CaseRecord, i: usize, folds: &Folds, lang: Lang) -> Entry {
    let parsed = Envelope::parse(r.envelope.clone()).ok();
    let meta = parsed.as_ref().map(|e| e.meta());
    let payload: Option<Payload> = serde_json::from_str(&r.payload).ok();
    let kind = MessageKind::parse(&r.kind);
    let id: Option<EnvelopeId> = r.envelope_id.parse().ok();
    let who = match (r.sent, meta) {
        (true, Some(m)) => {
            let to: Vec<String> = m.recipients.iter().map(|a| agency_name(node, a)).collect();
            match lang {
                Lang::Ja if to.is_empty() => "この機関 → ハブ".to_owned(),
                Lang::Ja => format!("この機関 → {}", to.join("、")),
                Lang::En if to.is_empty() => "this agency → the hub".to_owned(),
                Lang::En => format!("this agency → {}", to.join(", ")),
            }
        }
        (true, None) => lang.pick("この機関", "this agency").to_owned(),
        (false, _) => {
            let from = r
                .sender
                .parse::<AgencyId>()
                .map_or_else(|_| r.sender.clone(), |a| agency_name(node, &a));
            format!("{from} → {}", lang.pick("この機関", "this agency"))
        }
    };
    let action = meta.and_then(|m| m.action.as_ref());
    let mut what = kind.map_or(r.kind.clone(), |k| k.label(lang).to_owned());
    if let Some(Action::UpdateReferral { state, .. }) = action {
        what = format!("{what}: {}", state.label(lang));
    }
    if Urgency::parse(&r.urgency) == Some(Urgency::Emergency) {
        what = format!("{what}（{}）", Urgency::Emergency.label(lang));
    }
    let consent_of = |c: &crate::protocol::ConsentId| {
        folds
            .consents
            .iter()
            .find(|h| h.scope.consent_id == *c)
            .map(|h| format!("/consents/{}", h.scope.consent_id))
    };
    let consent = match action {
        Some(Action::RecordConsent { scope }) => consent_of(&scope.consent_id),
        Some(Action::WithdrawConsent { consent_id }) => consent_of(consent_id),
        _ => match meta.and_then(|m| m.basis.as_ref()) {
            Some(LegalBasis::Consent { consent_id }) => consent_of(consent_id),
            _ => None,
        },
    };
    let summary = summary(node, meta, payload.as_ref(), id, folds, lang);
    let flag = match (r.status.as_deref(), r.consent_end_reason.as_deref()) {
        (Some("refused"), _) => Some(refused(node, r.detail.as_deref(), lang)),
        (Some("pending"), _) => Some(lang.pick("送信待ち", "waiting to be sent").to_owned()),
        (_, Some("withdrawn")) => Some(
            lang.pick(
                "根拠の同意が撤回されました",
                "the consent it relied on was withdrawn",
            )
            .to_owned(),
        ),
        (_, Some("expired")) => Some(
            lang.pick(
                "根拠の同意が期間満了しました",
                "the consent it relied on expired",
            )
            .to_owned(),
        ),
        _ => None,
    };
    Entry {
        at: local_time(r.created_at),
        what,
        who,
        summary,
        link: Some(format!("/envelopes/{}", r.envelope_id)),
        consent,
        flag,
        notice: false,
        key: (r.created_at, i),
    }
}

/// A refused record: not sent, and the hub's reason, agencies named.
fn refused(node: &Node, detail: Option<&str>, lang: Lang) -> String {
    let not_sent = lang.pick(
        "ハブが受け付けず、送信されていません",
        "refused by the hub: not sent",
    );
    match detail.and_then(|d| serde_json::from_str::<ErrorBody>(d).ok()) {
        Some(body) => {
            let why = node
                .directory()
                .named(lang.pick(&body.message, &body.message_en));
            format!("{not_sent}: {why}")
        }
        None => not_sent.to_owned(),
    }
}

/// One line about a record, through the folds where one applies.
fn summary(
    node: &Node,
    meta: Option<&crate::protocol::envelope::Metadata>,
    payload: Option<&Payload>,
    id: Option<EnvelopeId>,
    folds: &Folds,
    lang: Lang,
) -> String {
    let basis = meta
        .and_then(|m| m.basis.as_ref())
        .map(|b| format!("{}: {}", lang.pick("根拠", "basis"), b.label(lang)));
    let Some(payload) = payload else {
        return String::new();
    };
    let short = |text: &str| -> String {
        let mut s: String = text.chars().take(120).collect();
        if text.chars().count() > 120 {
            s.push('…');
        }
        s
    };
    match &payload.body {
        Body::Referral(_) => basis.unwrap_or_default(),
        Body::ReferralUpdate(note) | Body::CaseUpdate(note) | Body::CaseNote(note) => {
            short(&note.text)
        }
        Body::ConsentWithdrawal(note) => short(&note.text),
        Body::ConsentRecord(_) => match meta.and_then(|m| m.action.as_ref()) {
            Some(Action::RecordConsent { scope }) => folds
                .consents
                .iter()
                .find(|c| c.scope.consent_id == scope.consent_id)
                .map(|c| show(node, c, lang).sentence)
                .unwrap_or_default(),
            _ => String::new(),
        },
        Body::SupportPlan(_) | Body::PlanPart(_) => folds
            .plans
            .iter()
            .find(|v| Some(v.envelope_id) == id)
            .map(|v| plan_line(node, v, lang))
            .unwrap_or_default(),
        Body::MeetingInvitation(_)
        | Body::MeetingChange(_)
        | Body::MeetingAnswer(_)
        | Body::Minutes(_)
        | Body::MinutesExcerpt(_) => meeting_of(meta, id, folds)
            .map(|m| meeting_line(m, lang))
            .unwrap_or_default(),
    }
}

/// The meeting a record is about, as the meetings fold holds it.
fn meeting_of<'a>(
    meta: Option<&crate::protocol::envelope::Metadata>,
    id: Option<EnvelopeId>,
    folds: &'a Folds,
) -> Option<&'a MeetingView> {
    let meeting_id = match meta?.action.as_ref()? {
        Action::ScheduleMeeting { meeting } => Some(meeting.meeting_id),
        Action::RescheduleMeeting { meeting_id, .. }
        | Action::CancelMeeting { meeting_id }
        | Action::AnswerMeeting { meeting_id, .. }
        | Action::ShareMinutes { meeting_id } => Some(*meeting_id),
        _ => None,
    };
    folds
        .meetings
        .iter()
        .find(|m| Some(m.meeting_id) == meeting_id || Some(m.invitation_id) == id)
}

fn meeting_line(m: &MeetingView, lang: Lang) -> String {
    let mut line = format!(
        "{} {}（{}{}）",
        m.kind.label(lang),
        local_time(m.starts_at),
        m.duration_minutes,
        lang.pick("分", " min")
    );
    if m.cancelled.is_some() {
        line.push_str(lang.pick("・中止", ", cancelled"));
    }
    match &m.minutes {
        Some(HeldMinutes::Full(_)) => line.push_str(lang.pick("・会議録あり", ", minutes held")),
        Some(HeldMinutes::Excerpt(_)) => {
            line.push_str(lang.pick("・会議録の抜粋あり", ", excerpt held"))
        }
        None => {}
    }
    line
}

fn plan_line(node: &Node, v: &HeldVersion, lang: Lang) -> String {
    let scope = match v.content {
        plans::Held::Whole(_) => lang.pick("全体", "whole"),
        plans::Held::Part(_) => lang.pick("この機関の担当部分", "this agency's part"),
    };
    match lang {
        Lang::Ja => format!(
            "第{}版（{}）・主担当: {}・見直し日: {}",
            v.version,
            scope,
            agency_name(node, v.content.lead()),
            v.content.review_on()
        ),
        Lang::En => format!(
            "version {} ({}), lead: {}, review on {}",
            v.version,
            scope,
            agency_name(node, v.content.lead()),
            v.content.review_on()
        ),
    }
}

fn notice_entry(node: &Node, at: Timestamp, n: &Notice, i: usize, lang: Lang) -> Entry {
    let (what, link, consent) = match n {
        Notice::ConsentEnded {
            consent_id,
            reason,
            withdrawal,
            ..
        } => (
            match reason {
                ConsentEnd::Withdrawn => lang.pick("同意の撤回の通知", "consent withdrawn"),
                ConsentEnd::Expired => lang.pick("同意の期間満了の通知", "consent expired"),
            },
            withdrawal.map(|w| format!("/envelopes/{w}")),
            Some(format!("/consents/{consent_id}")),
        ),
        Notice::DeliveryCancelled { envelope_id, .. } => (
            lang.pick("配信の取消", "delivery cancelled"),
            Some(format!("/envelopes/{envelope_id}")),
            None,
        ),
        Notice::RecipientRevoked { envelope_id, .. } => (
            lang.pick(
                "宛先機関の取消による配信の取消",
                "delivery cancelled: recipient revoked",
            ),
            Some(format!("/envelopes/{envelope_id}")),
            None,
        ),
        Notice::DeadlineMissed { referral, .. } => (
            lang.pick("受理期限の超過", "deadline missed"),
            Some(format!("/envelopes/{referral}")),
            None,
        ),
        Notice::MeetingReminder { .. } => (lang.pick("会議の案内", "meeting reminder"), None, None),
        Notice::PlanReviewDue { .. } => (
            lang.pick("プラン見直し日の案内", "plan review due"),
            None,
            None,
        ),
        Notice::PlanReviewOverdue { .. } => (
            lang.pick("プラン見直し日の超過", "plan review overdue"),
            None,
            None,
        ),
    };
    Entry {
        at: local_time(at),
        what: what.to_owned(),
        who: lang.pick("ハブ", "the hub").to_owned(),
        summary: node.directory().named(&n.describe(lang)),
        link,
        consent,
        flag: None,
        notice: true,
        key: (at, i),
    }
}

fn shared(node: &Node, d: &Disclosure, held: &[consents::HeldConsent], lang: Lang) -> Shared {
    let state = if d.cancelled {
        lang.pick("取消（同意の終了による）", "cancelled (consent ended)")
    } else if d.delivered_at.is_some() {
        lang.pick("受信済み", "delivered")
    } else {
        lang.pick("配信待ち", "queued")
    };
    let categories: BTreeSet<&str> = d.categories.iter().map(|c| c.label(lang)).collect();
    Shared {
        at: local_time(d.accepted_at),
        from: d.sender.as_ref().map_or_else(
            || {
                lang.pick("（通告者は非開示）", "(notifier withheld)")
                    .to_owned()
            },
            |s| agency_name(node, s),
        ),
        to: agency_name(node, &d.recipient),
        what: MessageKind::parse(&d.kind).map_or(d.kind.clone(), |k| k.label(lang).to_owned()),
        categories: match categories.is_empty() {
            true => lang.pick("なし", "none").to_owned(),
            false => categories.into_iter().collect::<Vec<_>>().join("・"),
        },
        basis: d.basis.as_deref().map_or_else(
            || {
                lang.pick("—（根拠を要しない連絡）", "— (no basis needed)")
                    .to_owned()
            },
            |b| LegalBasis::label_of(b, lang).unwrap_or(b).to_owned(),
        ),
        // A link only to a consent this node holds.
        consent: d
            .consent_id
            .filter(|c| held.iter().any(|h| h.scope.consent_id == *c))
            .map(|c| format!("/consents/{c}")),
        state: state.to_owned(),
    }
}

/// Why the disclosure record is not shown.
fn unknown(node: &Node, e: NodeError, lang: Lang) -> String {
    match e {
        NodeError::Refused(body) => node
            .directory()
            .named(lang.pick(&body.message, &body.message_en)),
        other => {
            tracing::warn!(error = ?anyhow::Error::from(other), "disclosure record not read");
            lang.pick(
                "ハブに接続できないため、提供記録を表示できません。このノードが保持する記録だけを表示しています。しばらくしてから開き直してください。",
                "The hub cannot be reached, so the disclosure record cannot be shown; only what this node holds is shown. Reload the page later.",
            )
            .to_owned()
        }
    }
}
