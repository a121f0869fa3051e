//! The envelope: the one format for everything that travels between agencies.
//!
//! The hub reads only [`Metadata`]; the payload is an age file encrypted to
//! every recipient and to the sender, and the whole is signed by the sender.
//!
//! An [`Envelope`] is its bytes. The sender encodes it once
//! ([`Envelope::seal`]); every later holder parses it once from the bytes it
//! received ([`Envelope::parse`]), verifies the signature over those bytes,
//! and stores and forwards the same bytes. The metadata travels as base64 of
//! the exact JSON the sender signed, so no JSON re-encoding anywhere on the
//! way can change what the signature covers.

use std::borrow::Cow;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Action, AgencyId, CaseId, EnvelopeId, InfoCategory, LegalBasis, Purpose, Timestamp};
use crate::i18n::Lang;

/// The envelope format version this build speaks.
pub const ENVELOPE_VERSION: u32 = 2;

/// Prefix of the signed bytes, so a signature can never be replayed as
/// something other than a tsunagu v2 envelope (it also binds the version:
/// a v1 signature covers `tsunagu/envelope/v1\0`).
pub const SIGNING_DOMAIN: &[u8] = b"tsunagu/envelope/v2\0";

/// What an envelope carries. Tells the receiving node how to read the payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// 紹介・情報提供: a referral (e.g. a high-risk pregnancy 連絡票).
    Referral,
    /// 受理・対応決定・辞退・経過・返信・取消: a change of a referral's state.
    ReferralUpdate,
    /// 同意の記録 (or its refusal, or 未説明).
    ConsentRecord,
    /// 同意の撤回.
    ConsentWithdrawal,
    /// 要対協 case registration, reclassification or closure.
    CaseUpdate,
    /// 経過記録・情報共有: a short note about a case, under any legal basis,
    /// with no 連絡票 fields.
    CaseNote,
    /// ケース会議の案内: an invitation to a meeting.
    MeetingInvitation,
    /// A meeting moved (日程変更) or cancelled (中止), to every invitee.
    MeetingChange,
    /// 出欠の回答, to the organiser.
    MeetingAnswer,
    /// 会議録, in full, to the agencies that attended.
    Minutes,
    /// 会議録の抜粋: an agency's own role, the lead and the next review.
    MinutesExcerpt,
    /// 支援プラン: a version of a support plan, whole.
    SupportPlan,
    /// 支援プランの担当部分: one agency's actions, the lead, the review date.
    PlanPart,
}

impl MessageKind {
    /// The stable wire name, also used in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Referral => "referral",
            MessageKind::ReferralUpdate => "referral_update",
            MessageKind::ConsentRecord => "consent_record",
            MessageKind::ConsentWithdrawal => "consent_withdrawal",
            MessageKind::CaseUpdate => "case_update",
            MessageKind::CaseNote => "case_note",
            MessageKind::MeetingInvitation => "meeting_invitation",
            MessageKind::MeetingChange => "meeting_change",
            MessageKind::MeetingAnswer => "meeting_answer",
            MessageKind::Minutes => "minutes",
            MessageKind::MinutesExcerpt => "minutes_excerpt",
            MessageKind::SupportPlan => "support_plan",
            MessageKind::PlanPart => "plan_part",
        }
    }

    /// Every kind.
    pub const ALL: [MessageKind; 13] = [
        MessageKind::Referral,
        MessageKind::ReferralUpdate,
        MessageKind::ConsentRecord,
        MessageKind::ConsentWithdrawal,
        MessageKind::CaseUpdate,
        MessageKind::CaseNote,
        MessageKind::MeetingInvitation,
        MessageKind::MeetingChange,
        MessageKind::MeetingAnswer,
        MessageKind::Minutes,
        MessageKind::MinutesExcerpt,
        MessageKind::SupportPlan,
        MessageKind::PlanPart,
    ];

    /// The kind with this wire name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// The name staff see.
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            MessageKind::Referral => lang.pick("紹介（連絡票）", "referral"),
            MessageKind::ReferralUpdate => lang.pick("対応状況の更新", "referral update"),
            MessageKind::ConsentRecord => lang.pick("同意の記録", "consent record"),
            MessageKind::ConsentWithdrawal => lang.pick("同意の撤回", "consent withdrawal"),
            MessageKind::CaseUpdate => lang.pick("要対協ケース登録", "case registration"),
            MessageKind::CaseNote => lang.pick("経過記録・情報共有", "case note"),
            MessageKind::MeetingInvitation => lang.pick("ケース会議の案内", "meeting invitation"),
            MessageKind::MeetingChange => lang.pick("会議の日程変更・中止", "meeting change"),
            MessageKind::MeetingAnswer => lang.pick("出欠の回答", "meeting answer"),
            MessageKind::Minutes => lang.pick("会議録", "minutes"),
            MessageKind::MinutesExcerpt => lang.pick("会議録（抜粋）", "minutes excerpt"),
            MessageKind::SupportPlan => lang.pick("支援プラン", "support plan"),
            MessageKind::PlanPart => lang.pick("支援プラン（担当部分）", "support plan part"),
        }
    }
}

/// How fast the recipients must act (緊急度).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    /// 緊急: same day.
    Emergency,
    /// 早期: within days.
    Early,
    /// 通常: routine.
    Normal,
}

impl Urgency {
    /// The stable wire name, also used in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Urgency::Emergency => "emergency",
            Urgency::Early => "early",
            Urgency::Normal => "normal",
        }
    }

    /// The urgency with this wire name.
    pub fn parse(name: &str) -> Option<Self> {
        [Urgency::Emergency, Urgency::Early, Urgency::Normal]
            .into_iter()
            .find(|u| u.as_str() == name)
    }

    /// The name staff see.
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            Urgency::Emergency => lang.pick("緊急", "emergency"),
            Urgency::Early => lang.pick("早期", "early"),
            Urgency::Normal => lang.pick("通常", "normal"),
        }
    }
}

/// The clear metadata the hub needs to route and check an envelope. Nothing
/// here identifies a person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metadata {
    /// Chosen by the sender; unique per envelope.
    pub id: EnvelopeId,
    /// The sending agency; must be the agency of the TLS client certificate.
    pub sender: AgencyId,
    /// Every receiving agency; at least one, no duplicates, never the sender.
    pub recipients: Vec<AgencyId>,
    /// The case this is about, if any.
    pub case_id: Option<CaseId>,
    /// What the payload is.
    pub kind: MessageKind,
    /// The information categories the payload contains.
    pub categories: Vec<InfoCategory>,
    /// How fast recipients must act.
    pub urgency: Urgency,
    /// When the sender created it (UTC).
    pub created_at: Timestamp,
    /// The legal basis for sharing: required for referrals and case notes.
    pub basis: Option<LegalBasis>,
    /// What the information is shared for: required for referrals and case
    /// notes.
    pub purpose: Option<Purpose>,
    /// The hub state change this envelope asks for: required for every kind
    /// but `referral`.
    pub action: Option<Action>,
}

/// Why bytes are not a v2 envelope.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    /// An older version than this build speaks.
    #[error(
        "envelope version {0} is no longer accepted; this build speaks version {ENVELOPE_VERSION}"
    )]
    Retired(u32),
    /// A newer version than this build speaks.
    #[error(
        "envelope version {0} is newer than this build, which speaks version {ENVELOPE_VERSION}"
    )]
    Unknown(u32),
    /// Not JSON of the envelope's shape, bad base64, or metadata that does
    /// not parse.
    #[error("malformed envelope: {0}")]
    Malformed(String),
}

impl EnvelopeError {
    /// The version the bytes claim, when that is why they were refused.
    pub fn version(&self) -> Option<u32> {
        match self {
            EnvelopeError::Retired(v) | EnvelopeError::Unknown(v) => Some(*v),
            EnvelopeError::Malformed(_) => None,
        }
    }
}

/// The JSON object on the wire, as read. Strings stay borrowed from the
/// received bytes; only base64 decoding allocates.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireIn<'a> {
    version: u32,
    #[serde(borrow)]
    meta: Cow<'a, str>,
    #[serde(borrow)]
    ciphertext: Cow<'a, str>,
    #[serde(borrow)]
    signature: Cow<'a, str>,
}

/// The JSON object on the wire, as the sender writes it.
#[derive(Serialize)]
struct WireOut<'a> {
    version: u32,
    meta: &'a str,
    ciphertext: &'a str,
    signature: &'a str,
}

/// Only the version, to name it when the rest does not parse.
#[derive(Deserialize)]
struct VersionOnly {
    version: u32,
}

/// A signed, encrypted message: the exact bytes that travel, with what was
/// read from them. Built only by [`Envelope::seal`] or [`Envelope::parse`],
/// so the parts can never disagree with the bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct Envelope {
    /// The whole envelope JSON, exactly as sent, stored and delivered.
    bytes: Vec<u8>,
    /// The metadata JSON exactly as signed (decoded from base64).
    meta_json: Vec<u8>,
    /// Parsed from `meta_json`.
    meta: Metadata,
    /// The age file.
    ciphertext: Vec<u8>,
    /// SHA-256 of `ciphertext`, the part of the signed bytes that stands
    /// for it.
    payload_digest: [u8; 32],
    /// Ed25519 over [`Envelope::signed_bytes`].
    signature: Vec<u8>,
}

impl std::fmt::Debug for Envelope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Envelope")
            .field("meta", &self.meta)
            .field("bytes", &self.bytes.len())
            .field("ciphertext", &self.ciphertext.len())
            .finish_non_exhaustive()
    }
}

impl Envelope {
    /// Encode an envelope once, as its sender: `meta` becomes compact JSON,
    /// `sign` is asked to sign [`Envelope::signing_bytes`] of that JSON and
    /// the ciphertext, and the result is the bytes to keep and send.
    pub fn seal(
        meta: Metadata,
        ciphertext: Vec<u8>,
        sign: impl FnOnce(&[u8]) -> Vec<u8>,
    ) -> Envelope {
        // Serializing a plain struct of strings and enums cannot fail.
        let meta_json = serde_json::to_vec(&meta).unwrap_or_default();
        let payload_digest: [u8; 32] = Sha256::digest(&ciphertext).into();
        let signature = sign(&signed(&meta_json, &payload_digest));
        let bytes = encode(&meta_json, &ciphertext, &signature);
        Envelope {
            bytes,
            meta_json,
            meta,
            ciphertext,
            payload_digest,
            signature,
        }
    }

    /// Put together an envelope from metadata bytes as they are, without
    /// signing: for tests and tools that need an envelope whose signature or
    /// metadata bytes are not what a sender would produce.
    pub fn assemble(
        meta_json: Vec<u8>,
        ciphertext: Vec<u8>,
        signature: Vec<u8>,
    ) -> Result<Envelope, EnvelopeError> {
        let bytes = encode(&meta_json, &ciphertext, &signature);
        Envelope::parse(bytes)
    }

    /// Read an envelope from the bytes received. JSON whitespace around the
    /// object is not part of the envelope and is dropped; everything else is
    /// kept as it came.
    pub fn parse(bytes: Vec<u8>) -> Result<Envelope, EnvelopeError> {
        Envelope::parse_or_keep(bytes).map_err(|(e, _)| e)
    }

    /// [`Envelope::parse`], handing the bytes back when they are not an
    /// envelope (a node quarantines them as they came).
    pub fn parse_or_keep(bytes: Vec<u8>) -> Result<Envelope, (EnvelopeError, Vec<u8>)> {
        let bytes = trim_json_whitespace(bytes);
        match read(&bytes) {
            Ok(parts) => Ok(Envelope { bytes, ..parts }),
            Err(e) => Err((e, bytes)),
        }
    }

    /// The bytes that travel: POST body, stored body, delivered body.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// [`Envelope::bytes`], without a copy.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// The clear metadata, as read from the signed bytes.
    pub fn meta(&self) -> &Metadata {
        &self.meta
    }

    /// The metadata JSON exactly as signed.
    pub fn meta_json(&self) -> &[u8] {
        &self.meta_json
    }

    /// The age file.
    pub fn ciphertext(&self) -> &[u8] {
        &self.ciphertext
    }

    /// The sender's Ed25519 signature.
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    /// What the signature must cover:
    /// `"tsunagu/envelope/v2\0" || meta_json || SHA-256(ciphertext)`.
    /// The prefix and the digest have fixed lengths, so the metadata bytes
    /// between them are unambiguous without a length field.
    pub fn signed_bytes(&self) -> Vec<u8> {
        signed(&self.meta_json, &self.payload_digest)
    }

    /// The signed bytes for metadata JSON and a ciphertext, for a signer
    /// that builds them itself.
    pub fn signing_bytes(meta_json: &[u8], ciphertext: &[u8]) -> Vec<u8> {
        signed(meta_json, &Sha256::digest(ciphertext).into())
    }

    /// SHA-256 of [`Envelope::bytes`]: two submissions with the same id are
    /// the same resend exactly when their bytes, and so their digests, are
    /// equal.
    pub fn digest(&self) -> [u8; 32] {
        Sha256::digest(&self.bytes).into()
    }
}

/// Everything but the bytes themselves, read from them.
fn read(bytes: &[u8]) -> Result<Envelope, EnvelopeError> {
    let wire: WireIn<'_> = match serde_json::from_slice(bytes) {
        Ok(wire) => wire,
        Err(e) => return Err(version_error(bytes).unwrap_or_else(|| malformed(e))),
    };
    if let Some(e) = check_version(wire.version) {
        return Err(e);
    }
    let meta_json = b64(&wire.meta, "meta")?;
    let ciphertext = b64(&wire.ciphertext, "ciphertext")?;
    let signature = b64(&wire.signature, "signature")?;
    let meta: Metadata = serde_json::from_slice(&meta_json)
        .map_err(|e| EnvelopeError::Malformed(format!("meta: {e}")))?;
    let payload_digest = Sha256::digest(&ciphertext).into();
    Ok(Envelope {
        bytes: Vec::new(),
        meta_json,
        meta,
        ciphertext,
        payload_digest,
        signature,
    })
}

fn signed(meta_json: &[u8], payload_digest: &[u8; 32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(SIGNING_DOMAIN.len() + meta_json.len() + 32);
    out.extend_from_slice(SIGNING_DOMAIN);
    out.extend_from_slice(meta_json);
    out.extend_from_slice(payload_digest);
    out
}

fn encode(meta_json: &[u8], ciphertext: &[u8], signature: &[u8]) -> Vec<u8> {
    let wire = WireOut {
        version: ENVELOPE_VERSION,
        meta: &STANDARD.encode(meta_json),
        ciphertext: &STANDARD.encode(ciphertext),
        signature: &STANDARD.encode(signature),
    };
    // A struct of a number and strings always serializes.
    serde_json::to_vec(&wire).unwrap_or_default()
}

fn b64(text: &str, field: &str) -> Result<Vec<u8>, EnvelopeError> {
    // The standard engine requires canonical padding and no trailing bits,
    // so each byte string has exactly one base64 text.
    STANDARD
        .decode(text.as_bytes())
        .map_err(|e| EnvelopeError::Malformed(format!("{field}: {e}")))
}

fn malformed(e: serde_json::Error) -> EnvelopeError {
    EnvelopeError::Malformed(e.to_string())
}

fn check_version(version: u32) -> Option<EnvelopeError> {
    match version {
        ENVELOPE_VERSION => None,
        v if v < ENVELOPE_VERSION => Some(EnvelopeError::Retired(v)),
        v => Some(EnvelopeError::Unknown(v)),
    }
}

/// Another version has another shape (v1 carried `meta` as an object): name
/// the version rather than the first field that failed.
fn version_error(bytes: &[u8]) -> Option<EnvelopeError> {
    let VersionOnly { version } = serde_json::from_slice(bytes).ok()?;
    check_version(version)
}

fn trim_json_whitespace(mut bytes: Vec<u8>) -> Vec<u8> {
    let ws = |b: &u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r');
    while bytes.last().is_some_and(ws) {
        bytes.pop();
    }
    let lead = bytes.iter().take_while(|b| ws(b)).count();
    if lead > 0 {
        bytes.drain(..lead);
    }
    bytes
}

#[cfg(test)]
mod tests;
