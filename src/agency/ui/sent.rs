//! `GET /sent`: what this node sent (its outbox), newest first: what, to
//! whom by name, when, where it stands with the hub (sent, waiting to be
//! sent and why, refused and why) and, for a referral, each recipient's
//! state as this node last heard it. Each links to its record page.

use askama::Template;
use axum::extract::State;
use axum::response::Html;

use super::UiState;
use super::auth::SignedIn;
use super::error::PageError;
use super::inbox::local_time;
use super::lang::{Chrome, PageLang};
use crate::i18n::Lang;
use crate::protocol::{EnvelopeId, MessageKind, ReferralState, Urgency};
use crate::store::records::OutboxRow;

/// One recipient of a sent item and its state there.
struct Recipient {
    name: String,
    state: Option<String>,
}

/// Where a sent item stands with the hub.
enum HubState {
    Accepted,
    /// Not yet taken by the hub: the last failure, and how many attempts.
    Pending {
        why: Option<String>,
        attempts: i64,
    },
    Refused {
        why: String,
    },
}

struct SentRow {
    id: String,
    kind: String,
    urgency: String,
    urgent: bool,
    case_id: String,
    sent: String,
    recipients: Vec<Recipient>,
    hub: HubState,
}

#[derive(Template)]
#[template(path = "ui/sent.html")]
struct SentPage {
    chrome: Chrome,
    rows: Vec<SentRow>,
}

/// The outbox, newest first.
pub async fn page(
    State(state): State<UiState>,
    signed: SignedIn,
    PageLang(lang): PageLang,
) -> Result<Html<String>, PageError> {
    let outbox = state.node.records().outbox().await?;
    let mut rows = Vec::with_capacity(outbox.len());
    for r in outbox {
        rows.push(sent_row(&state, r, lang).await?);
    }
    let page = SentPage {
        chrome: signed.chrome(lang),
        rows,
    };
    Ok(Html(page.render()?))
}

async fn sent_row(state: &UiState, r: OutboxRow, lang: Lang) -> Result<SentRow, PageError> {
    let directory = state.node.directory();
    let kind = MessageKind::parse(&r.kind);
    let ids: Vec<String> = serde_json::from_str(&r.recipients).unwrap_or_default();
    // A referral's recipients' states, as this node last heard (no hub
    // round trip per row; the record page asks the hub).
    let states = match (kind, r.envelope_id.parse::<EnvelopeId>()) {
        (Some(MessageKind::Referral), Ok(id)) if r.status == "accepted" => {
            state.node.records().referral_states(id).await?
        }
        _ => Vec::new(),
    };
    let recipients = ids
        .iter()
        .map(|id| Recipient {
            name: directory.name_of(id),
            state: match kind {
                Some(MessageKind::Referral) if r.status == "accepted" => Some(
                    states
                        .iter()
                        .find(|(agency, _)| agency == id)
                        .and_then(|(_, s)| ReferralState::parse(s))
                        .unwrap_or(ReferralState::Sent)
                        .label(lang)
                        .to_owned(),
                ),
                _ => None,
            },
        })
        .collect();
    let hub = match r.status.as_str() {
        "accepted" => HubState::Accepted,
        "refused" => HubState::Refused {
            why: directory.named(r.detail.as_deref().unwrap_or_default()),
        },
        _ => HubState::Pending {
            why: r.detail.as_deref().map(|d| directory.named(d)),
            attempts: r.attempts,
        },
    };
    let urgency = Urgency::parse(&r.urgency);
    Ok(SentRow {
        kind: kind.map_or(r.kind.clone(), |k| k.label(lang).to_owned()),
        urgency: urgency.map_or(r.urgency.clone(), |u| u.label(lang).to_owned()),
        urgent: urgency == Some(Urgency::Emergency),
        case_id: r.case_id.unwrap_or_else(|| "—".into()),
        sent: local_time(r.created_at),
        id: r.envelope_id,
        recipients,
        hub,
    })
}
