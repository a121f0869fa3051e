//! The hub database's epoch: a random id the hub database holds and sends
//! in `welcome`. A database restored from a backup presents a new one, so a
//! node can tell "the hub went back in time" from "the hub is where I left
//! it": its cursor and the checkpoints it holds then describe a history the
//! hub no longer has (see `agency::node::restore`).

use std::fmt;

use serde::{Deserialize, Serialize};

use super::Timestamp;

/// An epoch's id: 128 random bits, lowercase hex.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EpochId(String);

/// Why a text is not an epoch id.
#[derive(Debug, thiserror::Error)]
#[error("not an epoch id (32 lowercase hex digits): {0:?}")]
pub struct EpochIdError(String);

impl EpochId {
    /// A new random id.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 16];
        // The OS random source failing is not something to go on without.
        getrandom::fill(&mut bytes).expect("the OS random source failed");
        Self(hex::encode(bytes))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for EpochId {
    type Err = EpochIdError;
    fn from_str(s: &str) -> Result<Self, EpochIdError> {
        let hex = s.len() == 32 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if hex {
            Ok(Self(s.to_owned()))
        } else {
            Err(EpochIdError(s.chars().take(64).collect()))
        }
    }
}

impl TryFrom<String> for EpochId {
    type Error = EpochIdError;
    fn try_from(value: String) -> Result<Self, EpochIdError> {
        value.parse()
    }
}

impl From<EpochId> for String {
    fn from(id: EpochId) -> String {
        id.0
    }
}

impl fmt::Display for EpochId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The epoch a hub database is in, as `welcome` carries it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HubEpoch {
    /// Changes whenever the database is restored from a backup.
    pub id: EpochId,
    /// The hub time from which this database's history may differ from
    /// what nodes saw: for a restored database, that of its newest audit
    /// entry (about when the backup was taken). Anything a node had
    /// accepted from this instant on may be missing: it sends those again.
    pub since: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_random_hex_and_other_text_is_refused() {
        let (a, b) = (EpochId::generate(), EpochId::generate());
        assert_ne!(a, b);
        assert_eq!(a.as_str().parse::<EpochId>().unwrap(), a);
        for bad in ["", "xyz", &"A".repeat(32), &"0".repeat(31)] {
            assert!(bad.parse::<EpochId>().is_err(), "{bad:?}");
        }
    }
}
