//! `GET /envelopes/{id}/attachments/{n}`: a file carried in a referral,
//! always as a download (`Content-Disposition: attachment`), typed by what
//! its bytes are (never by what the sender said) and never sniffed by the
//! browser. Each download is written to the access log first.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::super::UiState;
use super::super::auth::SignedIn;
use super::super::error::PageError;
use crate::agency::staff::Viewed;
use crate::protocol::EnvelopeId;
use crate::protocol::attachment::FileType;
use crate::protocol::payload::{Attachment, Body, Payload};
use crate::store::StoreError;
use crate::store::records::Records;

/// The files of a referral this node holds (received or sent).
pub async fn of_referral(records: &Records, id: EnvelopeId) -> Result<Vec<Attachment>, StoreError> {
    let payload = match records.inbox_item(id).await? {
        Some(row) => row.payload,
        None => match records.outbox_item(id).await? {
            Some(row) => row.payload,
            None => return Ok(Vec::new()),
        },
    };
    Ok(match serde_json::from_str::<Payload>(&payload) {
        Ok(Payload {
            body: Body::Referral(r),
            ..
        }) => r.attachments,
        _ => Vec::new(),
    })
}

/// One file, as a download.
#[tracing::instrument(skip_all, fields(envelope = %id, n))]
pub async fn download(
    State(state): State<UiState>,
    signed: SignedIn,
    Path((id, n)): Path<(String, usize)>,
) -> Result<Response, PageError> {
    let id: EnvelopeId = id.parse().map_err(|_| PageError::NotFound)?;
    let files = of_referral(state.node.records(), id).await?;
    let file = files.into_iter().nth(n).ok_or(PageError::NotFound)?;
    // The sender's claim is not trusted: a file whose bytes are none of
    // the allowed types is not served at all.
    let kind = FileType::sniff(&file.bytes).ok_or(PageError::NotFound)?;
    signed
        .viewed(&state, Viewed::Envelope, &format!("{id}/attachments/{n}"))
        .await?;
    let disposition = disposition(&file.file_name, n, kind);
    let mut response = file.bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(kind.media_type()),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// `attachment`, an ASCII fallback name and the real one (RFC 6266, RFC
/// 8187), with an extension that matches the type served.
fn disposition(name: &str, n: usize, kind: FileType) -> String {
    let ext = match kind {
        FileType::Pdf => "pdf",
        FileType::Png => "png",
        FileType::Jpeg => "jpg",
    };
    let stem = name.rsplit_once('.').map_or(name, |(stem, _)| stem);
    let real = format!("{stem}.{ext}");
    let encoded: String = real
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!(
        "attachment; filename=\"attachment-{}.{ext}\"; filename*=UTF-8''{encoded}",
        n + 1
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_download_name_is_encoded_and_its_extension_follows_the_bytes() {
        let d = disposition("紹介状\".html", 0, FileType::Pdf);
        assert_eq!(
            d,
            "attachment; filename=\"attachment-1.pdf\"; filename*=UTF-8''%E7%B4%B9%E4%BB%8B%E7%8A%B6%22.pdf"
        );
    }
}
