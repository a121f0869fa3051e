//! Language selection for staff-facing text: Japanese first, English on request.

use clap::ValueEnum;

/// The language of text meant for staff.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Lang {
    /// 日本語 (default)
    #[default]
    Ja,
    /// English
    En,
}

impl Lang {
    /// Pick the Japanese or the English text.
    pub fn pick<'a>(self, ja: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Ja => ja,
            Lang::En => en,
        }
    }
}
