//! Identifiers, parsed at the boundary so the rest of the code keeps them typed.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
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

/// The id of an envelope, chosen by the sender (a random UUID). Resending the
/// same id with the same bytes is idempotent; with other bytes it is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EnvelopeId(pub Uuid);

impl EnvelopeId {
    /// A fresh random id.
    pub fn new() -> Self {
        Self(Uuid::new_v4())
    }
}

impl Default for EnvelopeId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for EnvelopeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::str::FromStr for EnvelopeId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s).map(Self)
    }
}

/// A consent record, chosen by the agency that records it (a random UUID).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ConsentId(pub Uuid);

impl ConsentId {
    /// A fresh random id.
    pub fn new() -> Self {
        Self(Uuid::new_v4())
    }
}

impl Default for ConsentId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for ConsentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::str::FromStr for ConsentId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s).map(Self)
    }
}

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

/// An instant, kept as the exact RFC 3339 text it arrived as, so that signed
/// bytes re-encode identically.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Timestamp(String);

impl Timestamp {
    /// Now, in UTC, to the millisecond.
    pub fn now() -> Self {
        Self::from_datetime(OffsetDateTime::now_utc())
    }

    /// Format an instant as UTC with millisecond precision.
    pub fn from_datetime(t: OffsetDateTime) -> Self {
        let t = t.to_offset(time::UtcOffset::UTC);
        Self(format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.millisecond()
        ))
    }

    /// The instant.
    pub fn datetime(&self) -> OffsetDateTime {
        // Validated on construction.
        OffsetDateTime::parse(&self.0, &Rfc3339).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Timestamp {
    type Error = IdError;
    fn try_from(value: String) -> Result<Self, IdError> {
        match OffsetDateTime::parse(&value, &Rfc3339) {
            Ok(t) if t.offset().is_utc() => Ok(Self(value)),
            _ => Err(IdError::Timestamp(value)),
        }
    }
}

impl std::str::FromStr for Timestamp {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        Self::try_from(s.to_owned())
    }
}

impl From<Timestamp> for String {
    fn from(t: Timestamp) -> String {
        t.0
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
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

    #[test]
    fn timestamps_round_trip_exactly_and_must_be_utc() {
        let now = Timestamp::now();
        let back = Timestamp::try_from(now.as_str().to_owned()).unwrap();
        assert_eq!(now, back);
        assert!(Timestamp::try_from("2026-11-23T09:00:00+09:00".to_owned()).is_err());
        assert!(Timestamp::try_from("yesterday".to_owned()).is_err());
    }
}
