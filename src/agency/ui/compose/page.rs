//! The form's handlers: show it (fresh, or a draft resumed), take what was
//! submitted (save as a draft, check the basis, or send), and the
//! confirmation once sent.

use std::collections::BTreeSet;

use askama::Template;
use axum::extract::multipart::{Multipart, MultipartError, MultipartRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::super::UiState;
use super::super::auth::SignedIn;
use super::super::error::PageError;
use super::super::lang::{Chrome, PageLang};
use super::drafts;
use super::form::{self, ComposeForm};
use super::view::{Field, Kind, Layout, Section, anchor, field_id};
use crate::agency::sharing::{self, KnownConsent, STATUTORY, Sharing};
use crate::agency::{Draft, NodeError, Sent};
use crate::i18n::Lang;
use crate::protocol::attachment::{AttachmentError, MAX_ATTACHMENT_BYTES, attach, check_total};
use crate::protocol::payload::{Attachment, Body, Payload};
use crate::protocol::referral::FieldError;
use crate::protocol::{AgencyId, CaseId, EnvelopeId, LegalBasis, Purpose, Timestamp};

/// One entry of the error summary: a link to the field and its message.
pub struct Problem {
    pub href: String,
    pub message: String,
}

/// What each recipient can be reached under, for the table beside the
/// recipients.
pub struct Reach {
    pub agency: String,
    pub kind: String,
    /// Labels of the bases that cover it for this referral.
    pub bases: Vec<String>,
}

#[derive(Template)]
#[template(path = "ui/compose.html")]
struct ComposePage {
    chrome: Chrome,
    problems: Vec<Problem>,
    notice: Option<String>,
    /// Why it was not sent (the node's check or the hub).
    refusal: Option<String>,
    draft_id: String,
    drafts: Vec<drafts::Item>,
    case: Field,
    urgency: Field,
    recipients: Field,
    reach: Vec<Reach>,
    basis: Field,
    justification: Field,
    sections: Vec<Section>,
    files: Field,
}

/// Everything the page needs besides the form.
struct Shown {
    errors: Vec<FieldError>,
    notice: Option<String>,
    refusal: Option<String>,
    draft_id: String,
}

impl Shown {
    fn fresh(draft_id: String, notice: Option<String>) -> Self {
        Shown {
            errors: Vec::new(),
            notice,
            refusal: None,
            draft_id,
        }
    }
}

#[derive(Deserialize)]
pub struct Opened {
    draft: Option<String>,
    saved: Option<String>,
    deleted: Option<String>,
}

/// The form: empty, or a draft of this member resumed.
pub async fn show(
    State(state): State<UiState>,
    signed: SignedIn,
    PageLang(lang): PageLang,
    Query(opened): Query<Opened>,
) -> Result<Html<String>, PageError> {
    let (form, draft_id) = match &opened.draft {
        Some(id) => (drafts::load(&state, &signed, id).await?, id.clone()),
        None => (fresh_form(), uuid::Uuid::new_v4().to_string()),
    };
    let notice = if opened.saved.is_some() {
        Some(lang.pick(
            "下書きを保存しました。この画面の「下書き」からいつでも続けられます（添付ファイルは保存されません）。",
            "Draft saved. Resume it any time from Drafts on this page (attached files are not saved).",
        ))
    } else if opened.deleted.is_some() {
        Some(lang.pick("下書きを削除しました。", "Draft deleted."))
    } else {
        None
    };
    let shown = Shown::fresh(draft_id, notice.map(str::to_owned));
    render(&state, &signed, lang, &form, shown).await
}

fn fresh_form() -> ComposeForm {
    ComposeForm {
        case: "new".into(),
        urgency: "normal".into(),
        ..ComposeForm::default()
    }
}

/// Draw the page for `form`.
async fn render(
    state: &UiState,
    signed: &SignedIn,
    lang: Lang,
    form: &ComposeForm,
    shown: Shown,
) -> Result<Html<String>, PageError> {
    let layout = Layout {
        form,
        errors: &shown.errors,
        lang,
    };
    let cases = known_cases(state).await?;
    let consents = match form.case.parse::<CaseId>() {
        Ok(case) => sharing::consents_for(state.node.records(), state.node.id(), &case).await?,
        Err(_) => Vec::new(),
    };
    let page = ComposePage {
        chrome: Chrome {
            lang,
            staff: Some(signed.member.name.clone()),
            csrf: signed.token.csrf().expose().to_owned(),
        },
        problems: Vec::new(),
        notice: shown.notice,
        refusal: shown.refusal,
        draft_id: shown.draft_id,
        drafts: drafts::list(state, signed, lang).await?,
        case: case_field(&layout, cases),
        urgency: layout.urgency(),
        recipients: recipients_field(state, &layout),
        reach: reach(state, form, &consents, lang),
        basis: basis_field(state, &layout, &consents),
        justification: Field {
            hint: Some(lang.pick(
                "法令上の根拠で送るときは必須。どの根拠に、なぜ当たるのかを書いてください（相手の機関とセンターが読みます）。",
                "Required under a statutory basis: why it applies (the recipients and the center read it).",
            ).to_owned()),
            ..layout.field("justification", lang.pick("提供の理由", "Justification").to_owned(), Kind::Area)
        },
        sections: layout.referral_sections(),
        files: Field {
            hint: Some(lang.pick(
                "PDF・PNG・JPEG、合計5MBまで。相手の機関にだけ暗号化して届きます。",
                "PDF, PNG or JPEG, 5 MB in all; encrypted to the recipients only.",
            ).to_owned()),
            ..layout.field("attachments", lang.pick("添付ファイル", "Attachments").to_owned(), Kind::Files)
        },
    };
    let page = ComposePage {
        problems: problems(&page, &shown.errors, lang),
        ..page
    };
    Ok(Html(page.render()?))
}

/// The summary at the top: each problem, linking to its field, in the
/// order the fields appear on the page.
fn problems(page: &ComposePage, errors: &[FieldError], lang: Lang) -> Vec<Problem> {
    let order: Vec<&str> = [
        &page.case,
        &page.urgency,
        &page.recipients,
        &page.basis,
        &page.justification,
    ]
    .into_iter()
    .chain(page.sections.iter().flat_map(|s| s.fields.iter()))
    .chain([&page.files])
    .map(|f| f.name.as_str())
    .collect();
    let mut found: Vec<(usize, Problem)> = errors
        .iter()
        .map(|e| {
            let at = anchor(&e.field);
            let place = order.iter().position(|n| *n == at).unwrap_or(order.len());
            let problem = Problem {
                href: format!("#{}", field_id(&at)),
                message: e.message(lang).to_owned(),
            };
            (place, problem)
        })
        .collect();
    found.sort_by_key(|(place, _)| *place);
    found.into_iter().map(|(_, p)| p).collect()
}

/// The cases this node holds something about, newest first, each named by
/// the mother of its latest referral when there is one.
async fn known_cases(state: &UiState) -> Result<Vec<(String, String)>, PageError> {
    let records = state.node.records();
    let received = records
        .inbox()
        .await?
        .into_iter()
        .map(|r| (r.case_id, r.created_at, r.kind, r.payload));
    let sent = records
        .outbox()
        .await?
        .into_iter()
        .map(|r| (r.case_id, r.created_at, r.kind, r.payload));
    let mut all: Vec<_> = received
        .chain(sent)
        .filter_map(|(c, at, k, p)| Some((c?, at, k, p)))
        .collect();
    all.sort_by_key(|(_, at, _, _)| std::cmp::Reverse(*at));
    let mut cases: Vec<(String, String)> = Vec::new();
    for (case, _, kind, payload) in all {
        let name = (kind == "referral")
            .then(|| serde_json::from_str::<Payload>(&payload).ok())
            .flatten()
            .and_then(|p| match p.body {
                Body::Referral(r) => Some(r.mother.name),
                _ => None,
            });
        match cases.iter_mut().find(|(c, _)| *c == case) {
            Some((_, label)) if label.is_empty() => *label = name.unwrap_or_default(),
            Some(_) => {}
            None => cases.push((case, name.unwrap_or_default())),
        }
    }
    Ok(cases)
}

fn case_field(layout: &Layout, cases: Vec<(String, String)>) -> Field {
    let lang = layout.lang;
    let mut options = vec![(
        "new".to_owned(),
        lang.pick(
            "新しいケースを開く（IDはハブが発行）",
            "Open a new case (the hub issues its id)",
        )
        .to_owned(),
    )];
    options.extend(cases.into_iter().map(|(id, name)| {
        let label = match name.is_empty() {
            true => id.clone(),
            false => format!("{name}（{id}）"),
        };
        (id, label)
    }));
    layout.choices(
        layout.required("case", lang.pick("ケース", "Case").to_owned(), Kind::Select),
        options,
        &[],
    )
}

fn recipients_field(state: &UiState, layout: &Layout) -> Field {
    let lang = layout.lang;
    let options = others(state)
        .map(|a| {
            (
                a.id.to_string(),
                format!("{}（{}）", a.name, a.kind.label(lang)),
            )
        })
        .collect();
    layout.choices(
        layout.required(
            "recipients",
            lang.pick("宛先（1つ以上）", "Recipients (one or more)")
                .to_owned(),
            Kind::Checks,
        ),
        options,
        &layout.form.recipients,
    )
}

/// Every agency in the directory but this one.
fn others(state: &UiState) -> impl Iterator<Item = &crate::protocol::Agency> {
    let me = state.node.id().clone();
    state
        .node
        .directory()
        .agencies()
        .iter()
        .filter(move |a| a.id != me)
}

/// The consent's scope in a line: who may receive, what, for what.
fn consent_label(state: &UiState, c: &KnownConsent, lang: Lang) -> String {
    use crate::protocol::consent::ConsentRecipient;
    let s = &c.scope;
    let to: Vec<String> = s
        .recipients
        .iter()
        .map(|r| match r {
            ConsentRecipient::Agency(id) => state.node.directory().name_of(id.as_str()),
            ConsentRecipient::Kind(k) => k.label(lang).to_owned(),
        })
        .collect();
    let what: Vec<&str> = s.categories.iter().map(|c| c.label(lang)).collect();
    let why: Vec<&str> = s.purposes.iter().map(|p| p.label(lang)).collect();
    let sep = lang.pick("、", ", ");
    let ended = match c.ended {
        Some(_) => lang.pick("【撤回・終了済み】", "[ended] "),
        None => "",
    };
    match lang {
        Lang::Ja => format!(
            "{ended}本人同意（{}・{}）提供先: {} ／ 情報: {} ／ 目的: {}",
            s.given_by.label(lang),
            s.method.label(lang),
            to.join(sep),
            what.join(sep),
            why.join(sep)
        ),
        Lang::En => format!(
            "{ended}Consent ({}, {}): to {}; information: {}; purposes: {}",
            s.given_by.label(lang),
            s.method.label(lang),
            to.join(sep),
            what.join(sep),
            why.join(sep)
        ),
    }
}

fn basis_field(state: &UiState, layout: &Layout, consents: &[KnownConsent]) -> Field {
    let lang = layout.lang;
    let mut options: Vec<(String, String)> = consents
        .iter()
        .map(|c| {
            (
                format!("consent:{}", c.scope.consent_id),
                consent_label(state, c, lang),
            )
        })
        .collect();
    options.extend(
        STATUTORY
            .iter()
            .map(|b| (b.as_str().to_owned(), b.label(lang).to_owned())),
    );
    let mut field = layout.choices(
        layout.required(
            "basis",
            lang.pick("提供の根拠", "Legal basis").to_owned(),
            Kind::Radios,
        ),
        options,
        &[],
    );
    let consent_help = sharing::explain(
        &LegalBasis::Consent {
            consent_id: Default::default(),
        },
        lang,
    );
    for choice in &mut field.choices {
        let basis = STATUTORY.iter().find(|b| b.as_str() == choice.value);
        choice.hint = Some(
            basis
                .map_or(consent_help, |b| sharing::explain(b, lang))
                .to_owned(),
        );
    }
    field.hint = Some(match consents.is_empty() {
        true => lang.pick(
            "このケースについてこの機関が知っている同意はありません。同意に基づいて送るには、先に同意を記録してください。",
            "No consent about this case is known here; to send under consent, record it first.",
        ),
        false => lang.pick(
            "同意は、選んだケースについて記録されたものだけが表示されます。",
            "Only consents recorded for the chosen case are listed.",
        ),
    }.to_owned());
    field
}

/// For each other agency, the bases that would cover it for this referral
/// as typed so far.
fn reach(state: &UiState, form: &ComposeForm, consents: &[KnownConsent], lang: Lang) -> Vec<Reach> {
    let (referral, _) = form::read(form, Timestamp::now().datetime().date());
    let categories: BTreeSet<_> = referral.categories();
    let urgency = form.urgency().unwrap_or(crate::protocol::Urgency::Normal);
    others(state)
        .map(|a| {
            let to = [a.id.clone()];
            let check = Sharing {
                directory: state.node.directory(),
                sender: state.node.id(),
                recipients: &to,
                categories: &categories,
                purpose: Purpose::Referral,
                urgency,
                now: Timestamp::now(),
                new_case: form.case.parse::<CaseId>().is_err(),
            };
            let by_consent = consents
                .iter()
                .filter(|c| check.check(&consent_basis(c), Some(c)).is_ok())
                .map(|_| lang.pick("本人同意", "consent").to_owned());
            let by_law = STATUTORY
                .iter()
                .filter(|b| check.check(b, None).is_ok())
                .map(|b| b.label(lang).to_owned());
            Reach {
                agency: a.name.clone(),
                kind: a.kind.label(lang).to_owned(),
                bases: by_consent.chain(by_law).collect(),
            }
        })
        .collect()
}

fn consent_basis(c: &KnownConsent) -> LegalBasis {
    LegalBasis::Consent {
        consent_id: c.scope.consent_id,
    }
}

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

/// The page again, with `status`.
async fn again(
    state: &UiState,
    signed: &SignedIn,
    lang: Lang,
    form: &ComposeForm,
    shown: Shown,
    status: StatusCode,
) -> Result<Response, PageError> {
    let html = render(state, signed, lang, form, shown).await?;
    Ok((status, html).into_response())
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
    let today = Timestamp::now().datetime().date();
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
        None => STATUTORY.iter().find(|b| b.as_str() == form.basis).cloned(),
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

#[derive(Template)]
#[template(path = "ui/compose_sent.html")]
struct SentPage {
    chrome: Chrome,
    id: String,
    case_id: String,
    recipients: Vec<String>,
    queued: bool,
}

#[derive(Deserialize)]
pub struct SentQuery {
    queued: Option<String>,
}

/// The confirmation: what went where, the record one click away.
pub async fn sent(
    State(state): State<UiState>,
    signed: SignedIn,
    PageLang(lang): PageLang,
    Path(id): Path<String>,
    Query(q): Query<SentQuery>,
) -> Result<Html<String>, PageError> {
    let id: EnvelopeId = id.parse().map_err(|_| PageError::NotFound)?;
    let row = state
        .node
        .records()
        .outbox_item(id)
        .await?
        .ok_or(PageError::NotFound)?;
    let ids: Vec<String> = serde_json::from_str(&row.recipients).unwrap_or_default();
    let page = SentPage {
        chrome: Chrome {
            lang,
            staff: Some(signed.member.name.clone()),
            csrf: signed.token.csrf().expose().to_owned(),
        },
        id: row.envelope_id,
        case_id: row.case_id.unwrap_or_default(),
        recipients: ids
            .iter()
            .map(|r| state.node.directory().name_of(r))
            .collect(),
        queued: q.queued.is_some() || row.status == "pending",
    };
    Ok(Html(page.render()?))
}
