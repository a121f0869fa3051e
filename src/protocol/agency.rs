//! An agency as the directory lists it (in `directory.toml` and from
//! `GET /v1/agencies`), and what kind of body it is. Wire data: a consent may
//! name recipients by kind, and the hub's policy decides by it.

use serde::{Deserialize, Serialize};

use super::keys::{AgeRecipient, CertFingerprint, SigningPublicKey};
use super::{AgencyId, Timestamp};
use crate::i18n::Lang;

/// The kind of body an agency is (see GLOSSARY.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgencyKind {
    /// こども家庭センター
    Center,
    /// 産科医療機関
    ObstetricClinic,
    /// 子ども家庭総合支援拠点 / 市町村児童福祉担当 / 児童相談所
    ChildWelfare,
    /// 保育所・認定こども園・幼稚園
    Nursery,
    /// 要保護児童対策地域協議会 調整機関
    Yotaikyo,
    /// 保健所
    PublicHealth,
    /// その他の関係機関
    Other,
}

impl AgencyKind {
    /// The name staff see.
    pub fn label(self, lang: Lang) -> &'static str {
        use AgencyKind::*;
        match self {
            Center => lang.pick("こども家庭センター", "family and child support center"),
            ObstetricClinic => lang.pick("産科医療機関", "obstetric clinic"),
            ChildWelfare => lang.pick("児童福祉担当", "child welfare"),
            Nursery => lang.pick("保育所・認定こども園", "nursery"),
            Yotaikyo => lang.pick("要対協 調整機関", "child-protection council (yotaikyo)"),
            PublicHealth => lang.pick("保健所", "public health center"),
            Other => lang.pick("その他の関係機関", "other agency"),
        }
    }
}

/// One agency as the directory lists it. Everything here is public.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Agency {
    /// Stable id used in envelopes.
    pub id: AgencyId,
    /// What kind of body it is.
    pub kind: AgencyKind,
    /// Display name (Japanese).
    pub name: String,
    /// Fingerprint of its TLS client certificate.
    pub cert_fingerprint: CertFingerprint,
    /// Its age X25519 recipient.
    pub age_recipient: AgeRecipient,
    /// Its Ed25519 public key.
    pub signing_key: SigningPublicKey,
    /// A member of the 要保護児童対策地域協議会 (may share under
    /// `yotaikyo_sharing` about registered cases).
    #[serde(default)]
    pub yotaikyo_member: bool,
    /// Signing keys the agency used before a rotation, each trusted for
    /// envelopes received until its `until` (so what was signed and queued
    /// before the rotation still verifies). Empty after a compromise: a
    /// stolen key must not keep verifying.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retired_signing_keys: Vec<RetiredKey>,
}

/// A signing key an agency has rotated away from, and how long it is still
/// trusted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetiredKey {
    /// The old Ed25519 public key.
    pub key: SigningPublicKey,
    /// The last instant an envelope signed with it is accepted on receipt.
    pub until: Timestamp,
}

impl Agency {
    /// The keys an envelope from this agency may be signed with when it is
    /// received at `now`: the current key first, then the retired keys
    /// still in their grace period.
    pub fn signing_keys_at(&self, now: Timestamp) -> impl Iterator<Item = &SigningPublicKey> {
        let retired = self
            .retired_signing_keys
            .iter()
            .filter(move |r| now <= r.until);
        std::iter::once(&self.signing_key).chain(retired.map(|r| &r.key))
    }
}

/// `GET /v1/directory`: the directory exactly as the CA signed it, and the
/// signature file. A node verifies both against its CA certificate; the hub
/// only passes them on (it cannot sign a directory: it has no CA key).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedDirectory {
    /// The text of `directory.toml`, byte for byte.
    pub directory: String,
    /// The text of `directory.toml.sig`.
    pub signature: String,
}
