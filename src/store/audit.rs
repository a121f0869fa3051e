//! The audit chain: every security-relevant event, appended in the same
//! transaction as the change it records, each entry hashing the one before.
//! Deleting or editing any row breaks the chain at that row.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::protocol::Timestamp;
use crate::protocol::checkpoint::Checkpoint;

/// The `prev_hash` of the first entry.
pub const GENESIS: [u8; 32] = [0; 32];

/// One stored entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Position in the chain, from 1, without gaps.
    pub seq: i64,
    /// Hub time. Hashed as its text (`YYYY-MM-DDTHH:MM:SS.mmmZ`), the form
    /// it was stored in when timestamps were text.
    pub at: Timestamp,
    /// What happened.
    pub event: String,
    /// The agency that acted.
    pub agency: Option<String>,
    /// What it is about.
    pub subject: Option<String>,
    /// Metadata (JSON text).
    pub detail: String,
    /// Hash of the previous entry (hex in exports).
    #[serde(with = "hex::serde")]
    pub prev_hash: Vec<u8>,
    /// Hash of this entry.
    #[serde(with = "hex::serde")]
    pub hash: Vec<u8>,
}

/// SHA-256 over the previous hash and every field, each length-prefixed so
/// no two entries can encode alike.
pub fn entry_hash(
    prev: &[u8],
    seq: i64,
    at: &str,
    event: &str,
    agency: Option<&str>,
    subject: Option<&str>,
    detail: &str,
) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"tsunagu/audit/v1\0");
    h.update(prev);
    h.update(seq.to_be_bytes());
    for field in [Some(at), Some(event), agency, subject, Some(detail)] {
        match field {
            Some(text) => {
                h.update([1]);
                h.update((text.len() as u64).to_be_bytes());
                h.update(text.as_bytes());
            }
            None => h.update([0]),
        }
    }
    h.finalize().into()
}

impl AuditEntry {
    /// The hash this entry should have after `prev`.
    pub fn expected_hash(&self, prev: &[u8]) -> [u8; 32] {
        entry_hash(
            prev,
            self.seq,
            &self.at.to_string(),
            &self.event,
            self.agency.as_deref(),
            self.subject.as_deref(),
            &self.detail,
        )
    }
}

/// Where the chain breaks.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    #[error("entry {expected} is missing (next entry is {found})")]
    Missing { expected: i64, found: i64 },
    #[error("entry {seq} does not follow the entry before it")]
    Unlinked { seq: i64 },
    #[error("entry {seq} was altered (its hash does not match its content)")]
    Altered { seq: i64 },
}

impl ChainBreak {
    /// The first entry that fails.
    pub fn seq(&self) -> i64 {
        match self {
            ChainBreak::Missing { expected, .. } => *expected,
            ChainBreak::Unlinked { seq } | ChainBreak::Altered { seq } => *seq,
        }
    }
}

/// Check entries in order from the start of the chain; returns how many
/// verified, or the first break. (A deleted last entry, or a chain
/// recomputed after an edit, cannot be told from an intact one by the chain
/// alone: [`check_checkpoint`] compares it with what the hub signed before
/// and the nodes keep.)
pub fn verify(entries: impl IntoIterator<Item = AuditEntry>) -> Result<u64, ChainBreak> {
    let mut prev = GENESIS.to_vec();
    let mut count = 0;
    for (expected, entry) in (1..).zip(entries) {
        if entry.seq != expected {
            return Err(ChainBreak::Missing {
                expected,
                found: entry.seq,
            });
        }
        if entry.prev_hash != prev {
            return Err(ChainBreak::Unlinked { seq: entry.seq });
        }
        if entry.hash != entry.expected_hash(&prev) {
            return Err(ChainBreak::Altered { seq: entry.seq });
        }
        prev = entry.hash;
        count += 1;
    }
    Ok(count)
}

/// Where the chain contradicts a checkpoint the hub signed.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum Contradiction {
    #[error(
        "the chain has {actual} entries, fewer than the {count} this checkpoint signed: its tail was deleted"
    )]
    Truncated { count: u64, actual: u64 },
    #[error(
        "entry {count} has hash {actual}, not {signed} as signed: the chain was rewritten (or is another hub's)"
    )]
    OtherHead {
        count: u64,
        signed: String,
        actual: String,
    },
}

/// Whether `entries` (the whole chain, in order) still hold what
/// `checkpoint` signed: at least `count` entries, entry `count` with the
/// signed hash. Entries are found by their number, so a chain broken
/// elsewhere is still compared where it can be.
pub fn check_checkpoint(
    entries: &[AuditEntry],
    checkpoint: &Checkpoint,
) -> Result<(), Contradiction> {
    let count = checkpoint.count;
    let found = i64::try_from(count)
        .ok()
        .and_then(|seq| entries.binary_search_by_key(&seq, |e| e.seq).ok());
    let Some(index) = found else {
        let actual = entries
            .last()
            .map_or(0, |e| u64::try_from(e.seq).unwrap_or(0));
        return Err(Contradiction::Truncated { count, actual });
    };
    let actual = &entries[index].hash;
    if actual.as_slice() != checkpoint.head.as_slice() {
        return Err(Contradiction::OtherHead {
            count,
            signed: hex::encode(checkpoint.head),
            actual: hex::encode(actual),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const AT: &str = "2026-11-23T00:00:00.120Z";

    fn chain(n: i64) -> Vec<AuditEntry> {
        let mut prev = GENESIS.to_vec();
        (1..=n)
            .map(|seq| {
                let detail = format!("{{\"n\":{seq}}}");
                let hash =
                    entry_hash(&prev, seq, AT, "send", Some("clinic"), None, &detail).to_vec();
                let e = AuditEntry {
                    seq,
                    at: AT.parse().unwrap(),
                    event: "send".into(),
                    agency: Some("clinic".into()),
                    subject: None,
                    detail,
                    prev_hash: prev.clone(),
                    hash: hash.clone(),
                };
                prev = hash;
                e
            })
            .collect()
    }

    /// Entries hashed when `at` was text still verify: the hash input is
    /// rebuilt in that text's exact form, whatever form a bound was given in.
    #[test]
    fn the_hash_covers_the_time_in_its_stored_text_form() {
        let mut c = chain(1);
        assert_eq!(c[0].at.to_string(), AT);
        c[0].at = "2026-11-23T00:00:00.12Z".parse().unwrap();
        assert_eq!(verify(c.clone()), Ok(1));
        c[0].at = "2026-11-23T00:00:00.121Z".parse().unwrap();
        assert_eq!(verify(c), Err(ChainBreak::Altered { seq: 1 }));
    }

    #[test]
    fn an_intact_chain_verifies() {
        assert_eq!(verify(chain(5)), Ok(5));
    }

    #[test]
    fn an_edited_entry_is_named() {
        let mut c = chain(5);
        c[2].event = "nothing".into();
        assert_eq!(verify(c), Err(ChainBreak::Altered { seq: 3 }));
    }

    #[test]
    fn a_deleted_entry_is_named() {
        let mut c = chain(5);
        c.remove(1);
        assert_eq!(verify(c).unwrap_err().seq(), 2);
    }

    #[test]
    fn a_rehashed_edit_still_breaks_the_link() {
        let mut c = chain(5);
        c[2].detail = "{}".into();
        c[2].hash = c[2].expected_hash(&c[1].hash.clone()).to_vec();
        assert_eq!(verify(c), Err(ChainBreak::Unlinked { seq: 4 }));
    }

    fn checkpoint_of(c: &[AuditEntry], count: usize) -> Checkpoint {
        Checkpoint {
            count: count as u64,
            head: c[count - 1].hash.clone().try_into().unwrap(),
            at: AT.parse().unwrap(),
        }
    }

    /// Recompute every hash from `from` on, as an intruder who edited
    /// entry `from` would, so the chain verifies again.
    fn rehash_from(c: &mut [AuditEntry], from: usize) {
        for i in from..c.len() {
            let prev = if i == 0 {
                GENESIS.to_vec()
            } else {
                c[i - 1].hash.clone()
            };
            c[i].prev_hash = prev.clone();
            c[i].hash = c[i].expected_hash(&prev).to_vec();
        }
    }

    #[test]
    fn an_intact_chain_holds_every_checkpoint_taken_of_it() {
        let c = chain(5);
        for n in 1..=5 {
            assert_eq!(check_checkpoint(&c, &checkpoint_of(&c, n)), Ok(()));
        }
    }

    #[test]
    fn a_truncated_tail_contradicts_a_checkpoint_of_the_longer_chain() {
        let c = chain(5);
        let signed = checkpoint_of(&c, 5);
        let short = &c[..3];
        assert_eq!(
            verify(short.to_vec()),
            Ok(3),
            "the chain alone looks intact"
        );
        assert_eq!(
            check_checkpoint(short, &signed),
            Err(Contradiction::Truncated {
                count: 5,
                actual: 3
            })
        );
    }

    #[test]
    fn a_chain_recomputed_after_an_edit_contradicts_a_later_checkpoint() {
        let mut c = chain(5);
        let signed = checkpoint_of(&c, 4);
        c[1].detail = "{}".into();
        rehash_from(&mut c, 1);
        assert_eq!(verify(c.clone()), Ok(5), "the chain alone looks intact");
        assert!(matches!(
            check_checkpoint(&c, &signed),
            Err(Contradiction::OtherHead { count: 4, .. })
        ));
        // A checkpoint taken before the edited entry cannot see it.
        assert_eq!(check_checkpoint(&c, &checkpoint_of(&chain(5), 1)), Ok(()));
    }
}
