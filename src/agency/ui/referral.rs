//! A referral's part of the record page: each recipient's state as the hub
//! holds it, the buttons this node's staff may press in that state, and
//! `POST /envelopes/{id}/update`, which sends the update signed by the
//! logged-in member of staff (never an environment variable).

use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::UiState;
use super::auth::SignedIn;
use super::error::PageError;
use super::lang::PageLang;
use crate::agency::referral_update::{UpdateDraftError, referral_update_draft};
use crate::agency::{Node, NodeError, Sent};
use crate::i18n::Lang;
use crate::protocol::payload::{Body, Payload};
use crate::protocol::{Action, Envelope, EnvelopeId, MessageKind, ReferralState};

/// One recipient's state as shown.
pub struct StateRow {
    pub agency: String,
    pub state: String,
}

/// A button staff may press now; `text` names its text field, if any.
pub struct Act {
    pub state: &'static str,
    pub label: &'static str,
    /// The text field's label, and whether it must be filled.
    pub text: Option<(&'static str, bool)>,
}

/// A file carried in the referral, as a download link.
pub struct FileLink {
    pub href: String,
    pub name: String,
    pub kind: String,
    pub size: String,
}

/// The referral part of the page.
pub struct Detail {
    /// Who signed it: the agency whose key verified (or this agency, for
    /// what it sent), and the member of staff named in the signed content.
    pub signer: Signer,
    /// Files carried with it, as download links.
    pub files: Vec<FileLink>,
    pub states: Vec<StateRow>,
    /// Why the states could not be read (the hub unreachable), if so.
    pub unknown: Option<String>,
    pub acts: Vec<Act>,
    /// The legal basis it was shared under, as staff name it.
    pub basis: Option<String>,
    /// Every update this node holds about it, oldest first.
    pub timeline: Vec<Entry>,
}

/// The signature as staff read it.
pub struct Signer {
    pub agency: String,
    pub name: String,
    pub role: String,
    pub contact: String,
}

/// One update in the timeline: when, from which agency, who signed it,
/// the state it moved to and its text (untrusted: escaped on the page).
pub struct Entry {
    pub at: String,
    pub agency: String,
    pub author: String,
    pub state: String,
    pub text: String,
}

/// The states and the acts open to this node: as recipient, by its own
/// state; as sender, 取消 while any recipient has not yet taken it on.
pub async fn detail(
    ui: &UiState,
    id: EnvelopeId,
    received: bool,
    lang: Lang,
) -> Result<Detail, PageError> {
    let node = &ui.node;
    let timeline = timeline(ui, id, lang).await?;
    let (signer, files) = signer_and_files(ui, id, lang).await?;
    let basis = node
        .records()
        .envelope_bytes(id)
        .await?
        .and_then(|b| Envelope::parse(b).ok())
        .and_then(|e| e.meta().basis.as_ref().map(|b| b.label(lang).to_owned()));
    let status = match node.referral_status(id).await {
        Ok(s) => s,
        Err(e) => {
            return Ok(Detail {
                signer,
                files,
                states: vec![],
                unknown: Some(refusal_text(node, e, update_next_step(lang), lang)),
                acts: vec![],
                basis,
                timeline,
            });
        }
    };
    let states = status
        .states
        .iter()
        .map(|s| StateRow {
            agency: node.directory().name_of(s.agency.as_str()),
            state: s.state.label(lang).to_owned(),
        })
        .collect();
    let acts = if received {
        status
            .states
            .iter()
            .find(|s| &s.agency == node.id())
            .map_or_else(Vec::new, |s| recipient_acts(s.state, lang))
    } else if status
        .states
        .iter()
        .any(|s| matches!(s.state, ReferralState::Sent | ReferralState::Received))
    {
        vec![Act {
            state: ReferralState::Cancelled.as_str(),
            label: lang.pick("取消", "Cancel"),
            text: Some((lang.pick("理由（任意）", "Reason (optional)"), false)),
        }]
    } else {
        vec![]
    };
    Ok(Detail {
        signer,
        files,
        states,
        unknown: None,
        acts,
        basis,
        timeline,
    })
}

/// The signing agency and author of a referral this node holds, and its
/// files as links. A received one was verified against the sender's key
/// before it was stored; one this node sent was signed with its own.
async fn signer_and_files(
    ui: &UiState,
    id: EnvelopeId,
    lang: Lang,
) -> Result<(Signer, Vec<FileLink>), PageError> {
    let records = ui.node.records();
    let (sender, payload) = match records.inbox_item(id).await? {
        Some(row) => (row.sender, row.payload),
        None => match records.outbox_item(id).await? {
            Some(row) => (ui.node.id().to_string(), row.payload),
            None => return Err(PageError::NotFound),
        },
    };
    let author = serde_json::from_str::<Payload>(&payload)
        .ok()
        .map(|p| p.author);
    let signer = Signer {
        agency: ui.node.directory().name_of(&sender),
        name: author.as_ref().map(|a| a.name.clone()).unwrap_or_default(),
        role: author.as_ref().map(|a| a.role.clone()).unwrap_or_default(),
        contact: author.map(|a| a.contact).unwrap_or_default(),
    };
    let files = super::compose::attachments_of(records, id)
        .await?
        .into_iter()
        .enumerate()
        .map(|(n, a)| FileLink {
            href: format!("/envelopes/{id}/attachments/{n}"),
            kind: file_kind(&a.media_type, lang).to_owned(),
            size: size_text(a.bytes.len()),
            name: a.file_name,
        })
        .collect();
    Ok((signer, files))
}

fn file_kind(media_type: &str, lang: Lang) -> &'static str {
    match media_type {
        "application/pdf" => "PDF",
        "image/png" => "PNG",
        "image/jpeg" => "JPEG",
        _ => lang.pick("不明な形式（開けません）", "unknown type (not served)"),
    }
}

fn size_text(bytes: usize) -> String {
    match bytes {
        b if b < 1024 => format!("{b} B"),
        b if b < 1024 * 1024 => format!("{:.0} KB", b as f64 / 1024.0),
        b => format!("{:.1} MB", b as f64 / (1024.0 * 1024.0)),
    }
}

/// The updates held here, received and sent, whose action names `referral`.
async fn timeline(ui: &UiState, referral: EnvelopeId, lang: Lang) -> Result<Vec<Entry>, PageError> {
    let records = ui.node.records();
    let kind = MessageKind::ReferralUpdate.as_str();
    let received = records
        .inbox()
        .await?
        .into_iter()
        .filter(|r| r.kind == kind);
    let sent = records
        .outbox()
        .await?
        .into_iter()
        // Only what the hub took: a refused update never happened, one
        // still waiting has not happened yet.
        .filter(|r| r.kind == kind && r.status == "accepted")
        .map(|r| {
            (
                r.envelope_id,
                ui.node.id().to_string(),
                r.created_at,
                r.payload,
            )
        });
    let all = received
        .map(|r| (r.envelope_id, r.sender, r.created_at, r.payload))
        .chain(sent);
    let mut entries = Vec::new();
    for (id, from, at, payload) in all {
        let Ok(id) = id.parse::<EnvelopeId>() else {
            continue;
        };
        let Some(bytes) = records.envelope_bytes(id).await? else {
            continue;
        };
        let Ok(envelope) = Envelope::parse(bytes) else {
            continue;
        };
        let Some(Action::UpdateReferral { referral: r, state }) = envelope.meta().action.clone()
        else {
            continue;
        };
        if r != referral {
            continue;
        }
        let (author, text) = match serde_json::from_str::<Payload>(&payload) {
            Ok(p) => {
                let text = match p.body {
                    Body::ReferralUpdate(note) => note.text,
                    _ => String::new(),
                };
                let a = p.author;
                (format!("{}（{}）", a.name, a.role), text)
            }
            Err(_) => (String::new(), String::new()),
        };
        entries.push((
            at,
            Entry {
                at: super::inbox::local_time(at),
                agency: ui.node.directory().name_of(&from),
                author,
                state: state.label(lang).to_owned(),
                text,
            },
        ));
    }
    entries.sort_by_key(|(at, _)| *at);
    Ok(entries.into_iter().map(|(_, e)| e).collect())
}

/// What a recipient may do in `state`.
fn recipient_acts(state: ReferralState, lang: Lang) -> Vec<Act> {
    use ReferralState::*;
    let act = |to: ReferralState, ja, en, text| Act {
        state: to.as_str(),
        label: lang.pick(ja, en),
        text,
    };
    match state {
        Sent => vec![act(Received, "受理", "Acknowledge receipt", None)],
        Received => vec![
            act(
                Accepted,
                "対応決定",
                "Take it on",
                Some((lang.pick("メモ（任意）", "Note (optional)"), false)),
            ),
            act(
                Declined,
                "辞退",
                "Decline",
                Some((lang.pick("辞退の理由（必須）", "Reason (required)"), true)),
            ),
        ],
        Accepted | InProgress => vec![
            act(
                InProgress,
                "経過",
                "Interim note",
                Some((lang.pick("経過（必須）", "Interim note (required)"), true)),
            ),
            act(
                Completed,
                "返信",
                "Reply",
                Some((lang.pick("返信の内容（必須）", "Reply (required)"), true)),
            ),
        ],
        Declined | Completed | Cancelled => vec![],
    }
}

/// What to do after an update was refused.
fn update_next_step(lang: Lang) -> &'static str {
    lang.pick(
        "次の手順: ページを開き直して現在の対応状況を確かめ、表示されている操作から選んでください。解決しないときは、相手の機関またはシステム管理者に連絡してください。",
        "Next: reload the page to see the current state and choose one of the actions shown. If that does not help, contact the other agency or the system administrator.",
    )
}

/// A node error in the staff's words: the hub's reason with agencies named
/// as the CLI does (`Directory::named`), then `next`, the next step on the
/// page at hand (the CLI's next steps name its flags, which staff here do
/// not have).
pub(super) fn refusal_text(node: &Node, e: NodeError, next: &str, lang: Lang) -> String {
    match e {
        NodeError::Refused(body) => {
            let why = node
                .directory()
                .named(lang.pick(&body.message, &body.message_en));
            format!("{why}\n{next}")
        }
        other => {
            tracing::warn!(error = ?anyhow::Error::from(other), "hub not reached");
            lang.pick(
                "ハブに接続できないため、対応状況を確認できません。しばらくしてから開き直してください。",
                "The hub cannot be reached, so the states are unknown. Reload the page later.",
            )
            .to_owned()
        }
    }
}

#[derive(Deserialize)]
pub struct UpdateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    text: String,
}

/// Send the update the button names, signed by the logged-in member; back
/// to the page with `?done=` on success, the page with the reason if not.
#[tracing::instrument(skip_all, fields(envelope = %id))]
pub async fn update(
    State(state): State<UiState>,
    signed: SignedIn,
    PageLang(lang): PageLang,
    Path(id): Path<String>,
    Form(form): Form<UpdateForm>,
) -> Result<Response, PageError> {
    signed.check_csrf(&form.csrf)?;
    let id: EnvelopeId = id.parse().map_err(|_| PageError::NotFound)?;
    let Some(to) = ReferralState::parse(&form.state) else {
        return Err(PageError::NotFound);
    };
    let text = form.text.trim().to_owned();
    let required = matches!(
        to,
        ReferralState::Declined | ReferralState::InProgress | ReferralState::Completed
    );
    if required && text.is_empty() {
        let why = lang.pick(
            "内容が空のため送信していません。理由または内容を入力してから、もう一度押してください。",
            "Nothing was sent: the text is empty. Write the reason or content and press again.",
        );
        return refused(&state, &signed, lang, id, why.to_owned()).await;
    }
    let draft = match referral_update_draft(&state.node, id, to, text, signed.member.author()).await
    {
        Ok(d) => d,
        Err(UpdateDraftError::NotFound(_)) => return Err(PageError::NotFound),
        Err(UpdateDraftError::Store(e)) => return Err(PageError::Store(e)),
        Err(e @ UpdateDraftError::Recipients(_)) => {
            return refused(&state, &signed, lang, id, e.to_string()).await;
        }
    };
    match state.node.send(&draft).await {
        Ok(sent) => {
            let queued = match sent {
                Sent::Accepted { .. } => "",
                Sent::Queued { .. } => "&queued=1",
            };
            let back = format!("/envelopes/{id}?done={}{queued}", to.as_str());
            Ok(Redirect::to(&back).into_response())
        }
        Err(e) => {
            let why = refusal_text(&state.node, e, update_next_step(lang), lang);
            refused(&state, &signed, lang, id, why).await
        }
    }
}

async fn refused(
    state: &UiState,
    signed: &SignedIn,
    lang: Lang,
    id: EnvelopeId,
    why: String,
) -> Result<Response, PageError> {
    let html = super::inbox::render_envelope(state, signed, lang, id, None, Some(why)).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response())
}

/// The sentence shown after an update was sent, or queued because the hub
/// could not be reached.
pub fn done_message(done: &str, queued: bool, lang: Lang) -> Option<String> {
    let state = ReferralState::parse(done)?;
    let said = match queued {
        false => lang.pick("送信しました:", "Sent:"),
        true => lang.pick(
            "ハブに接続できないため送信待ちです（接続が戻りしだい自動で送ります）:",
            "Waiting to be sent: the hub cannot be reached (it is sent as soon as it can be):",
        ),
    };
    Some(format!("{said}「{}」", state.label(lang)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(state: ReferralState) -> Vec<&'static str> {
        recipient_acts(state, Lang::Ja)
            .iter()
            .map(|a| a.label)
            .collect()
    }

    #[test]
    fn a_recipient_is_offered_only_what_its_state_allows() {
        use ReferralState::*;
        assert_eq!(labels(Sent), ["受理"]);
        assert_eq!(labels(Received), ["対応決定", "辞退"]);
        assert_eq!(labels(Accepted), ["経過", "返信"]);
        assert_eq!(labels(InProgress), ["経過", "返信"]);
        for done in [Declined, Completed, Cancelled] {
            assert!(labels(done).is_empty());
        }
    }

    #[test]
    fn a_decline_asks_for_its_reason() {
        let acts = recipient_acts(ReferralState::Received, Lang::Ja);
        assert_eq!(acts[1].text, Some(("辞退の理由（必須）", true)));
    }
}
