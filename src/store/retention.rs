//! What retention and legal hold read and change in the hub store
//! (docs/operations.md §6.7). The SQL is in `sql::retention`.

use serde::Serialize;

use crate::protocol::{CaseId, MessageKind, Timestamp};

/// What one purge step may remove.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PurgeScope {
    /// The bodies of envelopes of this kind.
    Kind(MessageKind),
    /// Acknowledged hub notices (their delivery rows: a notice has no
    /// other copy on the hub).
    Notices,
}

impl PurgeScope {
    /// The name counts are reported under: the kind's wire name, or `notice`.
    pub fn name(self) -> &'static str {
        match self {
            PurgeScope::Kind(kind) => kind.as_str(),
            PurgeScope::Notices => "notice",
        }
    }
}

/// A case under legal hold.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LegalHold {
    /// The held case.
    pub case_id: CaseId,
    /// Why, as the operator wrote it (kept here only, never in the chain).
    pub reason: String,
    /// The operator's OS account.
    pub held_by: String,
    /// When the hold was placed.
    pub held_at: Timestamp,
}

/// What placing a hold did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HoldOutcome {
    /// Placed now (and audited).
    Held,
    /// The case was already held: nothing changed.
    AlreadyHeld,
    /// The hub knows no such case: nothing changed.
    UnknownCase,
}

/// What releasing a hold did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReleaseOutcome {
    /// Released now (and audited).
    Released,
    /// The case was not held: nothing changed.
    NotHeld,
}
