//! Identifiers, parsed at the boundary so the rest of the code keeps them typed.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};
use uuid::Uuid;

/// Why an identifier was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IdError {
    /// Agency and case ids are 1–64 characters of `a-z`, `0-9` and `-`.
    #[error("invalid {what} {value:?}: use 1-64 characters of a-z, 0-9 and '-'")]
    Slug { what: &'static str, value: String },
    /// Timestamps are RFC 3339 in UTC.
    #[error("invalid timestamp {0:?}: expected RFC 3339 in UTC, e.g. 2026-11-23T09:00:00.000Z")]
    Timestamp(String),
    /// Timestamps are kept to the millisecond; finer digits would be lost.
    #[error(
        "invalid timestamp {0:?}: at most three fractional digits (milliseconds), e.g. 2026-11-23T09:00:00.123Z"
    )]
    TimestampPrecision(String),
    /// Days are `YYYY-MM-DD`.
    #[error("invalid date {0:?}: expected YYYY-MM-DD, e.g. 2027-03-01")]
    Day(String),
    /// Times staff write are `YYYY-MM-DD HH:MM` in JST.
    #[error("invalid time {0:?}: expected YYYY-MM-DD HH:MM (JST), e.g. 2026-12-03 14:00")]
    LocalTime(String),
}

fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

macro_rules! slug_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(value: String) -> Result<Self, IdError> {
                if is_slug(&value) {
                    Ok(Self(value))
                } else {
                    Err(IdError::Slug { what: $what, value })
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                Self::try_from(s.to_owned())
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

slug_id!(
    /// An agency in the directory, e.g. `minato-center`.
    AgencyId,
    "agency id"
);
slug_id!(
    /// A case (ケース). Carries no identity: identities live only inside ciphertext.
    CaseId,
    "case id"
);

/// A random-UUID id chosen by whoever creates the thing it names.
macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh random id.
            pub fn new() -> Self {
                Self(Uuid::new_v4())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

uuid_id!(
    /// The id of an envelope, chosen by the sender (a random UUID). Resending
    /// the same id with the same bytes is idempotent; with other bytes it is
    /// refused.
    EnvelopeId
);

uuid_id!(
    /// A consent record, chosen by the agency that records it.
    ConsentId
);

uuid_id!(
    /// A case meeting, chosen by its organiser when scheduling it.
    MeetingId
);

uuid_id!(
    /// A support plan (all its versions), chosen by the agency that writes
    /// version 1.
    PlanId
);

/// A recipient's delivery sequence number, assigned by the hub, starting at 1
/// and increasing by one for each envelope accepted for that recipient.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Seq(pub u64);

impl fmt::Display for Seq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// An instant, always in UTC and to the millisecond: on the wire, in JSON
/// and wherever it is shown, `YYYY-MM-DDTHH:MM:SS.mmmZ` (RFC 3339, exactly
/// three fractional digits). Ordered as instants, never as text: text order
/// puts `00:00:00Z` after `00:00:00.123Z`.
///
/// Parsed at the boundary (JSON, CLI arguments, database rows): any RFC 3339
/// text in UTC is accepted (`Z`, `+00:00`, with or without a fraction), and
/// refused if it carries a non-UTC offset or digits finer than a millisecond,
/// which this type could not give back. Years run from 0000 to 9999, the
/// range RFC 3339 can write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Timestamp(OffsetDateTime);

impl Timestamp {
    /// The latest instant this type holds, `9999-12-31T23:59:59.999Z`: a
    /// deadline that never comes.
    pub const LATEST: Self = Self(MAX);

    /// Now, in UTC, truncated to the millisecond.
    pub fn now() -> Self {
        Self::from_datetime(OffsetDateTime::now_utc())
    }

    /// An instant, moved to UTC and truncated to the millisecond (what is
    /// stored then equals what is hashed and shown). Instants outside years
    /// 0000–9999 are clamped to that range.
    pub fn from_datetime(t: OffsetDateTime) -> Self {
        let t = t.to_offset(UtcOffset::UTC).clamp(MIN, MAX);
        let nanos = t.nanosecond();
        Self(t - time::Duration::nanoseconds(i64::from(nanos % 1_000_000)))
    }

    /// The instant.
    pub fn datetime(&self) -> OffsetDateTime {
        self.0
    }

    /// Milliseconds since the Unix epoch (negative before 1970).
    pub fn unix_millis(&self) -> i64 {
        // Years 0000–9999 are ±3e14 ms: well inside i64.
        i64::try_from(self.0.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
    }

    /// The instant `ms` milliseconds after the Unix epoch, if in 0000–9999.
    pub fn from_unix_millis(ms: i64) -> Result<Self, IdError> {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
            .ok()
            .filter(|t| (MIN..=MAX).contains(t))
            .map(Self)
            .ok_or_else(|| IdError::Timestamp(format!("{ms} ms since 1970")))
    }
}

/// 0000-01-01T00:00:00.000Z: RFC 3339 has no earlier year.
const MIN: OffsetDateTime = time::macros::datetime!(0000-01-01 00:00:00 UTC);
/// 9999-12-31T23:59:59.999Z: RFC 3339 has no later year.
const MAX: OffsetDateTime = time::macros::datetime!(9999-12-31 23:59:59.999 UTC);

impl TryFrom<String> for Timestamp {
    type Error = IdError;
    fn try_from(value: String) -> Result<Self, IdError> {
        value.parse()
    }
}

impl std::str::FromStr for Timestamp {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        let t = match OffsetDateTime::parse(s, &Rfc3339) {
            Ok(t) if t.offset().is_utc() => t,
            _ => return Err(IdError::Timestamp(s.to_owned())),
        };
        if t.nanosecond() % 1_000_000 != 0 {
            return Err(IdError::TimestampPrecision(s.to_owned()));
        }
        Ok(Self(t))
    }
}

impl From<Timestamp> for String {
    fn from(t: Timestamp) -> String {
        t.to_string()
    }
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ`, always this width: the form every timestamp
/// had when it was text, which the audit chain's hashes cover.
impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.0;
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.millisecond()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agency_ids_are_lowercase_slugs() {
        assert!("minato-center".parse::<AgencyId>().is_ok());
        assert!("Minato".parse::<AgencyId>().is_err());
        assert!("".parse::<AgencyId>().is_err());
        assert!("a b".parse::<AgencyId>().is_err());
        assert!("x".repeat(65).parse::<AgencyId>().is_err());
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn timestamps_round_trip_exactly_and_must_be_utc() {
        let now = Timestamp::now();
        let back = Timestamp::try_from(now.to_string()).unwrap();
        assert_eq!(now, back);
        assert!(Timestamp::try_from("2026-11-23T09:00:00+09:00".to_owned()).is_err());
        assert!(Timestamp::try_from("yesterday".to_owned()).is_err());
    }

    #[test]
    fn timestamps_are_written_with_exactly_three_fractional_digits() {
        for (input, written) in [
            ("2026-11-23T00:00:00Z", "2026-11-23T00:00:00.000Z"),
            ("2026-11-23T00:00:00.1Z", "2026-11-23T00:00:00.100Z"),
            ("2026-11-23T00:00:00.123Z", "2026-11-23T00:00:00.123Z"),
            ("2026-11-23T00:00:00.123000Z", "2026-11-23T00:00:00.123Z"),
            ("2026-11-23T09:05:07.000+00:00", "2026-11-23T09:05:07.000Z"),
            ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00.000Z"),
        ] {
            assert_eq!(ts(input).to_string(), written, "{input}");
        }
        let json = serde_json::to_string(&ts("2026-11-23T00:00:00Z")).unwrap();
        assert_eq!(json, "\"2026-11-23T00:00:00.000Z\"");
        let back: Timestamp = serde_json::from_str("\"2026-11-23T00:00:00.5Z\"").unwrap();
        assert_eq!(back, ts("2026-11-23T00:00:00.500Z"));
    }

    #[test]
    fn timestamps_compare_as_instants_not_as_text() {
        // As text, "…00Z" sorts after "…00.123Z" ('Z' > '.').
        assert!(ts("2026-11-23T00:00:00Z") < ts("2026-11-23T00:00:00.123Z"));
        assert_eq!(
            ts("2026-11-23T00:00:00Z"),
            ts("2026-11-23T00:00:00.000+00:00")
        );
        assert!(ts("2026-11-22T23:59:59.999Z") < ts("2026-11-23T00:00:00Z"));
    }

    #[test]
    fn new_instants_are_truncated_to_the_millisecond() {
        let t = time::macros::datetime!(2026-11-23 09:00:00.123_999_999 +09:00);
        let stamped = Timestamp::from_datetime(t);
        assert_eq!(stamped.to_string(), "2026-11-23T00:00:00.123Z");
        assert_eq!(stamped.datetime().nanosecond(), 123_000_000);
        assert!(stamped.datetime().offset().is_utc());
        let now = Timestamp::now();
        assert_eq!(now.datetime().nanosecond() % 1_000_000, 0);
    }

    #[test]
    fn finer_than_a_millisecond_and_bad_text_are_refused_by_name() {
        assert_eq!(
            "2026-11-23T00:00:00.1234Z".parse::<Timestamp>(),
            Err(IdError::TimestampPrecision(
                "2026-11-23T00:00:00.1234Z".into()
            ))
        );
        for bad in [
            "",
            "2026-11-23",
            "2026-11-23T00:00:00",
            "2026-13-01T00:00:00Z",
        ] {
            assert_eq!(
                bad.parse::<Timestamp>(),
                Err(IdError::Timestamp(bad.into())),
                "{bad}"
            );
        }
        let e = serde_json::from_str::<Timestamp>("\"2026-11-23T09:00:00+09:00\"").unwrap_err();
        assert!(e.to_string().contains("expected RFC 3339 in UTC"), "{e}");
    }

    #[test]
    fn unix_milliseconds_round_trip_within_years_0000_to_9999() {
        let t = ts("2026-11-23T00:00:00.123Z");
        assert_eq!(t.unix_millis(), 1_795_392_000_123);
        assert_eq!(Timestamp::from_unix_millis(t.unix_millis()), Ok(t));
        let last = ts("9999-12-31T23:59:59.999Z");
        assert_eq!(last, Timestamp::LATEST);
        assert_eq!(Timestamp::from_unix_millis(last.unix_millis()), Ok(last));
        assert!(Timestamp::from_unix_millis(last.unix_millis() + 1).is_err());
        let far = time::PrimitiveDateTime::MAX.assume_utc();
        assert_eq!(Timestamp::from_datetime(far), last);
        let early = time::macros::datetime!(-0001-06-01 00:00 UTC);
        assert_eq!(
            Timestamp::from_datetime(early).to_string(),
            "0000-01-01T00:00:00.000Z"
        );
    }
}
