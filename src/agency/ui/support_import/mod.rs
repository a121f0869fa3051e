//! Excel in and out on the center's node: `/support/import` (upload an
//! .xlsx or CSV, see what each column became and change it, see the dry
//! run — new, changed, unchanged, refused with reasons by row and column —
//! then 取り込む), and the downloads `/support/export.xlsx` and
//! `/support/export.csv` (written to the access log first). The steps are
//! `agency::support_ledger::exchange`'s, as the CLI takes them.

mod upload;
mod view;

use axum::Router;
use axum::extract::multipart::{Multipart, MultipartError, MultipartRejection};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use super::UiState;
use super::auth::SignedIn;
use super::error::{PageError, center_only};
use super::lang::PageLang;
use super::meetings::form::Posted;
use crate::agency::staff::Viewed;
use crate::agency::support_ledger::exchange::{
    self, ImportError, MAX_FILE_BYTES, Override, PrepareError, ReadError, Target, export, mapping,
    parse_override,
};
use crate::agency::support_ledger::{self, SupportLedgerError};
use crate::i18n::Lang;
use crate::protocol::Timestamp;
use crate::protocol::day::Day;
use upload::Uploads;
use view::{done_page, plan_page, upload_page};

/// A file may be 50 MB; the multipart framing needs a little more. A larger
/// body is answered with the form and the reason, not a bare 413.
const BODY_LIMIT: usize = MAX_FILE_BYTES + 1024 * 1024;

/// The import and export routes.
pub fn routes() -> Router<UiState> {
    Router::new()
        .route(
            "/support/import",
            get(form)
                .post(receive)
                .layer(DefaultBodyLimit::max(BODY_LIMIT)),
        )
        .route("/support/import/{token}", get(preview).post(confirm))
        .route("/support/import/{token}/mapping", post(remap))
        .route("/support/import/{token}/cancel", post(cancel))
        .route("/support/export.xlsx", get(export_xlsx))
        .route("/support/export.csv", get(export_csv))
}

fn uploads(state: &UiState) -> Uploads {
    Uploads::beside(state.node.records().file())
}

fn store_error(e: SupportLedgerError) -> PageError {
    match e {
        SupportLedgerError::Store(e) => PageError::Store(e),
        other => PageError::Store(crate::store::StoreError::Corrupt(other.to_string())),
    }
}

fn io_error(e: std::io::Error) -> PageError {
    PageError::Store(crate::store::StoreError::Corrupt(format!(
        "support import upload: {e}"
    )))
}

/// The upload form.
#[tracing::instrument(skip_all)]
pub async fn form(
    State(state): State<UiState>,
    signed: SignedIn,
    PageLang(lang): PageLang,
) -> Result<Response, PageError> {
    center_only(&state.node)?;
    upload_page(&signed, lang, None, StatusCode::OK)
}

/// What the upload form sent.
struct Received {
    csrf: String,
    file_name: String,
    bytes: Vec<u8>,
}

/// Read the body; `None` when it is over the limit (nothing of it is used).
async fn read(mut multipart: Multipart) -> Result<Option<Received>, MultipartError> {
    let mut r = Received {
        csrf: String::new(),
        file_name: String::new(),
        bytes: Vec::new(),
    };
    let too_large = |e: &MultipartError| e.status() == StatusCode::PAYLOAD_TOO_LARGE;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => return Ok(Some(r)),
            Err(e) if too_large(&e) => return Ok(None),
            Err(e) => return Err(e),
        };
        match field.name().unwrap_or_default() {
            "file" => {
                r.file_name = field.file_name().unwrap_or_default().to_owned();
                r.bytes = match field.bytes().await {
                    Ok(b) => b.to_vec(),
                    Err(e) if too_large(&e) => return Ok(None),
                    Err(e) => return Err(e),
                };
            }
            "csrf" => {
                r.csrf = match field.text().await {
                    Ok(t) => t,
                    Err(e) if too_large(&e) => return Ok(None),
                    Err(e) => return Err(e),
                };
            }
            _ => {}
        }
    }
}

/// Keep the upload and show its plan; a file that cannot be read at all is
/// refused at the file field.
#[tracing::instrument(skip_all)]
pub async fn receive(
    State(state): State<UiState>,
    signed: SignedIn,
    PageLang(lang): PageLang,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, PageError> {
    center_only(&state.node)?;
    let received = match multipart {
        Ok(m) => read(m).await.map_err(|e| {
            tracing::warn!(error = %e, "unreadable upload");
            PageError::BadForm
        })?,
        Err(e) => {
            tracing::warn!(error = %e, "not a multipart form");
            return Err(PageError::BadForm);
        }
    };
    let Some(received) = received else {
        let message = ReadError::TooLarge(BODY_LIMIT).text(lang);
        return upload_page(&signed, lang, Some(message), StatusCode::PAYLOAD_TOO_LARGE);
    };
    signed.check_csrf(&received.csrf)?;
    if received.bytes.is_empty() {
        let message = lang.pick(
            "ファイルが選ばれていません。取り込む .xlsx または .csv ファイルを選んでください",
            "no file was chosen; choose the .xlsx or .csv file to import",
        );
        return upload_page(&signed, lang, Some(message.into()), StatusCode::BAD_REQUEST);
    }
    // Refused before anything is kept when it cannot be read at all.
    if let Err(e) = exchange::read::read(&received.bytes) {
        let status = match e {
            ReadError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            _ => StatusCode::BAD_REQUEST,
        };
        return upload_page(&signed, lang, Some(e.text(lang)), status);
    }
    let token = uploads(&state)
        .keep(
            &signed.member,
            &received.file_name,
            &received.bytes,
            Timestamp::now(),
        )
        .map_err(io_error)?;
    Ok(Redirect::to(&format!("/support/import/{token}")).into_response())
}

/// The plan of a kept upload: the mapping, the counts and every refusal.
#[tracing::instrument(skip_all)]
pub async fn preview(
    State(state): State<UiState>,
    signed: SignedIn,
    PageLang(lang): PageLang,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    center_only(&state.node)?;
    show_plan(&state, &signed, lang, &token, None, StatusCode::OK).await
}

fn overrides_of(kept: &[(String, String)]) -> Vec<Override> {
    kept.iter()
        .filter_map(|(h, f)| parse_override(&format!("{h}={f}")).ok())
        .collect()
}

async fn show_plan(
    state: &UiState,
    signed: &SignedIn,
    lang: Lang,
    token: &str,
    message: Option<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let now = Timestamp::now();
    let Some((meta, bytes)) = uploads(state).get(&signed.member, token, now) else {
        return gone(signed, lang);
    };
    let overrides = overrides_of(&meta.overrides);
    match exchange::prepare(state.node.records(), &bytes, &overrides, Day::of(now)).await {
        Ok(plan) => plan_page(signed, lang, token, &meta.file_name, &plan, message, status),
        Err(PrepareError::Read(e)) => {
            upload_page(signed, lang, Some(e.text(lang)), StatusCode::BAD_REQUEST)
        }
        Err(PrepareError::Ledger(e)) => Err(store_error(e)),
    }
}

/// An upload that is not (or no longer) there: back to the form, saying so.
fn gone(signed: &SignedIn, lang: Lang) -> Result<Response, PageError> {
    let message = lang.pick(
        "この取り込みは見つかりません（取り込み済み・取り消し済みか、1時間を過ぎて削除されました）。ファイルをもう一度選んでください",
        "this import is not here (done, cancelled, or deleted after an hour); choose the file again",
    );
    upload_page(signed, lang, Some(message.into()), StatusCode::NOT_FOUND)
}

/// Change what the columns become, then show the plan again.
#[tracing::instrument(skip_all)]
pub async fn remap(
    State(state): State<UiState>,
    Path(token): Path<String>,
    posted: Posted,
) -> Result<Response, PageError> {
    center_only(&state.node)?;
    let Posted { signed, lang, f } = posted;
    let now = Timestamp::now();
    let Some((_, bytes)) = uploads(&state).get(&signed.member, &token, now) else {
        return gone(&signed, lang);
    };
    let headings = match exchange::read::read(&bytes) {
        Ok(book) => book.rows.headings,
        Err(e) => return upload_page(&signed, lang, Some(e.text(lang)), StatusCode::BAD_REQUEST),
    };
    // Only what differs from what the heading is recognised as is kept.
    let mut overrides = Vec::new();
    for (i, heading) in headings.iter().enumerate() {
        let chosen = f.get(&format!("col{i}"));
        let target = match chosen {
            "" => continue,
            "ignore" => Target::Ignored,
            field => match support_ledger::FIELDS.iter().find(|(f, _, _)| *f == field) {
                Some((f, _, _)) => Target::Field(f),
                None => continue,
            },
        };
        let auto = mapping::recognise(heading);
        let same = target == auto || (target == Target::Ignored && auto == Target::Computed);
        if !same {
            let field = match target {
                Target::Field(f) => f,
                _ => "ignore",
            };
            overrides.push((heading.clone(), field.to_owned()));
        }
    }
    if !uploads(&state)
        .set_overrides(&signed.member, &token, overrides, now)
        .map_err(io_error)?
    {
        return gone(&signed, lang);
    }
    Ok(Redirect::to(&format!("/support/import/{token}")).into_response())
}

/// 取り込む: write the plan in one transaction, or nothing.
#[tracing::instrument(skip_all)]
pub async fn confirm(
    State(state): State<UiState>,
    Path(token): Path<String>,
    posted: Posted,
) -> Result<Response, PageError> {
    center_only(&state.node)?;
    let Posted { signed, lang, .. } = posted;
    let now = Timestamp::now();
    let kept = uploads(&state);
    let Some((meta, bytes)) = kept.get(&signed.member, &token, now) else {
        return gone(&signed, lang);
    };
    let records = state.node.records();
    let plan = match exchange::prepare(
        records,
        &bytes,
        &overrides_of(&meta.overrides),
        Day::of(now),
    )
    .await
    {
        Ok(plan) => plan,
        Err(PrepareError::Read(e)) => {
            return upload_page(&signed, lang, Some(e.text(lang)), StatusCode::BAD_REQUEST);
        }
        Err(PrepareError::Ledger(e)) => return Err(store_error(e)),
    };
    let refused = lang.pick(
        "取り込めない行があるため、何も取り込んでいません。理由を確かめてファイルを直すか、列の対応を変えてください",
        "some rows cannot be imported, so nothing was imported; check the reasons, then correct the file or the column mapping",
    );
    match exchange::import(records, &plan, &signed.member.name, now).await {
        Ok(done) => {
            kept.remove(&token);
            done_page(&signed, lang, &meta.file_name, &plan, done)
        }
        Err(ImportError::Refused) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            plan_page(
                &signed,
                lang,
                &token,
                &meta.file_name,
                &plan,
                Some(refused.into()),
                status,
            )
        }
        Err(ImportError::Ledger(
            SupportLedgerError::Stale | SupportLedgerError::NumberTaken(_),
        )) => {
            let message = lang.pick(
                "確認の後に台帳が変更されたため、何も取り込んでいません。もう一度確認してから取り込んでください",
                "the ledger changed after the check, so nothing was imported; check again, then import",
            );
            show_plan(
                &state,
                &signed,
                lang,
                &token,
                Some(message.into()),
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(ImportError::Ledger(e)) => Err(store_error(e)),
    }
}

/// Forget an upload.
#[tracing::instrument(skip_all)]
pub async fn cancel(
    State(state): State<UiState>,
    Path(token): Path<String>,
    posted: Posted,
) -> Result<Response, PageError> {
    center_only(&state.node)?;
    let kept = uploads(&state);
    if kept
        .get(&posted.signed.member, &token, Timestamp::now())
        .is_some()
    {
        kept.remove(&token);
    }
    Ok(Redirect::to("/support/import").into_response())
}

/// The whole ledger, as a download; the export is written to the access
/// log first.
async fn exported(state: &UiState, signed: &SignedIn) -> Result<support_ledger::Ledger, PageError> {
    center_only(&state.node)?;
    signed
        .viewed(state, Viewed::SupportSubject, "export")
        .await?;
    support_ledger::load(state.node.records(), Day::of(Timestamp::now()))
        .await
        .map_err(store_error)
}

fn download(bytes: Vec<u8>, content_type: &'static str, extension: &str) -> Response {
    let file = format!("support-ledger-{}.{extension}", Day::of(Timestamp::now()));
    let mut response = bytes.into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    response
}

#[tracing::instrument(skip_all)]
pub async fn export_xlsx(
    State(state): State<UiState>,
    signed: SignedIn,
) -> Result<Response, PageError> {
    let ledger = exported(&state, &signed).await?;
    let bytes = export::xlsx(&ledger)
        .map_err(|e| PageError::Store(crate::store::StoreError::Corrupt(e.to_string())))?;
    Ok(download(
        bytes,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "xlsx",
    ))
}

#[tracing::instrument(skip_all)]
pub async fn export_csv(
    State(state): State<UiState>,
    signed: SignedIn,
) -> Result<Response, PageError> {
    let ledger = exported(&state, &signed).await?;
    let text = export::csv(&ledger)
        .map_err(|e| PageError::Store(crate::store::StoreError::Corrupt(e.to_string())))?;
    Ok(download(
        text.into_bytes(),
        "text/csv; charset=utf-8",
        "csv",
    ))
}
