//! The page language: Japanese unless `?lang=en` (remembered in a cookie).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::auth::cookie_value;
use crate::i18n::Lang;

const COOKIE: &str = "tsunagu_lang";

/// The language a request asked for.
#[derive(Clone, Copy, Debug)]
pub struct PageLang(pub Lang);

/// `?lang=ja|en`, if the query says.
pub fn from_query(query: Option<&str>) -> Option<Lang> {
    query?.split('&').find_map(|pair| match pair {
        "lang=ja" => Some(Lang::Ja),
        "lang=en" => Some(Lang::En),
        _ => None,
    })
}

/// The `Set-Cookie` value that remembers `lang`.
pub fn cookie(lang: Lang) -> String {
    format!(
        "{COOKIE}={}; Path=/; Max-Age=31536000; Secure; HttpOnly; SameSite=Strict",
        code(lang)
    )
}

/// The `lang` attribute value.
pub fn code(lang: Lang) -> &'static str {
    lang.pick("ja", "en")
}

impl<S: Send + Sync> FromRequestParts<S> for PageLang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let lang = from_query(parts.uri.query()).unwrap_or_else(|| {
            match cookie_value(&parts.headers, COOKIE).as_deref() {
                Some("en") => Lang::En,
                _ => Lang::Ja,
            }
        });
        Ok(PageLang(lang))
    }
}

/// What the base layout needs on every page.
pub struct Chrome {
    pub lang: Lang,
    /// Who is signed in, for the header; `None` on the login page.
    pub staff: Option<String>,
    /// The session's CSRF token, for the logout form.
    pub csrf: String,
}

impl Chrome {
    /// `ja` or `en`.
    pub fn code(&self) -> &'static str {
        code(self.lang)
    }

    /// Whether the page is in Japanese (the switch offers English).
    pub fn is_ja(&self) -> bool {
        self.lang == Lang::Ja
    }

    /// Japanese or English text.
    pub fn t<'a>(&self, ja: &'a str, en: &'a str) -> &'a str {
        self.lang.pick(ja, en)
    }
}
