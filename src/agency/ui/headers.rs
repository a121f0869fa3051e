//! Headers on every response: a strict Content-Security-Policy (no inline
//! script or style, nothing from elsewhere), no sniffing, no referrer, no
//! framing, nothing cached but the assets; and the language cookie when a
//! page was asked for with `?lang=`.

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

use super::lang;

/// The policy: everything from the node itself, no inline code.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

pub async fn security_headers(request: Request, next: Next) -> Response {
    let asset = request.uri().path().starts_with("/assets/");
    let chosen = lang::from_query(request.uri().query());
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    let cache = match asset {
        true => "private, max-age=300",
        false => "no-store",
    };
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Some(lang) = chosen
        && let Ok(value) = HeaderValue::from_str(&lang::cookie(lang))
    {
        h.append(header::SET_COOKIE, value);
    }
    response
}
