//! Turning a payload into a signed, encrypted envelope, and back.

use ed25519_dalek::SigningKey;

use crate::crypto::{CryptoError, seal, sign};
use crate::directory::Directory;
use crate::protocol::keys::AgeRecipient;
use crate::protocol::payload::Payload;
use crate::protocol::{
    Action, AgencyId, CaseId, Envelope, EnvelopeId, LegalBasis, Metadata, Purpose, Timestamp,
    Urgency,
};

/// What staff want to send, before encryption.
#[derive(Clone, Debug)]
pub struct Draft {
    /// The receiving agencies.
    pub recipients: Vec<AgencyId>,
    /// The case, if known.
    pub case_id: Option<CaseId>,
    /// How fast recipients must act.
    pub urgency: Urgency,
    /// The legal basis for sharing (required for referrals).
    pub basis: Option<LegalBasis>,
    /// What it is shared for (required for referrals).
    pub purpose: Option<Purpose>,
    /// The hub state change it asks for (every kind but referrals).
    pub action: Option<Action>,
    /// The content.
    pub payload: Payload,
}

/// Why an envelope could not be built or opened.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("agency {0} is not in the directory")]
    UnknownAgency(AgencyId),
    #[error("envelope is not addressed to {0}")]
    NotAddressedToMe(AgencyId),
    #[error("signature does not verify with the sender's directory key")]
    BadSignature,
    #[error("payload kind does not match the envelope kind")]
    KindMismatch,
    #[error("payload is not valid: {0}")]
    Payload(String),
    #[error("the node has no age identity to open envelopes with")]
    NoIdentity,
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

/// Encrypt the draft to every recipient and to the sender (so the sender
/// can read its own outbox from the envelope), and sign it.
pub fn seal_draft(
    sender: &AgencyId,
    signing: &SigningKey,
    directory: &Directory,
    draft: &Draft,
) -> Result<Envelope, SealError> {
    let recipient_of = |id: &AgencyId| {
        directory
            .get(id)
            .map(|a| &a.age_recipient)
            .ok_or_else(|| SealError::UnknownAgency(id.clone()))
    };
    let mut keys: Vec<&AgeRecipient> = vec![recipient_of(sender)?];
    for r in &draft.recipients {
        keys.push(recipient_of(r)?);
    }
    let plaintext =
        serde_json::to_vec(&draft.payload).map_err(|e| SealError::Payload(e.to_string()))?;
    let ciphertext = seal::seal(&plaintext, &keys)?;
    let meta = Metadata {
        id: EnvelopeId::new(),
        sender: sender.clone(),
        recipients: draft.recipients.clone(),
        case_id: draft.case_id.clone(),
        kind: draft.payload.body.kind(),
        categories: draft.payload.body.categories().into_iter().collect(),
        urgency: draft.urgency,
        created_at: Timestamp::now(),
        basis: draft.basis.clone(),
        purpose: draft.purpose,
        action: draft.action.clone(),
    };
    Ok(sign_envelope(meta, ciphertext, signing))
}

/// Encode and sign an envelope, once: the result's bytes are what the
/// outbox keeps and the hub receives.
pub fn sign_envelope(meta: Metadata, ciphertext: Vec<u8>, signing: &SigningKey) -> Envelope {
    Envelope::seal(meta, ciphertext, |signed| sign::sign(signing, signed))
}

/// Check an envelope's signature over its bytes as received, with the
/// sender's key from the directory (or a retired key still in its grace
/// period now).
pub fn verify_envelope(envelope: &Envelope, directory: &Directory) -> Result<(), SealError> {
    verify_envelope_at(envelope, directory, Timestamp::now())
}

/// [`verify_envelope`] with the sender's current key, or one of its retired keys whose grace
/// period has not ended at `now` (the time of receipt: the envelope's own
/// `created_at` is the sender's word, and a thief of an old key could
/// backdate it).
pub fn verify_envelope_at(
    envelope: &Envelope,
    directory: &Directory,
    now: Timestamp,
) -> Result<(), SealError> {
    let sender = &envelope.meta().sender;
    let agency = directory
        .get(sender)
        .ok_or_else(|| SealError::UnknownAgency(sender.clone()))?;
    sign::verify_any(
        agency.signing_keys_at(now),
        &envelope.signed_bytes(),
        envelope.signature(),
    )
    .map_err(|_| SealError::BadSignature)
}

/// Verify an envelope against the directory and decrypt it as `me`.
pub fn open_envelope(
    envelope: &Envelope,
    me: &AgencyId,
    identity: &age::x25519::Identity,
    directory: &Directory,
) -> Result<Payload, SealError> {
    open_envelope_with(envelope, me, std::slice::from_ref(identity), directory)
}

/// Verify an envelope against the directory (at the time of receipt, now)
/// and decrypt it as `me` with any of `identities` (newest first: after a
/// rotation, what was sent to the old key still opens).
pub fn open_envelope_with(
    envelope: &Envelope,
    me: &AgencyId,
    identities: &[age::x25519::Identity],
    directory: &Directory,
) -> Result<Payload, SealError> {
    let meta = envelope.meta();
    if &meta.sender != me && !meta.recipients.contains(me) {
        return Err(SealError::NotAddressedToMe(me.clone()));
    }
    verify_envelope(envelope, directory)?;
    let mut opened = Err(SealError::NoIdentity);
    for identity in identities {
        opened = seal::open(envelope.ciphertext(), identity).map_err(SealError::from);
        if opened.is_ok() {
            break;
        }
    }
    let plaintext = opened?;
    // The parser's message can quote the offending value, i.e. plaintext:
    // keep only where it failed.
    let payload: Payload = serde_json::from_slice(&plaintext).map_err(|e| {
        SealError::Payload(format!(
            "unreadable at line {} column {}",
            e.line(),
            e.column()
        ))
    })?;
    if payload.body.kind() != meta.kind {
        return Err(SealError::KindMismatch);
    }
    Ok(payload)
}
