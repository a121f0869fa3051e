//! The period a report covers: two JST days, both included, and the fiscal
//! year (年度, April–March) whose targets apply.

use serde::Serialize;
use time::Date;

use crate::i18n::Lang;
use crate::protocol::Timestamp;
use crate::protocol::day::Day;

/// From `from` to `to`, both included.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Period {
    pub from: Day,
    pub to: Day,
}

/// Why a period was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    /// A day that is not `YYYY-MM-DD`; `field` is `from` or `to`.
    #[error("{field}: {text:?} is not a day (YYYY-MM-DD)")]
    BadDay { field: &'static str, text: String },
    #[error("the period ends ({to}) before it starts ({from})")]
    EndsBeforeStart { from: Day, to: Day },
}

impl PeriodError {
    /// The field the problem is about (the form marks it).
    pub fn field(&self) -> &'static str {
        match self {
            PeriodError::BadDay { field, .. } => field,
            PeriodError::EndsBeforeStart { .. } => "to",
        }
    }

    /// The problem in staff's words, with what to do.
    pub fn text(&self, lang: Lang) -> String {
        match (self, lang) {
            (PeriodError::BadDay { field, text }, Lang::Ja) => format!(
                "{}「{text}」は日付として読めません。2026-04-01 のように入力してください。",
                if *field == "from" {
                    "開始日"
                } else {
                    "終了日"
                }
            ),
            (PeriodError::BadDay { field, text }, Lang::En) => format!(
                "The {} day {text:?} is not a date. Enter it as 2026-04-01.",
                if *field == "from" { "start" } else { "end" }
            ),
            (PeriodError::EndsBeforeStart { from, to }, Lang::Ja) => format!(
                "終了日（{to}）が開始日（{from}）より前です。終了日を開始日以降にしてください。"
            ),
            (PeriodError::EndsBeforeStart { from, to }, Lang::En) => format!(
                "The end ({to}) is before the start ({from}). Choose an end on or after the start."
            ),
        }
    }
}

impl Period {
    /// The period from two days as staff typed them.
    pub fn parse(from: &str, to: &str) -> Result<Self, PeriodError> {
        let day = |field, text: &str| {
            text.trim().parse::<Day>().map_err(|_| PeriodError::BadDay {
                field,
                text: text.trim().into(),
            })
        };
        Self::new(day("from", from)?, day("to", to)?)
    }

    /// The period, if it does not end before it starts.
    pub fn new(from: Day, to: Day) -> Result<Self, PeriodError> {
        if to < from {
            return Err(PeriodError::EndsBeforeStart { from, to });
        }
        Ok(Self { from, to })
    }

    /// The fiscal year (年度) `day` falls in: April 2026 to March 2027 is 2026.
    pub fn fiscal_year_of(day: Day) -> i32 {
        let d = Date::from(day);
        if u8::from(d.month()) >= 4 {
            d.year()
        } else {
            d.year() - 1
        }
    }

    /// The fiscal year of the period's first day.
    pub fn fiscal_year(self) -> i32 {
        Self::fiscal_year_of(self.from)
    }

    /// The whole fiscal year `year` (1 April to 31 March).
    pub fn of_fiscal_year(year: i32) -> Option<Self> {
        let from = Date::from_calendar_date(year, time::Month::April, 1).ok()?;
        let to = Date::from_calendar_date(year + 1, time::Month::March, 31).ok()?;
        Some(Self {
            from: from.into(),
            to: to.into(),
        })
    }

    /// Whether `day` is in the period.
    pub fn holds(self, day: Day) -> bool {
        self.from <= day && day <= self.to
    }

    /// Whether the JST day of `at` is in the period.
    pub fn holds_instant(self, at: Timestamp) -> bool {
        self.holds(Day::of(at))
    }

    /// The months the period touches, as (year, month), in order.
    pub fn months(self) -> Vec<(i32, u8)> {
        let (from, to) = (Date::from(self.from), Date::from(self.to));
        let mut out = Vec::new();
        let (mut y, mut m) = (from.year(), u8::from(from.month()));
        while (y, m) <= (to.year(), u8::from(to.month())) {
            out.push((y, m));
            (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
        }
        out
    }
}

/// The (year, month) of a day.
pub fn month_of(day: Day) -> (i32, u8) {
    let d = Date::from(day);
    (d.year(), u8::from(d.month()))
}
