//! Checkpoints of the hub's audit chain, signed with the hub's own key (the
//! directory's `[hub] signing_key`); signed and verified in
//! `crypto::hub_signed`.
//!
//! A checkpoint carries its JSON text as a string and a signature over that
//! text's exact bytes behind a domain tag, so a verifier never re-encodes
//! what it checks, and a signature made for one kind of statement is never
//! valid for another.

use serde::{Deserialize, Serialize};

use super::Timestamp;

/// Domain tag of a checkpoint's signed bytes.
const CHECKPOINT_DOMAIN: &[u8] = b"tsunagu/checkpoint/v1\0";

/// The state of the hub's audit chain at one moment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    /// How many entries the chain had.
    pub count: u64,
    /// The hash of entry `count`.
    #[serde(with = "hex::serde")]
    pub head: [u8; 32],
    /// Hub time when it was taken.
    pub at: Timestamp,
}

/// A checkpoint as the hub signed it: its JSON text, kept and forwarded as
/// received, and the signature over it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedCheckpoint {
    /// The [`Checkpoint`]'s JSON text.
    pub checkpoint: String,
    /// Ed25519 over `tsunagu/checkpoint/v1\0` followed by that text.
    #[serde(with = "super::b64")]
    pub signature: Vec<u8>,
}

/// What a node exports (`tsunagu agency checkpoints export`) for the hub's
/// operator to check the chain with (`tsunagu audit verify --checkpoints`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointFile {
    /// The node that held them.
    pub agency: super::AgencyId,
    /// In the order the node received them.
    pub checkpoints: Vec<SignedCheckpoint>,
}

/// The bytes a checkpoint's signature covers.
pub fn checkpoint_bytes(text: &str) -> Vec<u8> {
    [CHECKPOINT_DOMAIN, text.as_bytes()].concat()
}
