//! Calendar days and wall-clock times as staff in Japan write them: a review
//! date, an action's period, a meeting at 14:00. Days are JST days; an
//! instant on the wire is always a UTC [`Timestamp`].

use std::fmt;

use serde::{Deserialize, Serialize};
use time::macros::{format_description, offset};
use time::{Date, OffsetDateTime, PrimitiveDateTime, UtcOffset};

use super::ids::{IdError, Timestamp};

/// Japan Standard Time: no daylight saving, so a fixed offset is exact.
pub const JST: UtcOffset = offset!(+9);

/// A calendar day in Japan, `YYYY-MM-DD` on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Day(Date);

impl Day {
    /// The day, in Japan, of an instant.
    pub fn of(t: Timestamp) -> Self {
        Self(t.datetime().to_offset(JST).date())
    }

    /// The day it is now in Japan (from 00:00 JST, which is 15:00 UTC the
    /// day before).
    pub fn today() -> Self {
        Self::of(Timestamp::now())
    }

    /// 00:00 JST of this day.
    pub fn start(self) -> Timestamp {
        Timestamp::from_datetime(self.0.midnight().assume_offset(JST))
    }

    /// This day plus `days` (negative: earlier).
    pub fn plus_days(self, days: i64) -> Self {
        Self(self.0.saturating_add(time::Duration::days(days)))
    }

    /// The same day `months` later (clamped to the month's last day).
    pub fn plus_months(self, months: u32) -> Self {
        let total = self.0.year() * 12 + i32::from(u8::from(self.0.month()) - 1) + months as i32;
        let (year, month) = (total.div_euclid(12), (total.rem_euclid(12) + 1) as u8);
        let month = time::Month::try_from(month).unwrap_or(time::Month::December);
        let last = month.length(year);
        Self(Date::from_calendar_date(year, month, self.0.day().min(last)).unwrap_or(self.0))
    }

    /// Days from `self` to `other` (negative when `other` is earlier).
    pub fn days_until(self, other: Day) -> i64 {
        (other.0 - self.0).whole_days()
    }
}

impl From<Date> for Day {
    fn from(d: Date) -> Self {
        Self(d)
    }
}

impl From<Day> for Date {
    fn from(d: Day) -> Date {
        d.0
    }
}

impl std::str::FromStr for Day {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        Date::parse(s, format_description!("[year]-[month]-[day]"))
            .map(Self)
            .map_err(|_| IdError::Day(s.to_owned()))
    }
}

impl TryFrom<String> for Day {
    type Error = IdError;
    fn try_from(value: String) -> Result<Self, IdError> {
        value.parse()
    }
}

impl From<Day> for String {
    fn from(d: Day) -> String {
        d.to_string()
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0;
        // The sign goes before the four digits the parser reads (`{:04}`
        // would write -999 for the year -0999, which does not read back).
        let sign = if d.year() < 0 { "-" } else { "" };
        write!(
            f,
            "{sign}{:04}-{:02}-{:02}",
            d.year().unsigned_abs(),
            u8::from(d.month()),
            d.day()
        )
    }
}

/// An instant as staff write it: `2026-12-03 14:00` (JST), or RFC 3339.
pub fn parse_local(s: &str) -> Result<Timestamp, IdError> {
    let s = s.trim();
    if let Ok(t) = s.parse::<Timestamp>() {
        return Ok(t);
    }
    if let Ok(t) = OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339) {
        return Ok(Timestamp::from_datetime(t));
    }
    let spaced = s.replacen('T', " ", 1);
    PrimitiveDateTime::parse(
        &spaced,
        format_description!("[year]-[month]-[day] [hour]:[minute]"),
    )
    .map(|t| Timestamp::from_datetime(t.assume_offset(JST)))
    .map_err(|_| IdError::LocalTime(s.to_owned()))
}

/// An instant as staff read it: `2026-12-03 14:00` in JST.
pub fn show_local(t: Timestamp) -> String {
    let t = t.datetime().to_offset(JST);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_jst_wall_time_is_the_utc_instant_nine_hours_earlier() {
        let t = parse_local("2026-12-03 14:00").unwrap();
        assert_eq!(t.to_string(), "2026-12-03T05:00:00.000Z");
        assert_eq!(show_local(t), "2026-12-03 14:00");
        assert!(parse_local("12/3 14:00").is_err());
    }

    #[test]
    fn days_are_japanese_days() {
        let late_evening: Timestamp = "2026-12-03T16:00:00.000Z".parse().unwrap();
        assert_eq!(Day::of(late_evening).to_string(), "2026-12-04");
        let d: Day = "2026-12-04".parse().unwrap();
        assert_eq!(d.start().to_string(), "2026-12-03T15:00:00.000Z");
        assert_eq!(d.plus_months(3).to_string(), "2027-03-04");
        let jan31: Day = "2027-01-31".parse().unwrap();
        assert_eq!(jan31.plus_months(1).to_string(), "2027-02-28");
        assert_eq!(d.days_until(d.plus_days(7)), 7);
        assert!("2026-13-01".parse::<Day>().is_err());
    }
}
