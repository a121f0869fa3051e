//! The inbox (`GET /`) with its filters (未読, 受理待ち, 対応中, 自分の担当,
//! by case) and the hub's notices, its rows and notices as fragments for
//! live updates (`GET /inbox/rows`, `/inbox/filters`, `/inbox/notices`), and
//! one record (`GET /envelopes/{id}`), whose every view is written to the
//! access log. Everything in a received envelope is
//! another agency's input: it reaches the page only through askama's
//! escaping (never `|safe`).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Html;
use serde::Deserialize;

use super::UiState;
use super::auth::{SignedIn, Watching};
use super::error::PageError;
use super::inbox_filter::{Facts, Filter, InboxQuery};
use super::inbox_notices::{self, Deadline, NoticeView};
use super::lang::{Chrome, PageLang};
use super::referral;
use crate::agency::staff::{StaffMember, Viewed};
use crate::i18n::Lang;
use crate::protocol::payload::{Body, Payload};
use crate::protocol::referral_text::render;
use crate::protocol::{AgencyId, EnvelopeId, MessageKind, ReferralState, Timestamp, Urgency};
use crate::store::records::{InboxRow, OutboxRow};

/// One inbox row as shown.
pub struct Row {
    pub id: String,
    pub received: String,
    pub sender: String,
    pub kind: String,
    pub urgency: String,
    /// 緊急: shown in red.
    pub urgent: bool,
    pub case_id: String,
    pub consent_ended: bool,
    /// Not yet opened by this member.
    pub unread: bool,
    /// For a referral received: where it stands on this node's side.
    pub state: Option<String>,
    /// For a referral awaiting 受理: when it is due (a guide: the hub's
    /// default deadlines) and the time left.
    pub due: Option<Deadline>,
}

/// A filter link: its words, where it goes, how many it shows, whether it
/// is the one applied.
pub struct FilterLink {
    pub label: &'static str,
    pub href: String,
    pub count: usize,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "ui/inbox.html")]
struct InboxPage {
    chrome: Chrome,
    lang: Lang,
    rows: Vec<Row>,
    filters: Vec<FilterLink>,
    /// The filter applied (kept by the case form).
    filter: &'static str,
    /// The case asked for, and the cases held, for the case form.
    case: String,
    cases: Vec<String>,
    notices: Vec<NoticeView>,
}

#[derive(Template)]
#[template(path = "ui/inbox_rows.html")]
struct InboxRows {
    lang: Lang,
    rows: Vec<Row>,
}

#[derive(Template)]
#[template(path = "ui/inbox_filters.html")]
struct InboxFilters {
    filters: Vec<FilterLink>,
}

#[derive(Template)]
#[template(path = "ui/inbox_notices.html")]
struct InboxNotices {
    lang: Lang,
    notices: Vec<NoticeView>,
}

#[derive(Template)]
#[template(path = "ui/envelope.html")]
struct EnvelopePage {
    chrome: Chrome,
    row: Row,
    /// The decrypted payload, field by field: untrusted text.
    fields: Vec<(String, String)>,
    /// States, actions and timeline, for a referral.
    referral: Option<referral::Detail>,
    /// What was just sent, after a redirect.
    done: Option<String>,
    /// Received (signature verified here) rather than sent by this node.
    received: bool,
    /// Why an update was not sent.
    refusal: Option<String>,
}

/// A time as staff read it: Japan time, to the minute.
pub fn local_time(t: Timestamp) -> String {
    let jst = time::UtcOffset::from_hms(9, 0, 0).unwrap_or(time::UtcOffset::UTC);
    let d = t.datetime().to_offset(jst);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        d.year(),
        u8::from(d.month()),
        d.day(),
        d.hour(),
        d.minute()
    )
}

fn row(state: &UiState, r: &InboxRow, lang: Lang) -> Row {
    let sender = r
        .sender
        .parse::<AgencyId>()
        .ok()
        .and_then(|id| state.node.directory().get(&id).map(|a| a.name.clone()))
        .unwrap_or_else(|| r.sender.clone());
    let urgency = Urgency::parse(&r.urgency);
    Row {
        id: r.envelope_id.clone(),
        received: local_time(r.received_at),
        sender,
        kind: MessageKind::parse(&r.kind).map_or(r.kind.clone(), |k| k.label(lang).to_owned()),
        urgency: urgency.map_or(r.urgency.clone(), |u| u.label(lang).to_owned()),
        urgent: urgency == Some(Urgency::Emergency),
        case_id: r.case_id.clone().unwrap_or_else(|| "—".into()),
        consent_ended: r.consent_end_reason.is_some(),
        unread: false,
        state: None,
        due: None,
    }
}

/// A row with what the filters know about it.
fn filtered_row(state: &UiState, r: &InboxRow, facts: &Facts, now: Timestamp, lang: Lang) -> Row {
    Row {
        unread: facts.unread(r),
        state: facts.own_state(r).map(|s| match s {
            ReferralState::Sent => lang.pick("受理待ち", "Awaiting receipt").to_owned(),
            other => other.label(lang).to_owned(),
        }),
        due: facts.receipt_due(r).map(|at| Deadline::new(at, now, lang)),
        ..row(state, r, lang)
    }
}

/// The inbox as `q` filters it for `member`: the rows, and the facts and
/// every row held (for the filter links' counts).
async fn load_rows(
    state: &UiState,
    member: &StaffMember,
    q: &InboxQuery,
    lang: Lang,
) -> Result<(Vec<Row>, Facts, Vec<InboxRow>), PageError> {
    let held = state.node.records().inbox().await?;
    let facts = Facts::gather(state, member, &held).await?;
    let filter = Filter::parse(&q.filter);
    let now = Timestamp::now();
    let rows = held
        .iter()
        .filter(|r| facts.keeps(r, filter, &q.case))
        .map(|r| filtered_row(state, r, &facts, now, lang))
        .collect();
    Ok((rows, facts, held))
}

fn filter_links(facts: &Facts, held: &[InboxRow], q: &InboxQuery, lang: Lang) -> Vec<FilterLink> {
    let applied = Filter::parse(&q.filter);
    Filter::ALL
        .into_iter()
        .map(|f| {
            let mut query = Vec::new();
            if f != Filter::All {
                query.push(format!("filter={}", f.as_str()));
            }
            if let Some(case) = case_param(&q.case) {
                query.push(format!("case={case}"));
            }
            FilterLink {
                label: f.label(lang),
                href: format!("/?{}", query.join("&")),
                count: held.iter().filter(|r| facts.keeps(r, f, &q.case)).count(),
                current: f == applied,
            }
        })
        .collect()
}

/// A case id fit for a link (case ids are letters, digits and '-'; anything
/// else names no case and is dropped).
fn case_param(case: &str) -> Option<&str> {
    let case = case.trim();
    (!case.is_empty() && case.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        .then_some(case)
}

/// The inbox, newest first, filtered as the query asks.
pub async fn page(
    State(state): State<UiState>,
    signed: SignedIn,
    PageLang(lang): PageLang,
    Query(q): Query<InboxQuery>,
) -> Result<Html<String>, PageError> {
    let (rows, facts, held) = load_rows(&state, &signed.member, &q, lang).await?;
    let mut cases: Vec<String> = held.iter().filter_map(|r| r.case_id.clone()).collect();
    cases.sort();
    cases.dedup();
    let page = InboxPage {
        chrome: signed.chrome(lang),
        lang,
        filters: filter_links(&facts, &held, &q, lang),
        filter: Filter::parse(&q.filter).as_str(),
        case: q.case.trim().to_owned(),
        cases,
        rows,
        notices: inbox_notices::load(&state, lang).await?,
    };
    Ok(Html(page.render()?))
}

/// The rows alone, for the live update (not counted as activity).
pub async fn rows(
    State(state): State<UiState>,
    watching: Watching,
    PageLang(lang): PageLang,
    Query(q): Query<InboxQuery>,
) -> Result<Html<String>, PageError> {
    let (rows, _, _) = load_rows(&state, &watching.member, &q, lang).await?;
    Ok(Html(InboxRows { lang, rows }.render()?))
}

/// The filter links with their counts alone, for the live update (not
/// counted as activity).
pub async fn filters(
    State(state): State<UiState>,
    watching: Watching,
    PageLang(lang): PageLang,
    Query(q): Query<InboxQuery>,
) -> Result<Html<String>, PageError> {
    let (_, facts, held) = load_rows(&state, &watching.member, &q, lang).await?;
    let filters = filter_links(&facts, &held, &q, lang);
    Ok(Html(InboxFilters { filters }.render()?))
}

/// The notices alone, for the live update (not counted as activity).
pub async fn notices(
    State(state): State<UiState>,
    _watching: Watching,
    PageLang(lang): PageLang,
) -> Result<Html<String>, PageError> {
    let notices = inbox_notices::load(&state, lang).await?;
    Ok(Html(InboxNotices { lang, notices }.render()?))
}

#[derive(Deserialize)]
pub struct Flash {
    done: Option<String>,
    queued: Option<String>,
}

#[derive(Template)]
#[template(path = "ui/inbox_states.html")]
struct StatesRows {
    states: Vec<referral::StateRow>,
}

/// A referral's states at each recipient alone, for the record page's live
/// update (not counted as activity, and not a view of the content: the
/// page that shows it was logged when it was opened).
pub async fn states(
    State(state): State<UiState>,
    _watching: Watching,
    PageLang(lang): PageLang,
    Path(id): Path<String>,
) -> Result<Html<String>, PageError> {
    let id: EnvelopeId = id.parse().map_err(|_| PageError::NotFound)?;
    let records = state.node.records();
    let held = match records.inbox_item(id).await? {
        Some(held) => Some((held.kind, true)),
        None => records
            .outbox_item(id)
            .await?
            .map(|sent| (sent.kind, false)),
    };
    let Some((kind, received)) = held else {
        return Err(PageError::NotFound);
    };
    if MessageKind::parse(&kind) != Some(MessageKind::Referral) {
        return Err(PageError::NotFound);
    }
    let detail = referral::detail(&state, id, received, lang).await?;
    Ok(Html(
        StatesRows {
            states: detail.states,
        }
        .render()?,
    ))
}

/// One record, received or sent, its content decrypted; the view is logged
/// first, so nothing is shown that the access log does not hold.
#[tracing::instrument(skip_all, fields(envelope = %id))]
pub async fn envelope(
    State(state): State<UiState>,
    signed: SignedIn,
    PageLang(lang): PageLang,
    Path(id): Path<String>,
    Query(flash): Query<Flash>,
) -> Result<Html<String>, PageError> {
    let id: EnvelopeId = id.parse().map_err(|_| PageError::NotFound)?;
    let done = flash
        .done
        .as_deref()
        .and_then(|d| referral::done_message(d, flash.queued.is_some(), lang));
    render_envelope(&state, &signed, lang, id, done, None).await
}

/// The record page, with a flash after an update or the reason one was
/// not sent.
pub async fn render_envelope(
    state: &UiState,
    signed: &SignedIn,
    lang: Lang,
    id: EnvelopeId,
    done: Option<String>,
    refusal: Option<String>,
) -> Result<Html<String>, PageError> {
    let (held, received) = match state.node.records().inbox_item(id).await? {
        Some(held) => (held, true),
        None => match state.node.records().outbox_item(id).await? {
            Some(sent) => (as_held(state, sent), false),
            None => return Err(PageError::NotFound),
        },
    };
    signed
        .viewed(state, Viewed::Envelope, &held.envelope_id)
        .await?;
    let referral = match MessageKind::parse(&held.kind) {
        Some(MessageKind::Referral) => Some(referral::detail(state, id, received, lang).await?),
        _ => None,
    };
    let page = EnvelopePage {
        chrome: signed.chrome(lang),
        row: row(state, &held, lang),
        fields: fields(&held.payload, lang),
        referral,
        done,
        received,
        refusal,
    };
    Ok(Html(page.render()?))
}

/// A record this node sent, shaped as one it holds (sent by itself).
fn as_held(state: &UiState, sent: OutboxRow) -> InboxRow {
    InboxRow {
        envelope_id: sent.envelope_id,
        seq: 0,
        sender: state.node.id().to_string(),
        kind: sent.kind,
        case_id: sent.case_id,
        urgency: sent.urgency,
        created_at: sent.created_at,
        received_at: sent.created_at,
        payload: sent.payload,
        consent_end_reason: None,
    }
}

/// The payload as text: its author, and a referral as the 連絡票 reads
/// (the same text `agency show` prints); anything else as indented JSON.
fn fields(payload: &str, lang: Lang) -> Vec<(String, String)> {
    let Ok(parsed) = serde_json::from_str::<Payload>(payload) else {
        return vec![(lang.pick("内容", "content").to_owned(), payload.to_owned())];
    };
    let a = &parsed.author;
    let mut fields = vec![(
        lang.pick("記入者", "Author").to_owned(),
        format!("{}（{}・{}）", a.name, a.role, a.contact),
    )];
    let body = match &parsed.body {
        Body::Referral(referral) => render(referral, lang),
        other => serde_json::to_string_pretty(other).unwrap_or_default(),
    };
    fields.push((lang.pick("本文", "Body").to_owned(), body));
    if let Some(j) = &parsed.justification {
        fields.push((
            lang.pick("提供の理由", "Justification").to_owned(),
            j.clone(),
        ));
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payload_that_is_not_one_is_shown_whole_as_text() {
        let f = fields("<script>alert(1)</script>", Lang::Ja);
        assert_eq!(f, [("内容".into(), "<script>alert(1)</script>".into())]);
    }
}
