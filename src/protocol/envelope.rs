//! The envelope: the one format for everything that travels between agencies.
//!
//! The hub reads only [`Metadata`]; the payload is an age file encrypted to
//! every recipient and to the sender, and the whole is signed by the sender.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Action, AgencyId, CaseId, EnvelopeId, InfoCategory, LegalBasis, Purpose, Timestamp};
use crate::i18n::Lang;

/// The envelope format version this build speaks.
pub const ENVELOPE_VERSION: u32 = 1;

/// Prefix of the signed bytes, so a signature can never be replayed as
/// something other than a tsunagu v1 envelope.
const SIGNING_DOMAIN: &[u8] = b"tsunagu/envelope/v1\0";

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
        }
    }

    /// Every kind.
    pub const ALL: [MessageKind; 5] = [
        MessageKind::Referral,
        MessageKind::ReferralUpdate,
        MessageKind::ConsentRecord,
        MessageKind::ConsentWithdrawal,
        MessageKind::CaseUpdate,
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
    /// The legal basis for sharing: required for referrals.
    pub basis: Option<LegalBasis>,
    /// What the information is shared for: required for referrals.
    pub purpose: Option<Purpose>,
    /// The hub state change this envelope asks for: required for every kind
    /// but `referral`.
    pub action: Option<Action>,
}

/// A signed, encrypted message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    /// Format version; this build speaks [`ENVELOPE_VERSION`].
    pub version: u32,
    /// The clear metadata.
    pub meta: Metadata,
    /// A binary age file, base64 in JSON, encrypted to every recipient's
    /// X25519 key and the sender's own.
    #[serde(with = "super::b64")]
    pub ciphertext: Vec<u8>,
    /// Ed25519 signature by the sender over [`Envelope::signing_bytes`],
    /// base64 in JSON.
    #[serde(with = "super::b64")]
    pub signature: Vec<u8>,
}

impl Envelope {
    /// The canonical bytes the sender signs:
    /// `"tsunagu/envelope/v1\0" || u32be(version) || u64be(len(meta)) || meta || ciphertext`,
    /// where `meta` is the compact JSON of [`Metadata`] with fields in declared order.
    pub fn signing_bytes(version: u32, meta: &Metadata, ciphertext: &[u8]) -> Vec<u8> {
        // Serializing a plain struct of strings and enums cannot fail.
        let meta_json = serde_json::to_vec(meta).unwrap_or_default();
        let mut out =
            Vec::with_capacity(SIGNING_DOMAIN.len() + 12 + meta_json.len() + ciphertext.len());
        out.extend_from_slice(SIGNING_DOMAIN);
        out.extend_from_slice(&version.to_be_bytes());
        out.extend_from_slice(&(meta_json.len() as u64).to_be_bytes());
        out.extend_from_slice(&meta_json);
        out.extend_from_slice(ciphertext);
        out
    }

    /// The bytes this envelope's signature must cover.
    pub fn signed_bytes(&self) -> Vec<u8> {
        Self::signing_bytes(self.version, &self.meta, &self.ciphertext)
    }

    /// SHA-256 over the signed bytes and the signature: two envelopes with the
    /// same id are the same resend exactly when their digests are equal.
    pub fn digest(&self) -> [u8; 32] {
        self.digest_of(&self.signed_bytes())
    }

    /// [`Envelope::digest`] from signed bytes already computed (they copy
    /// the whole ciphertext, up to the size limit).
    pub fn digest_of(&self, signed_bytes: &[u8]) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(signed_bytes);
        h.update(&self.signature);
        h.finalize().into()
    }
}
