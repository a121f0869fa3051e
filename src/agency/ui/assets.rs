//! The node's own assets, compiled into the binary: nothing is fetched from
//! anywhere else.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::error::PageError;

const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "tokens.css",
        "text/css; charset=utf-8",
        include_bytes!("../../../assets/vendor/digital-go-jp/design-tokens/tokens.css"),
    ),
    (
        "app.css",
        "text/css; charset=utf-8",
        include_bytes!("../../../assets/ui/app.css"),
    ),
    (
        "live.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../assets/ui/live.js"),
    ),
    (
        "print.css",
        "text/css; charset=utf-8",
        include_bytes!("../../../assets/ui/print.css"),
    ),
    (
        "print.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../assets/ui/print.js"),
    ),
    (
        "compose.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../assets/ui/compose.js"),
    ),
];

pub async fn asset(Path(name): Path<String>) -> Result<Response, PageError> {
    let (_, mime, bytes) = ASSETS
        .iter()
        .find(|(n, _, _)| *n == name)
        .ok_or(PageError::NotFound)?;
    let mut response = bytes.into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    Ok(response)
}

/// Browsers ask for `/favicon.ico` whatever the page says: no icon, and no
/// error either.
pub async fn no_icon() -> StatusCode {
    StatusCode::NO_CONTENT
}
