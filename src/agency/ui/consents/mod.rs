//! The consent screens: this node's consents (`GET /consents`), recording
//! one (`/consents/new`, see [`form`]), one consent's scope in plain
//! sentences with its scan and the withdrawal (`/consents/{id}`), and the
//! printable summary for the person (`/consents/{id}/print`). Every view
//! of a consent's details is written to the access log first.

mod form;
mod scope;

pub use scope::{Shown, agency_name, show};

use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::UiState;
use super::auth::SignedIn;
use super::error::PageError;
use super::lang::{Chrome, PageLang};
use crate::agency::consents::{self, ConsentState, HeldConsent};
use crate::agency::staff::Viewed;
use crate::agency::{NodeError, Sent};
use crate::i18n::Lang;
use crate::protocol::attachment::FileType;
use crate::protocol::consent::{ConsentDecision, ConsentGiver, ConsentMethod};
use crate::protocol::{AgencyKind, ConsentId, InfoCategory, Purpose, Timestamp};

pub fn routes() -> Router<UiState> {
    Router::new()
        .route("/consents", get(list))
        .route(
            "/consents/new",
            get(new_form)
                .post(submit)
                .layer(DefaultBodyLimit::max(form::BODY_LIMIT)),
        )
        .route("/consents/{id}", get(detail))
        .route("/consents/{id}/scan", get(scan))
        .route("/consents/{id}/withdraw", post(withdraw))
        .route("/consents/{id}/print", get(print))
}

#[derive(Template)]
#[template(path = "ui/consents.html")]
struct ListPage {
    chrome: Chrome,
    consents: Vec<Shown>,
}

/// This node's consents, newest first.
pub async fn list(
    State(state): State<UiState>,
    signed: SignedIn,
    PageLang(lang): PageLang,
) -> Result<Html<String>, PageError> {
    let held = consents::consents(state.node.records()).await?;
    let consents = held
        .iter()
        .rev()
        .map(|c| show(&state.node, c, lang))
        .collect();
    let page = ListPage {
        chrome: signed.chrome(lang),
        consents,
    };
    Ok(Html(page.render()?))
}

/// One choice of a radio or checkbox group.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub checked: bool,
}

fn choices<T: Copy>(
    all: &[T],
    chosen: &[String],
    value: impl Fn(T) -> String,
    label: impl Fn(T) -> String,
) -> Vec<Choice> {
    all.iter()
        .map(|&x| {
            let value = value(x);
            Choice {
                checked: chosen.contains(&value),
                label: label(x),
                value,
            }
        })
        .collect()
}

#[derive(Template)]
#[template(path = "ui/consent_new.html")]
struct NewPage {
    chrome: Chrome,
    values: form::Values,
    givers: Vec<Choice>,
    methods: Vec<Choice>,
    decisions: Vec<Choice>,
    agencies: Vec<Choice>,
    kinds: Vec<Choice>,
    categories: Vec<Choice>,
    purposes: Vec<Choice>,
    to: Vec<Choice>,
    faults: form::Faults,
    /// The hub's refusal, with the next step.
    refusal: Option<String>,
    today: String,
}

impl NewPage {
    fn new(
        state: &UiState,
        signed: &SignedIn,
        lang: Lang,
        values: form::Values,
        faults: form::Faults,
        refusal: Option<String>,
    ) -> Self {
        let one = |v: &str| vec![v.to_owned()];
        let directory = state.node.directory();
        let others: Vec<_> = directory
            .agencies()
            .iter()
            .filter(|a| a.id != *state.node.id())
            .collect();
        let mut kinds: Vec<AgencyKind> = Vec::new();
        for a in directory.agencies() {
            if !kinds.contains(&a.kind) {
                kinds.push(a.kind);
            }
        }
        NewPage {
            chrome: signed.chrome(lang),
            givers: choices(
                &[ConsentGiver::Person, ConsentGiver::Guardian],
                &one(&values.given_by),
                form::wire_name,
                |g| g.label(lang).to_owned(),
            ),
            methods: choices(
                &[ConsentMethod::Written, ConsentMethod::Oral],
                &one(&values.method),
                form::wire_name,
                |m| m.label(lang).to_owned(),
            ),
            decisions: choices(
                &[
                    ConsentDecision::Granted,
                    ConsentDecision::Refused,
                    ConsentDecision::NotTold,
                ],
                &one(&values.decision),
                form::wire_name,
                |d| d.label(lang).to_owned(),
            ),
            agencies: others
                .iter()
                .map(|a| {
                    let value = format!("agency:{}", a.id);
                    Choice {
                        checked: values.recipients.contains(&value),
                        label: a.name.clone(),
                        value,
                    }
                })
                .collect(),
            kinds: choices(
                &kinds,
                &values.recipients,
                |k| format!("kind:{}", form::wire_name(k)),
                |k| match lang {
                    Lang::Ja => format!("すべての{}", k.label(lang)),
                    Lang::En => format!("every {}", k.label(lang)),
                },
            ),
            categories: choices(
                &InfoCategory::ALL,
                &values.categories,
                form::wire_name,
                |c| c.label(lang).to_owned(),
            ),
            purposes: choices(
                &Purpose::ALL,
                &values.purposes,
                |p| p.as_str().to_owned(),
                |p| p.label(lang).to_owned(),
            ),
            to: others
                .iter()
                .map(|a| Choice {
                    checked: values.to.contains(&a.id.to_string()),
                    label: a.name.clone(),
                    value: a.id.to_string(),
                })
                .collect(),
            values,
            faults,
            refusal,
            today: crate::protocol::day::Day::of(Timestamp::now()).to_string(),
        }
    }

    /// The fault at `field`, if any.
    fn fault(&self, field: &str) -> Option<&str> {
        self.faults.get(field).map(String::as_str)
    }

    /// Every fault with its field, in the form's order, for the list at
    /// the top.
    fn fault_list(&self) -> Vec<(&'static str, &str)> {
        const ORDER: [&str; 12] = [
            "case",
            "given_by",
            "given_by_name",
            "decision",
            "method",
            "scan",
            "recipient",
            "category",
            "purpose",
            "until",
            "to",
            "note",
        ];
        ORDER
            .into_iter()
            .filter_map(|f| self.fault(f).map(|text| (f, text)))
            .collect()
    }
}

#[derive(Deserialize)]
pub struct ForCase {
    case: Option<String>,
}

/// The empty form, for `?case=`.
pub async fn new_form(
    State(state): State<UiState>,
    signed: SignedIn,
    PageLang(lang): PageLang,
    Query(q): Query<ForCase>,
) -> Result<Html<String>, PageError> {
    let values = form::Values::new(q.case.unwrap_or_default());
    let page = NewPage::new(&state, &signed, lang, values, form::Faults::new(), None);
    Ok(Html(page.render()?))
}

/// Record the consent: checked field by field, then sent as the CLI sends
/// it; the form comes back with each fault at its field, changing nothing.
#[tracing::instrument(skip_all)]
pub async fn submit(
    State(state): State<UiState>,
    signed: SignedIn,
    PageLang(lang): PageLang,
    multipart: Multipart,
) -> Result<Response, PageError> {
    let sent = form::read(multipart).await;
    signed.check_csrf(&sent.values.csrf)?;
    let again = |values, faults, refusal, status: StatusCode| -> Result<Response, PageError> {
        let page = NewPage::new(&state, &signed, lang, values, faults, refusal);
        Ok((status, Html(page.render()?)).into_response())
    };
    if let Some(status) = sent.unread {
        let faults = form::Faults::from([form::unread_fault(status, lang)]);
        return again(sent.values, faults, None, status);
    }
    let too_large = sent
        .scan
        .as_ref()
        .is_some_and(|s| s.total > crate::protocol::attachment::MAX_ATTACHMENT_BYTES);
    let request = match form::check(&state.node, &sent.values, sent.scan, lang) {
        Ok(request) => request,
        Err(faults) => {
            let status = match too_large {
                true => StatusCode::PAYLOAD_TOO_LARGE,
                false => StatusCode::UNPROCESSABLE_ENTITY,
            };
            return again(sent.values, faults, None, status);
        }
    };
    let (scope, draft) = request.draft(signed.member.author());
    match state.node.send(&draft).await {
        Ok(sent) => {
            let done = match sent {
                Sent::Accepted { .. } => "recorded",
                Sent::Queued { .. } => "queued",
            };
            let to = format!("/consents/{}?done={done}", scope.consent_id);
            Ok(Redirect::to(&to).into_response())
        }
        Err(NodeError::Store(e)) => Err(PageError::Store(e)),
        Err(e) => {
            let why = refusal_text(&state, e, lang);
            again(
                sent.values,
                form::Faults::new(),
                Some(why),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
    }
}

/// A node error in the staff's words, agencies named, with the next step.
fn refusal_text(state: &UiState, e: NodeError, lang: Lang) -> String {
    match e {
        NodeError::Refused(body) => {
            let why = state
                .node
                .directory()
                .named(lang.pick(&body.message, &body.message_en));
            let next = lang.pick(
                "次の手順: 内容を確かめて直してから、もう一度記録してください。ケースIDが分からないときは、ケース一覧から対象のケースを開いてください。",
                "Next: check and correct the form, then record it again. If the case id is unclear, open the case from the case list.",
            );
            format!("{why}\n{next}")
        }
        other => {
            tracing::warn!(error = ?anyhow::Error::from(other), "consent not sent");
            lang.pick(
                "記録できませんでした。しばらくしてからもう一度送信し、続く場合はシステム管理者に連絡してください。",
                "It could not be recorded. Try again later; if it persists, tell the system administrator.",
            )
            .to_owned()
        }
    }
}

/// The consent `id` names, written to the access log as a view of its
/// record; unknown ids are not found.
async fn viewed(state: &UiState, signed: &SignedIn, id: &str) -> Result<HeldConsent, PageError> {
    let id: ConsentId = id.parse().map_err(|_| PageError::NotFound)?;
    let held = consents::consent(state.node.records(), id)
        .await?
        .ok_or(PageError::NotFound)?;
    signed
        .viewed(state, Viewed::Envelope, &held.envelope_id.to_string())
        .await?;
    Ok(held)
}

#[derive(Template)]
#[template(path = "ui/consent.html")]
struct DetailPage {
    chrome: Chrome,
    c: Shown,
    done: Option<&'static str>,
    /// Why the withdrawal was not sent.
    refusal: Option<String>,
    /// The withdrawal form's faults.
    reason_fault: Option<&'static str>,
    confirm_fault: Option<&'static str>,
    reason: String,
}

#[derive(Deserialize)]
pub struct Flash {
    done: Option<String>,
}

fn done_message(done: &str, lang: Lang) -> Option<&'static str> {
    Some(match done {
        "recorded" => lang.pick(
            "同意を記録しました。ハブが範囲を保存し、これに基づく提供ができるようになりました。",
            "The consent is recorded. The hub holds its scope; sharing within it is now possible.",
        ),
        "queued" => lang.pick(
            "ハブに届いていないため、送信待ちにしました。ノードが接続しだい送ります。それまでこの同意に基づく提供はできません。",
            "The hub was not reached, so it waits to be sent; the node sends it when connected. Until then nothing can be shared under it.",
        ),
        "withdrawn" => lang.pick(
            "撤回を記録しました。ハブが関係機関に通知し、これ以降この同意に基づく提供はできません。",
            "The withdrawal is recorded. The hub tells the agencies concerned; nothing more can be shared under it.",
        ),
        "withdrawal_queued" => lang.pick(
            "撤回をハブに届けられなかったため、送信待ちにしました。ノードが接続しだい送ります。",
            "The withdrawal could not reach the hub; it waits to be sent and goes when the node connects.",
        ),
        _ => return None,
    })
}

/// One consent: its scope in sentences, its details, withdrawal.
#[tracing::instrument(skip_all)]
pub async fn detail(
    State(state): State<UiState>,
    signed: SignedIn,
    PageLang(lang): PageLang,
    Path(id): Path<String>,
    Query(flash): Query<Flash>,
) -> Result<Html<String>, PageError> {
    let held = viewed(&state, &signed, &id).await?;
    let page = DetailPage {
        chrome: signed.chrome(lang),
        c: show(&state.node, &held, lang),
        done: flash.done.as_deref().and_then(|d| done_message(d, lang)),
        refusal: None,
        reason_fault: None,
        confirm_fault: None,
        reason: String::new(),
    };
    Ok(Html(page.render()?))
}

/// The signed form's scan, as a download of the type its bytes are.
#[tracing::instrument(skip_all)]
pub async fn scan(
    State(state): State<UiState>,
    signed: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let held = viewed(&state, &signed, &id).await?;
    let scan = held.details.scan.ok_or(PageError::NotFound)?;
    // Checked again by its bytes: another agency wrote it.
    let kind = FileType::sniff(&scan.bytes).ok_or(PageError::NotFound)?;
    let extension = match kind {
        FileType::Pdf => "pdf",
        FileType::Png => "png",
        FileType::Jpeg => "jpg",
    };
    let disposition = format!(
        "attachment; filename=\"consent-{}.{extension}\"",
        held.scope.consent_id
    );
    let mut response = scan.bytes.into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(kind.media_type()),
    );
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, value);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(response)
}

#[derive(Deserialize)]
pub struct WithdrawForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    confirm: Option<String>,
}

/// Withdraw the consent, her words sent to the agencies concerned; refused
/// here, changing nothing, when it is not in force or the form is short.
#[tracing::instrument(skip_all)]
pub async fn withdraw(
    State(state): State<UiState>,
    signed: SignedIn,
    PageLang(lang): PageLang,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<WithdrawForm>,
) -> Result<Response, PageError> {
    signed.check_csrf(&f.csrf)?;
    let held = viewed(&state, &signed, &id).await?;
    let mut page = DetailPage {
        chrome: signed.chrome(lang),
        c: show(&state.node, &held, lang),
        done: None,
        refusal: None,
        reason_fault: None,
        confirm_fault: None,
        reason: f.reason.clone(),
    };
    let not_in_force = match held.state(Timestamp::now()) {
        ConsentState::Valid => None,
        ConsentState::Withdrawn => Some(lang.pick(
            "この同意はすでに撤回されています。もう一度撤回する必要はありません。",
            "This consent has already been withdrawn; there is nothing more to withdraw.",
        )),
        ConsentState::Expired => Some(lang.pick(
            "この同意は有効期限が過ぎているため、撤回できません。すでにこの同意に基づく提供はできません。",
            "This consent has expired, so it cannot be withdrawn; nothing can be shared under it already.",
        )),
        ConsentState::Pending => Some(lang.pick(
            "この同意はまだハブに届いていません。送信されてから撤回してください。",
            "This consent has not reached the hub yet; withdraw it once it has been sent.",
        )),
        ConsentState::NotGranted => Some(lang.pick(
            "同意が得られていない記録（拒否・未説明）は撤回できません。",
            "A record without consent (refused or not told) cannot be withdrawn.",
        )),
    };
    if let Some(why) = not_in_force {
        page.refusal = Some(why.to_owned());
        return Ok((StatusCode::CONFLICT, Html(page.render()?)).into_response());
    }
    let reason = f.reason.trim();
    if reason.is_empty() {
        page.reason_fault = Some(lang.pick(
            "撤回の申し出の内容（いつ、誰に、どのように）を入力してください。",
            "Enter what she said (when, to whom, how).",
        ));
    }
    if f.confirm.is_none() {
        page.confirm_fault = Some(lang.pick(
            "撤回してよいことを確かめ、チェックを入れてください。",
            "Confirm the withdrawal by ticking the box.",
        ));
    }
    if page.reason_fault.is_some() || page.confirm_fault.is_some() {
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response());
    }
    let draft = consents::withdrawal_draft(
        &state.node,
        held.scope.case_id.clone(),
        held.scope.consent_id,
        reason.to_owned(),
        signed.member.author(),
    )
    .await;
    match state.node.send(&draft).await {
        Ok(sent) => {
            let done = match sent {
                Sent::Accepted { .. } => "withdrawn",
                Sent::Queued { .. } => "withdrawal_queued",
            };
            let to = format!("/consents/{}?done={done}", held.scope.consent_id);
            Ok(Redirect::to(&to).into_response())
        }
        Err(NodeError::Store(e)) => Err(PageError::Store(e)),
        Err(e) => {
            page.refusal = Some(refusal_text(&state, e, lang));
            Ok((StatusCode::CONFLICT, Html(page.render()?)).into_response())
        }
    }
}

#[derive(Template)]
#[template(path = "ui/consent_print.html")]
struct PrintPage {
    chrome: Chrome,
    c: Shown,
    /// The recording agency's staff: whom she tells to withdraw.
    contact: String,
}

/// The summary for the person, to print and hand over.
#[tracing::instrument(skip_all)]
pub async fn print(
    State(state): State<UiState>,
    signed: SignedIn,
    PageLang(lang): PageLang,
    Path(id): Path<String>,
) -> Result<Html<String>, PageError> {
    let held = viewed(&state, &signed, &id).await?;
    let c = show(&state.node, &held, lang);
    let contact = match lang {
        Lang::Ja => format!(
            "{}（担当: {}、連絡先: {}）",
            c.recorded_by, c.author_name, c.author_contact
        ),
        Lang::En => format!(
            "{} (staff: {}, contact: {})",
            c.recorded_by, c.author_name, c.author_contact
        ),
    };
    let page = PrintPage {
        chrome: signed.chrome(lang),
        c,
        contact,
    };
    Ok(Html(page.render()?))
}
