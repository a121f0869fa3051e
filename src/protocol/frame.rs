//! Websocket frames (`GET /v1/socket`). Each frame is one JSON text message
//! with a `type` field. Sends do not use the socket: they are
//! `POST /v1/envelopes`, so every send gets its own answer.

use serde::{Deserialize, Serialize};

use super::epoch::{EpochId, HubEpoch};
use super::{AgencyId, ErrorBody, Seq};

/// A frame from an agency node to the hub.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientFrame {
    /// Start (or restart) the delivery stream. The node has durably stored
    /// everything up to and including `resume_after`; the hub treats those as
    /// acknowledged and sends every later unacknowledged delivery in order,
    /// then live ones as they arrive.
    Hello {
        /// The highest sequence number the node holds (0 for none).
        resume_after: Seq,
        /// The hub database's epoch this cursor belongs to (the one the
        /// last `welcome` carried). A hub in another epoch (restored from a
        /// backup) ignores `resume_after` and resends everything it holds
        /// unacknowledged. Sent only by a node that has seen an epoch, so a
        /// hub that predates epochs never receives it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        epoch: Option<EpochId>,
    },
    /// The node has durably stored the delivery with this sequence number.
    Ack {
        /// The sequence number from the `deliver` frame.
        seq: Seq,
    },
}

/// A frame from the hub to an agency node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum HubFrame {
    /// Answer to `hello`: who the hub thinks you are and your newest sequence.
    Welcome {
        /// The agency of the client certificate.
        agency: AgencyId,
        /// The highest sequence number assigned to this agency so far.
        last_seq: Seq,
        /// The version of the signed directory the hub serves
        /// (`GET /v1/directory`): a node holding an older one fetches it.
        /// 0 from a hub that predates signed directories.
        #[serde(default)]
        directory_version: u64,
        /// The hub database's epoch; absent from a hub that predates
        /// epochs (older nodes ignore it).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        epoch: Option<HubEpoch>,
    },
    /// One envelope for this agency. Verify and store it, then ack `seq`.
    Deliver {
        /// This agency's sequence number for the envelope.
        seq: Seq,
        /// The envelope's bytes exactly as the sender sent them and the hub
        /// stored them (its JSON text, carried as a JSON string so that any
        /// JSON reader hands back the same bytes). Parse it with
        /// [`super::Envelope::parse`]; keep these bytes, not a re-encoding.
        envelope: String,
    },
    /// A notice from the hub itself. Verify `signed`, store it, then ack
    /// `seq`.
    Notice {
        /// This agency's sequence number for the notice.
        seq: Seq,
        /// The notice, for nodes from before notices were signed. A node
        /// that verifies reads the notice from `signed` and ignores this.
        notice: super::Notice,
        /// The notice's text as the hub signed it for this agency at `seq`.
        /// A node quarantines a notice without it (or whose signature fails)
        /// and acts on nothing in it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signed: Option<super::notice::SignedNotice>,
    },
    /// A signed checkpoint of the hub's audit chain: sent after `welcome`
    /// and whenever the chain has grown (at most every
    /// `checkpoint_interval_secs`). Not acknowledged: each one supersedes
    /// the one before, so a lost one costs nothing the next does not give
    /// back, and a node too old to know it skips it.
    Checkpoint(super::checkpoint::SignedCheckpoint),
    /// A frame was refused; nothing changed. The socket stays open.
    Error(ErrorBody),
}

/// The answer to `POST /v1/envelopes` when the envelope is durably committed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmitResponse {
    /// The envelope id.
    pub id: super::EnvelopeId,
    /// Whether this was the first time or a resend.
    pub status: SubmitStatus,
}

/// Whether a submitted envelope was new.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubmitStatus {
    /// Committed now; deliveries are queued.
    Accepted,
    /// The same bytes were committed before; nothing changed.
    Duplicate,
}
