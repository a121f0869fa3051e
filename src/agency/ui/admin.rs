//! `/admin`: the node's staff accounts, for 管理者 only. The list with each
//! member's role and state; adding a member (their TOTP enrolment QR code
//! and recovery codes shown this once); disable (which ends their live
//! sessions), enable, reset password, reset 2FA. Every change goes through
//! [`StaffAccounts`](crate::agency::staff::StaffAccounts), as the CLI's
//! `agency staff …` does, which checks the role again and logs the change.

use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;

use super::UiState;
use super::admin_log;
use super::auth::SignedIn;
use super::error::PageError;
use super::lang::{Chrome, PageLang};
use crate::agency::staff::{
    Actor, Enrolment, NewStaff, StaffError, StaffId, StaffMember, StaffRole,
};
use crate::i18n::Lang;
use crate::protocol::Timestamp;

/// The administration routes.
pub fn routes() -> Router<UiState> {
    Router::new()
        .route("/admin", get(page))
        .route("/admin/staff", post(add))
        .route("/admin/staff/{id}/{action}", post(act))
        .route("/admin/access-log", get(admin_log::page))
        .route("/admin/access-log.csv", get(admin_log::csv))
}

/// One member as the list shows them.
struct MemberRow {
    id: String,
    name: String,
    role: &'static str,
    contact: String,
    enabled: bool,
    /// The administrator looking at the list (who may not disable
    /// themselves).
    is_self: bool,
}

/// A role in the form's select.
struct RoleOption {
    value: &'static str,
    label: &'static str,
    selected: bool,
}

/// What the add form held, kept after a refusal (never the password).
#[derive(Default)]
struct Typed {
    name: String,
    role: String,
    contact: String,
}

/// Messages at the add form's fields.
#[derive(Default)]
struct AddErrors {
    name: Option<String>,
    role: Option<String>,
    password: Option<String>,
}

impl AddErrors {
    fn any(&self) -> bool {
        self.name.is_some() || self.role.is_some() || self.password.is_some()
    }
}

#[derive(Template)]
#[template(path = "ui/admin.html")]
struct AdminPage {
    chrome: Chrome,
    members: Vec<MemberRow>,
    roles: Vec<RoleOption>,
    typed: Typed,
    errors: AddErrors,
    /// What the last action did.
    done: Option<String>,
    /// Why the last action on a member was refused.
    refusal: Option<String>,
    /// The member whose new password was refused, and why (at the field).
    password_error: Option<(String, String)>,
}

impl AdminPage {
    /// Why the new password for member `id` was refused, if it was.
    fn password_error_for(&self, id: &str) -> Option<&str> {
        match &self.password_error {
            Some((who, why)) if who == id => Some(why),
            _ => None,
        }
    }
}

#[derive(Template)]
#[template(path = "ui/admin_enrolment.html")]
struct EnrolmentPage {
    chrome: Chrome,
    name: String,
    /// Just added (rather than re-enrolled).
    added: bool,
    /// The QR code as a `data:` URI (the CSP allows `img-src data:`).
    qr: String,
    secret: String,
    codes: Vec<String>,
}

#[derive(Deserialize)]
pub struct Done {
    done: Option<String>,
    id: Option<String>,
}

/// The staff list and the add form.
pub async fn page(
    State(state): State<UiState>,
    signed: SignedIn,
    PageLang(lang): PageLang,
    Query(q): Query<Done>,
) -> Result<Response, PageError> {
    signed.require_administrator()?;
    let members = members(&state).await?;
    let done = match (q.done.as_deref(), q.id.as_deref()) {
        (Some(done), Some(id)) => done_message(done, name_of(&members, id), lang),
        _ => None,
    };
    let page = AdminPage {
        done,
        ..admin_page(&signed, lang, members, Typed::default())
    };
    render(page, StatusCode::OK)
}

async fn members(state: &UiState) -> Result<Vec<StaffMember>, PageError> {
    state.accounts.list().await.map_err(internal)
}

fn name_of<'a>(members: &'a [StaffMember], id: &str) -> Option<&'a str> {
    members
        .iter()
        .find(|m| m.id.to_string() == id)
        .map(|m| m.name.as_str())
}

fn admin_page(signed: &SignedIn, lang: Lang, members: Vec<StaffMember>, typed: Typed) -> AdminPage {
    let roles = StaffRole::ALL
        .into_iter()
        .map(|r| RoleOption {
            value: r.as_str(),
            label: r.label(lang),
            selected: typed.role == r.as_str(),
        })
        .collect();
    let members = members
        .into_iter()
        .map(|m| MemberRow {
            id: m.id.to_string(),
            is_self: m.id == signed.member.id,
            enabled: m.is_enabled(),
            role: m.role.label(lang),
            name: m.name,
            contact: m.contact,
        })
        .collect();
    AdminPage {
        chrome: signed.chrome(lang),
        members,
        roles,
        typed,
        errors: AddErrors::default(),
        done: None,
        refusal: None,
        password_error: None,
    }
}

fn render(page: impl Template, status: StatusCode) -> Result<Response, PageError> {
    Ok((status, Html(page.render()?)).into_response())
}

/// A staff-layer failure that is nobody's input.
pub(super) fn internal(e: StaffError) -> PageError {
    match e {
        StaffError::Store(e) => PageError::Store(e),
        StaffError::Crypto(e) => PageError::Crypto(e),
        StaffError::NotAdministrator => PageError::NotAdministrator,
        other => PageError::Staff(other.to_string()),
    }
}

fn done_message(done: &str, name: Option<&str>, lang: Lang) -> Option<String> {
    let what = match done {
        "disabled" => lang.pick(
            "を無効にしました。ログイン中の画面も終了しました。",
            ": disabled; their open sessions have ended.",
        ),
        "enabled" => lang.pick(
            "を有効にしました。",
            ": enabled again.",
        ),
        "password" => lang.pick(
            "のパスワードを再設定しました。ログイン中の画面は終了しました。新しいパスワードを本人に直接伝えてください。",
            ": password reset; their open sessions have ended. Tell them the new password in person.",
        ),
        _ => return None,
    };
    Some(format!("{}{what}", name?))
}

#[derive(Deserialize)]
pub struct AddForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    contact: String,
    #[serde(default)]
    password: String,
}

/// Add a member; the answer is their enrolment, shown this once.
#[tracing::instrument(skip_all)]
pub async fn add(
    State(state): State<UiState>,
    signed: SignedIn,
    PageLang(lang): PageLang,
    Form(form): Form<AddForm>,
) -> Result<Response, PageError> {
    signed.check_csrf(&form.csrf)?;
    signed.require_administrator()?;
    let mut errors = AddErrors::default();
    let role = form.role.parse::<StaffRole>().ok();
    if role.is_none() {
        errors.role = Some(
            lang.pick("職種を選んでください。", "Choose a role.")
                .to_owned(),
        );
    }
    if form.password.is_empty() {
        errors.password = Some(
            lang.pick(
                "初期パスワードを入力してください（12文字以上）。",
                "Enter an initial password (12 characters or more).",
            )
            .to_owned(),
        );
    }
    let result = match (role, errors.any()) {
        (Some(role), false) => {
            let new = NewStaff {
                name: &form.name,
                role,
                contact: &form.contact,
                password: &form.password,
            };
            Some(
                state
                    .accounts
                    .add(Actor::Staff(&signed.member), new, Timestamp::now())
                    .await,
            )
        }
        _ => None,
    };
    match result {
        Some(Ok((member, enrolment))) => enrolment_page(&signed, lang, &member, &enrolment, true),
        Some(Err(e)) => {
            match e {
                StaffError::InvalidName => errors.name = Some(invalid_name(lang).to_owned()),
                StaffError::NameTaken(name) => {
                    errors.name = Some(match lang {
                        Lang::Ja => format!(
                            "「{name}」という職員はすでに登録されています。同姓同名の方は、区別できるよう氏名に所属や番号を添えてください。"
                        ),
                        Lang::En => format!(
                            "A staff member named {name} already exists. For a namesake, add their team or a number to the name."
                        ),
                    })
                }
                StaffError::WeakPassword(w) => errors.password = Some(weak(&w, lang)),
                other => return Err(internal(other)),
            }
            refuse_add(&state, &signed, lang, form, errors).await
        }
        None => refuse_add(&state, &signed, lang, form, errors).await,
    }
}

async fn refuse_add(
    state: &UiState,
    signed: &SignedIn,
    lang: Lang,
    form: AddForm,
    errors: AddErrors,
) -> Result<Response, PageError> {
    let typed = Typed {
        name: form.name,
        role: form.role,
        contact: form.contact,
    };
    let page = AdminPage {
        errors,
        ..admin_page(signed, lang, members(state).await?, typed)
    };
    render(page, StatusCode::UNPROCESSABLE_ENTITY)
}

fn invalid_name(lang: Lang) -> &'static str {
    lang.pick(
        "氏名を入力してください。64文字以内で、「:」や改行は使えません。",
        "Enter a name: at most 64 characters, without ':' or line breaks.",
    )
}

fn weak(w: &crate::agency::staff::WeakPassword, lang: Lang) -> String {
    format!(
        "{}: {}",
        lang.pick("このパスワードは使えません", "This password cannot be used"),
        w.advice(lang)
    )
}

fn enrolment_page(
    signed: &SignedIn,
    lang: Lang,
    member: &StaffMember,
    enrolment: &Enrolment,
    added: bool,
) -> Result<Response, PageError> {
    let svg = enrolment
        .qr_svg()
        .map_err(|e| PageError::Staff(format!("QR code: {e}")))?;
    let page = EnrolmentPage {
        chrome: signed.chrome(lang),
        name: member.name.clone(),
        added,
        qr: format!("data:image/svg+xml;base64,{}", STANDARD.encode(svg)),
        secret: enrolment.secret_base32.clone(),
        codes: enrolment.recovery_codes.clone(),
    };
    render(page, StatusCode::OK)
}

#[derive(Deserialize)]
pub struct ActForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    password: String,
}

/// What can be done to a member.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Action {
    Disable,
    Enable,
    Password,
    SecondFactor,
}

impl Action {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "disable" => Some(Action::Disable),
            "enable" => Some(Action::Enable),
            "password" => Some(Action::Password),
            "second-factor" => Some(Action::SecondFactor),
            _ => None,
        }
    }
}

/// Disable, enable, reset the password or the second factor of a member.
#[tracing::instrument(skip_all, fields(staff = %id, action = %action))]
pub async fn act(
    State(state): State<UiState>,
    signed: SignedIn,
    PageLang(lang): PageLang,
    Path((id, action)): Path<(String, String)>,
    Form(form): Form<ActForm>,
) -> Result<Response, PageError> {
    signed.check_csrf(&form.csrf)?;
    signed.require_administrator()?;
    let action = Action::parse(&action).ok_or(PageError::NotFound)?;
    let Ok(staff_id) = id.parse::<StaffId>() else {
        return refuse_act(
            &state,
            &signed,
            lang,
            unknown_member(lang),
            StatusCode::NOT_FOUND,
        )
        .await;
    };
    let accounts = &state.accounts;
    let by = Actor::Staff(&signed.member);
    let now = Timestamp::now();
    let result = match action {
        Action::Disable => accounts.disable(by, staff_id, now).await.map(|()| None),
        Action::Enable => accounts.enable(by, staff_id, now).await.map(|()| None),
        Action::Password if form.password.is_empty() => {
            let why = lang.pick(
                "新しいパスワードを入力してください（12文字以上）。",
                "Enter the new password (12 characters or more).",
            );
            return refuse_password(&state, &signed, lang, &id, why.to_owned()).await;
        }
        Action::Password => accounts
            .reset_password(by, staff_id, &form.password, now)
            .await
            .map(|()| None),
        Action::SecondFactor => accounts
            .reset_second_factor(by, staff_id, now)
            .await
            .map(Some),
    };
    match result {
        Ok(Some(enrolment)) => {
            let member = accounts.get(staff_id).await.map_err(internal)?;
            enrolment_page(&signed, lang, &member, &enrolment, false)
        }
        Ok(None) => {
            let done = match action {
                Action::Disable => "disabled",
                Action::Enable => "enabled",
                _ => "password",
            };
            Ok(Redirect::to(&format!("/admin?done={done}&id={staff_id}")).into_response())
        }
        Err(StaffError::WeakPassword(w)) => {
            refuse_password(&state, &signed, lang, &id, weak(&w, lang)).await
        }
        Err(StaffError::NotFound(_)) => {
            refuse_act(
                &state,
                &signed,
                lang,
                unknown_member(lang),
                StatusCode::NOT_FOUND,
            )
            .await
        }
        Err(StaffError::LastAdministrator) => {
            let why = lang.pick(
                "有効な管理者がいなくなるため、この操作はできません。先に別の職員を「管理者」として登録してください。",
                "This would leave no enabled administrator. First add another member with the administrator role.",
            );
            refuse_act(&state, &signed, lang, why.to_owned(), StatusCode::CONFLICT).await
        }
        Err(StaffError::OwnAccount) => {
            let why = lang.pick(
                "自分のアカウントは無効にできません。別の管理者に依頼してください。",
                "You cannot disable your own account. Ask another administrator.",
            );
            refuse_act(&state, &signed, lang, why.to_owned(), StatusCode::CONFLICT).await
        }
        Err(other) => Err(internal(other)),
    }
}

fn unknown_member(lang: Lang) -> String {
    lang.pick(
        "その職員は登録されていません。一覧を開き直して、もう一度選んでください。",
        "No such staff member. Reload the list and choose again.",
    )
    .to_owned()
}

async fn refuse_act(
    state: &UiState,
    signed: &SignedIn,
    lang: Lang,
    why: String,
    status: StatusCode,
) -> Result<Response, PageError> {
    let page = AdminPage {
        refusal: Some(why),
        ..admin_page(signed, lang, members(state).await?, Typed::default())
    };
    render(page, status)
}

async fn refuse_password(
    state: &UiState,
    signed: &SignedIn,
    lang: Lang,
    id: &str,
    why: String,
) -> Result<Response, PageError> {
    let page = AdminPage {
        password_error: Some((id.to_owned(), why)),
        ..admin_page(signed, lang, members(state).await?, Typed::default())
    };
    render(page, StatusCode::UNPROCESSABLE_ENTITY)
}
