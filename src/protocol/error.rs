//! Error codes the hub returns, over HTTP and on the socket.

use serde::{Deserialize, Serialize};

/// A specific reason for refusing a request or a frame. Stable on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The client certificate maps to no agency in the directory.
    UnknownAgency,
    /// The envelope's sender is not the agency of the client certificate.
    SenderMismatch,
    /// The signature does not verify with the sender's directory key.
    BadSignature,
    /// A recipient is not in the directory.
    UnknownRecipient,
    /// The envelope names no recipient.
    NoRecipients,
    /// A recipient is listed twice, or is the sender.
    InvalidRecipients,
    /// The envelope exceeds the hub's size limit.
    EnvelopeTooLarge,
    /// The request or frame could not be parsed.
    Malformed,
    /// The socket frame has a type this hub does not know.
    UnknownFrame,
    /// The envelope version is not one this hub speaks.
    UnsupportedVersion,
    /// An ack names a sequence number never delivered to this agency.
    UnknownSequence,
    /// The envelope id was already used for different bytes.
    EnvelopeIdReused,
    /// The envelope names no case, or one the hub did not issue.
    UnknownCase,
    /// A referral without a legal basis or purpose.
    LegalBasisMissing,
    /// The consent named as basis is not recorded for this case.
    ConsentNotFound,
    /// The consent was refused, or the person was not told.
    ConsentNotGranted,
    /// The consent is not valid now (before its start or after its end).
    ConsentExpired,
    /// The consent was withdrawn.
    ConsentWithdrawn,
    /// The basis does not cover a recipient.
    RecipientNotCovered,
    /// The basis does not cover an information category.
    CategoryNotCovered,
    /// The basis does not cover the purpose.
    PurposeNotCovered,
    /// The basis does not allow this sender.
    SenderNotCovered,
    /// `yotaikyo_sharing` for a case the 要対協 has not registered (or closed).
    CaseNotRegistered,
    /// `vital_interest` is for urgent envelopes only.
    NotUrgent,
    /// The envelope's kind and action do not fit together.
    InvalidAction,
    /// The referral named in an update does not exist or does not involve you.
    UnknownReferral,
    /// The referral cannot move to that state from where it is.
    InvalidTransition,
    /// This agency may not do that (e.g. register a case without being the 調整機関).
    NotPermitted,
    /// The meeting named does not exist.
    UnknownMeeting,
    /// The meeting was cancelled: nothing more can be done with it.
    MeetingCancelled,
    /// A meeting scheduled or moved to a time already past, or minutes
    /// before it has started.
    MeetingTime,
    /// The full minutes to an invitee that did not attend: it gets an
    /// excerpt.
    NotAttended,
    /// The plan version named does not exist.
    UnknownPlan,
    /// A plan revision not based on the latest version.
    StalePlanVersion,
    /// The agency holds as many connections or delivery sockets as the hub
    /// allows: close one, or retry later.
    TooManyConnections,
    /// The agency sent more than its rate allows; nothing was stored. Retry
    /// after the seconds the `Retry-After` header names.
    RateLimited,
    /// The hub failed; nothing was stored. Safe to retry.
    Internal,
    /// The client certificate was revoked: its agency left the directory,
    /// or the agency was given a new certificate. Retrying will not help.
    CertificateRevoked,
    /// A code this version does not know (a newer hub's). Its message still
    /// says what went wrong; the request is refused all the same.
    #[serde(other)]
    Unknown,
}

/// The JSON body of every error: a code, a Japanese message for staff and the
/// same in English.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// What went wrong, for programs.
    pub code: ErrorCode,
    /// What went wrong, for staff (日本語).
    pub message: String,
    /// What went wrong, in English.
    pub message_en: String,
}
