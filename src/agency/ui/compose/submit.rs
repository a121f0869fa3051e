//! What the form submits: read (multipart, files included), checked field
//! by field and against what the hub would refuse, then saved as a draft,
//! only checked, or sent.

use axum::extract::State;
use axum::extract::multipart::{Multipart, MultipartError, MultipartRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use super::super::UiState;
use super::super::auth::SignedIn;
use super::super::error::PageError;
use super::super::lang::PageLang;
use super::drafts;
use super::form::{self, ComposeForm};
use super::page::{Shown, again, fresh_form};
use crate::agency::sharing::{self, Sharing};
use crate::agency::{Draft, NodeError, Sent};
use crate::i18n::Lang;
use crate::protocol::attachment::{AttachmentError, MAX_ATTACHMENT_BYTES, attach, check_total};
use crate::protocol::payload::{Attachment, Body, Payload};
use crate::protocol::referral::FieldError;
use crate::protocol::{AgencyId, CaseId, LegalBasis, Purpose, Timestamp};

/// What the multipart body held.
struct Submitted {
    form: ComposeForm,
    csrf: String,
    action: String,
    draft_id: String,
    files: Vec<(String, Vec<u8>)>,
}

/// Read the whole body; a body over the limit comes back as `None` (it was
/// not read: nothing it held can be acted on).
async fn read(mut multipart: Multipart) -> Result<Option<Submitted>, MultipartError> {
    let mut s = Submitted {
        form: ComposeForm::default(),
        csrf: String::new(),
        action: String::new(),
        draft_id: String::new(),
        files: Vec::new(),
    };
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => return Ok(Some(s)),
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Ok(None),
            Err(e) => return Err(e),
        };
        let name = field.name().unwrap_or_default().to_owned();
        if name == "attachments" {
            let file_name = field.file_name().unwrap_or_default().to_owned();
            let bytes = match field.bytes().await {
                Ok(b) => b,
                Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Ok(None),
                Err(e) => return Err(e),
            };
            // An empty file input still sends a part, with no name.
            if !(file_name.is_empty() && bytes.is_empty()) {
                s.files.push((file_name, bytes.to_vec()));
            }
            continue;
        }
        let value = match field.text().await {
            Ok(v) => v,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Ok(None),
            Err(e) => return Err(e),
        };
        match name.as_str() {
            "csrf" => s.csrf = value,
            "action" => s.action = value,
            "draft_id" => s.draft_id = value,
            _ => s.form.set(&name, value),
        }
    }
}

fn field_error(field: &str, ja: &str, en: &str) -> FieldError {
    FieldError {
        field: field.into(),
        message_ja: ja.into(),
        message_en: en.into(),
    }
}

/// Save, check or send what was submitted.
#[tracing::instrument(skip_all)]
pub async fn submit(
    State(state): State<UiState>,
    signed: SignedIn,
    PageLang(lang): PageLang,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, PageError> {
    let body = match multipart {
        Ok(m) => read(m).await.map_err(|e| {
            tracing::warn!(error = %e, "unreadable form");
            PageError::BadForm
        })?,
        Err(e) => {
            tracing::warn!(error = %e, "not a multipart form");
            return Err(PageError::BadForm);
        }
    };
    let Some(s) = body else {
        return too_large(&state, &signed, lang).await;
    };
    signed.check_csrf(&s.csrf)?;
    let draft_id = match uuid::Uuid::parse_str(&s.draft_id) {
        Ok(id) => id.to_string(),
        Err(_) => uuid::Uuid::new_v4().to_string(),
    };
    match s.action.as_str() {
        "save" => drafts::save(&state, &signed, &draft_id, &s.form).await,
        "check" => check(&state, &signed, lang, s, draft_id).await,
        _ => send(&state, &signed, lang, s, draft_id).await,
    }
}

/// A body over the limit was not read: the form comes back empty with the
/// reason at the file field (the browser's copy of what was typed is one
/// "back" away).
async fn too_large(state: &UiState, signed: &SignedIn, lang: Lang) -> Result<Response, PageError> {
    let max_mb = MAX_ATTACHMENT_BYTES / (1024 * 1024);
    let ja = format!(
        "添付ファイルが大きすぎるため、受け取れませんでした（合計{max_mb}MBまで）。何も送信していません。ブラウザの「戻る」で入力内容に戻り、小さいファイルを選び直してください。"
    );
    let en = format!(
        "The attachments are too large to receive ({max_mb} MB in all). Nothing was sent. Go back in the browser to your form and choose smaller files."
    );
    let shown = Shown {
        errors: vec![field_error("attachments", &ja, &en)],
        ..Shown::fresh(uuid::Uuid::new_v4().to_string(), None)
    };
    again(
        state,
        signed,
        lang,
        &fresh_form(),
        shown,
        StatusCode::PAYLOAD_TOO_LARGE,
    )
    .await
}

/// Everything checked: ready to seal.
struct Ready {
    case: Option<CaseId>,
    draft: Draft,
}

/// The submission checked field by field, then against what the hub would
/// refuse; every problem at its field.
async fn prepare(
    state: &UiState,
    signed: &SignedIn,
    s: &Submitted,
) -> Result<Result<Ready, (Vec<FieldError>, Option<sharing::Refusal>)>, PageError> {
    let today = time::Date::from(crate::protocol::day::Day::today());
    let (mut referral, mut errors) = form::read(&s.form, today);
    let recipients = recipients(state, &s.form, &mut errors);
    let urgency = s.form.urgency().map_err(|e| errors.push(e)).ok();
    let case = match s.form.case.trim() {
        "new" => None,
        text => match text.parse::<CaseId>() {
            Ok(c) => Some(c),
            Err(_) => {
                errors.push(field_error(
                    "case",
                    "ケースを選ぶか、「新しいケースを開く」を選んでください",
                    "choose a case, or open a new one",
                ));
                None
            }
        },
    };
    let basis = basis(&s.form, &mut errors);
    referral.attachments = files(&s.files, &mut errors);
    let (Some(urgency), Some(basis), true) = (urgency, basis, errors.is_empty()) else {
        return Ok(Err((errors, None)));
    };
    let consents = match &case {
        Some(c) => sharing::consents_for(state.node.records(), state.node.id(), c).await?,
        None => Vec::new(),
    };
    let consent = match &basis {
        LegalBasis::Consent { consent_id } => {
            consents.iter().find(|c| c.scope.consent_id == *consent_id)
        }
        _ => None,
    };
    let check = Sharing {
        directory: state.node.directory(),
        sender: state.node.id(),
        recipients: &recipients,
        categories: &referral.categories(),
        purpose: Purpose::Referral,
        urgency,
        now: Timestamp::now(),
        new_case: case.is_none(),
    };
    if let Err(refusal) = check.check(&basis, consent) {
        let at = field_error("basis", &refusal.ja, &refusal.en);
        return Ok(Err((vec![at], Some(refusal))));
    }
    let justification = Some(s.form.justification.trim().to_owned()).filter(|j| !j.is_empty());
    let draft = Draft {
        recipients,
        case_id: case.clone(),
        urgency,
        basis: Some(basis),
        purpose: Some(Purpose::Referral),
        action: None,
        payload: Payload {
            author: signed.member.author(),
            body: Body::Referral(Box::new(referral)),
            justification,
        },
    };
    Ok(Ok(Ready { case, draft }))
}

fn recipients(state: &UiState, form: &ComposeForm, errors: &mut Vec<FieldError>) -> Vec<AgencyId> {
    let chosen: Vec<AgencyId> = form
        .recipients
        .iter()
        .filter_map(|r| r.parse::<AgencyId>().ok())
        .filter(|r| r != state.node.id() && state.node.directory().get(r).is_some())
        .collect();
    if chosen.is_empty() || chosen.len() != form.recipients.len() {
        errors.push(field_error(
            "recipients",
            "宛先を1つ以上、一覧から選んでください",
            "choose one or more recipients from the list",
        ));
    }
    chosen
}

fn basis(form: &ComposeForm, errors: &mut Vec<FieldError>) -> Option<LegalBasis> {
    let chosen = match form.basis.strip_prefix("consent:") {
        Some(id) => id
            .parse()
            .ok()
            .map(|consent_id| LegalBasis::Consent { consent_id }),
        None => LegalBasis::statutory(&form.basis),
    };
    let Some(basis) = chosen else {
        errors.push(field_error(
            "basis",
            "提供の根拠を選んでください（本人同意、または法令上の根拠）",
            "choose the legal basis (consent, or a statutory basis)",
        ));
        return None;
    };
    if basis.is_statutory() && form.justification.trim().is_empty() {
        errors.push(field_error(
            "justification",
            "法令上の根拠で送るときは、その根拠に当たる理由を書いてください",
            "a statutory basis needs the reason it applies",
        ));
    }
    Some(basis)
}

/// Each file checked by its bytes, then all together by size.
fn files(files: &[(String, Vec<u8>)], errors: &mut Vec<FieldError>) -> Vec<Attachment> {
    let mut checked = Vec::new();
    for (name, bytes) in files {
        match attach(name, bytes.clone()) {
            Ok(a) => checked.push(a),
            Err(e) => errors.push(attachment_error(&e)),
        }
    }
    if let Err(e) = check_total(&checked) {
        errors.push(attachment_error(&e));
    }
    checked
}

fn attachment_error(e: &AttachmentError) -> FieldError {
    let max_mb = MAX_ATTACHMENT_BYTES / (1024 * 1024);
    let mb = |n: &usize| format!("{:.1}", *n as f64 / (1024.0 * 1024.0));
    let (ja, en) = match e {
        AttachmentError::WrongType(name) => (
            format!(
                "「{name}」は添付できません。添付できるのはPDFと画像（PNG・JPEG）だけです。何も送信していません。"
            ),
            format!(
                "{name} cannot be attached: only PDF, PNG and JPEG files can. Nothing was sent."
            ),
        ),
        AttachmentError::TooLarge(n) => (
            format!(
                "添付ファイルが大きすぎます（{}MB）。合計{max_mb}MBまでです。何も送信していません。小さいファイルを選び直してください。",
                mb(n)
            ),
            format!(
                "The attachments are too large ({} MB); {max_mb} MB in all. Nothing was sent. Choose smaller files.",
                mb(n)
            ),
        ),
        AttachmentError::Empty(name) => (
            format!("「{name}」は空のファイルです。中身のあるファイルを選んでください。"),
            format!("{name} is empty; choose a file with content."),
        ),
    };
    field_error("attachments", &ja, &en)
}

/// The reminder shown when the form comes back after files were chosen:
/// browsers never keep a chosen file across pages.
fn files_again(s: &Submitted, errors: &mut Vec<FieldError>) {
    if !s.files.is_empty() && !errors.iter().any(|e| e.field == "attachments") {
        errors.push(field_error(
            "attachments",
            "送信していないため、添付ファイルはもう一度選んでください。",
            "Nothing was sent: choose the files again.",
        ));
    }
}

/// Only check: the page again with what is wrong, or that it may be sent.
async fn check(
    state: &UiState,
    signed: &SignedIn,
    lang: Lang,
    s: Submitted,
    draft_id: String,
) -> Result<Response, PageError> {
    let (mut errors, refusal, notice) = match prepare(state, signed, &s).await? {
        Ok(_) => (
            Vec::new(),
            None,
            Some(
                lang.pick(
                    "確認しました。この内容と根拠で送信できます。",
                    "Checked: this can be sent as it is, under this basis.",
                )
                .to_owned(),
            ),
        ),
        Err((errors, refusal)) => (errors, refusal.map(|r| r.text(lang).to_owned()), None),
    };
    files_again(&s, &mut errors);
    let status = match errors.is_empty() {
        true => StatusCode::OK,
        false => StatusCode::UNPROCESSABLE_ENTITY,
    };
    let shown = Shown {
        errors,
        notice,
        refusal,
        draft_id,
    };
    again(state, signed, lang, &s.form, shown, status).await
}

/// Check, open the case if asked, send; back with every reason if not.
async fn send(
    state: &UiState,
    signed: &SignedIn,
    lang: Lang,
    mut s: Submitted,
    draft_id: String,
) -> Result<Response, PageError> {
    let ready = match prepare(state, signed, &s).await? {
        Ok(r) => r,
        Err((mut errors, refusal)) => {
            files_again(&s, &mut errors);
            let refusal = refusal.map(|r| r.text(lang).to_owned());
            let shown = Shown {
                errors,
                notice: None,
                refusal,
                draft_id,
            };
            return again(
                state,
                signed,
                lang,
                &s.form,
                shown,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let Ready {
        mut draft, case, ..
    } = ready;
    if case.is_none() {
        match state.node.open_case().await {
            Ok(id) => {
                // Kept in the form, so a resend after a refusal does not open
                // a second case.
                s.form.case = id.to_string();
                draft.case_id = Some(id);
            }
            Err(e) => return hub_refused(state, signed, lang, s, draft_id, e).await,
        }
    }
    match state.node.send(&draft).await {
        Ok(sent) => {
            drafts::forget(state, signed, &draft_id).await?;
            let (id, queued) = match sent {
                Sent::Accepted { id, .. } => (id, ""),
                Sent::Queued { id, .. } => (id, "?queued=1"),
            };
            Ok(Redirect::to(&format!("/compose/sent/{id}{queued}")).into_response())
        }
        Err(NodeError::Store(e)) => Err(PageError::Store(e)),
        Err(e) => hub_refused(state, signed, lang, s, draft_id, e).await,
    }
}

async fn hub_refused(
    state: &UiState,
    signed: &SignedIn,
    lang: Lang,
    s: Submitted,
    draft_id: String,
    e: NodeError,
) -> Result<Response, PageError> {
    let next = lang.pick(
        "何も送信していません。理由に沿って宛先・根拠・内容を直してから、もう一度送信してください。解決しないときは、センターまたはシステム管理者に連絡してください。",
        "Nothing was sent. Change the recipients, basis or content as the reason says and send again; if that does not help, contact the center or the system administrator.",
    );
    let why = super::super::referral::refusal_text(&state.node, e, next, lang);
    let mut errors = vec![field_error("basis", &why, &why)];
    files_again(&s, &mut errors);
    let shown = Shown {
        errors,
        notice: None,
        refusal: Some(why),
        draft_id,
    };
    again(
        state,
        signed,
        lang,
        &s.form,
        shown,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}
