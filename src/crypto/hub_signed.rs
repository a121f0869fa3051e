//! What the hub signs with its own key (the directory's `[hub]
//! signing_key`): checkpoints of its audit chain, and every notice, for one
//! agency at one sequence number. Each is encoded once, signed over its
//! exact text behind a domain tag (`protocol::checkpoint::checkpoint_bytes`,
//! `protocol::notice::notice_bytes`), and verified over the text as
//! received, never over a re-encoding.

use ed25519_dalek::SigningKey;

use super::sign;
use crate::protocol::checkpoint::{Checkpoint, SignedCheckpoint, checkpoint_bytes};
use crate::protocol::keys::SigningPublicKey;
use crate::protocol::notice::{SignedNotice, notice_bytes};
use crate::protocol::{AgencyId, Notice, Seq};

/// Why a statement the hub signed was not accepted.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum HubSignatureError {
    #[error(
        "the node's directory names no hub signing key, so nothing the hub signs can be checked"
    )]
    NoHubKey,
    #[error("not signed by the hub")]
    Unsigned,
    #[error(
        "the hub's signature does not verify (forged, altered, or meant for another agency or position)"
    )]
    BadSignature,
    #[error("the signed text is not a valid {what}: {detail}")]
    Malformed { what: &'static str, detail: String },
}

/// Encode `checkpoint` once and sign the encoding.
pub fn sign_checkpoint(key: &SigningKey, checkpoint: &Checkpoint) -> SignedCheckpoint {
    let text = serde_json::to_string(checkpoint).unwrap_or_default();
    let signature = sign::sign(key, &checkpoint_bytes(&text));
    SignedCheckpoint {
        checkpoint: text,
        signature,
    }
}

/// Check the signature against `hub_key`, then read the text.
pub fn verify_checkpoint(
    signed: &SignedCheckpoint,
    hub_key: Option<&SigningPublicKey>,
) -> Result<Checkpoint, HubSignatureError> {
    let key = hub_key.ok_or(HubSignatureError::NoHubKey)?;
    sign::verify(
        key,
        &checkpoint_bytes(&signed.checkpoint),
        &signed.signature,
    )
    .map_err(|_| HubSignatureError::BadSignature)?;
    serde_json::from_str(&signed.checkpoint).map_err(|e| HubSignatureError::Malformed {
        what: "checkpoint",
        detail: e.to_string(),
    })
}

/// Encode `notice` once and sign it for `to` at `seq`.
pub fn sign_notice(key: &SigningKey, to: &AgencyId, seq: Seq, notice: &Notice) -> SignedNotice {
    let text = serde_json::to_string(notice).unwrap_or_default();
    let signature = sign::sign(key, &notice_bytes(to, seq, &text));
    SignedNotice {
        notice: text,
        signature,
    }
}

/// Check that the hub signed this text for `to` at `seq`, then read it.
pub fn open_notice(
    signed: &SignedNotice,
    hub_key: Option<&SigningPublicKey>,
    to: &AgencyId,
    seq: Seq,
) -> Result<Notice, HubSignatureError> {
    let key = hub_key.ok_or(HubSignatureError::NoHubKey)?;
    sign::verify(
        key,
        &notice_bytes(to, seq, &signed.notice),
        &signed.signature,
    )
    .map_err(|_| HubSignatureError::BadSignature)?;
    serde_json::from_str(&signed.notice).map_err(|e| HubSignatureError::Malformed {
        what: "notice",
        detail: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::keys::generate_signing_key;
    use crate::protocol::ids::PlanId;

    fn checkpoint() -> Checkpoint {
        Checkpoint {
            count: 42,
            head: [7; 32],
            at: "2026-11-30T05:00:00.123Z".parse().unwrap(),
        }
    }

    #[test]
    fn a_checkpoint_is_signed_over_the_domain_tag_then_its_text_as_sent() {
        let key = generate_signing_key();
        let signed = sign_checkpoint(&key, &checkpoint());
        assert_eq!(
            signed.checkpoint,
            format!(
                r#"{{"count":42,"head":"{}","at":"2026-11-30T05:00:00.123Z"}}"#,
                "07".repeat(32)
            )
        );
        let public = SigningPublicKey(key.verifying_key());
        let bytes = [
            b"tsunagu/checkpoint/v1\0".as_slice(),
            signed.checkpoint.as_bytes(),
        ]
        .concat();
        assert!(sign::verify(&public, &bytes, &signed.signature).is_ok());
        assert_eq!(verify_checkpoint(&signed, Some(&public)), Ok(checkpoint()));
    }

    #[test]
    fn a_checkpoint_under_another_key_edited_or_without_a_key_is_refused() {
        let key = generate_signing_key();
        let public = SigningPublicKey(key.verifying_key());
        let signed = sign_checkpoint(&key, &checkpoint());
        let other = SigningPublicKey(generate_signing_key().verifying_key());
        assert_eq!(
            verify_checkpoint(&signed, Some(&other)),
            Err(HubSignatureError::BadSignature)
        );
        let mut edited = signed.clone();
        edited.checkpoint = edited.checkpoint.replace("42", "41");
        assert_eq!(
            verify_checkpoint(&edited, Some(&public)),
            Err(HubSignatureError::BadSignature)
        );
        // Whitespace is part of the signed text: a re-encoding is not it.
        let mut spaced = signed.clone();
        spaced.checkpoint = spaced.checkpoint.replace(':', ": ");
        assert_eq!(
            verify_checkpoint(&spaced, Some(&public)),
            Err(HubSignatureError::BadSignature)
        );
        assert_eq!(
            verify_checkpoint(&signed, None),
            Err(HubSignatureError::NoHubKey)
        );
    }

    #[test]
    fn a_notice_opens_only_for_its_agency_at_its_position_under_the_hub_key() {
        let key = generate_signing_key();
        let hub = SigningPublicKey(key.verifying_key());
        let center: AgencyId = "minato-center".parse().unwrap();
        let notice = Notice::PlanReviewDue {
            plan_id: PlanId::new(),
            version: 2,
            case_id: "case-1".parse().unwrap(),
            review_on: "2026-12-01".parse().unwrap(),
        };
        let signed = sign_notice(&key, &center, Seq(7), &notice);
        assert_eq!(
            open_notice(&signed, Some(&hub), &center, Seq(7)),
            Ok(notice)
        );
        let clinic: AgencyId = "sakura-clinic".parse().unwrap();
        let other = SigningPublicKey(generate_signing_key().verifying_key());
        for (key, to, seq) in [
            (Some(&hub), &clinic, Seq(7)),
            (Some(&hub), &center, Seq(8)),
            (Some(&other), &center, Seq(7)),
        ] {
            assert_eq!(
                open_notice(&signed, key, to, seq),
                Err(HubSignatureError::BadSignature)
            );
        }
        assert_eq!(
            open_notice(&signed, None, &center, Seq(7)),
            Err(HubSignatureError::NoHubKey)
        );
        let mut edited = signed.clone();
        edited.notice = edited.notice.replace("\"version\":2", "\"version\":3");
        assert_ne!(edited.notice, signed.notice);
        assert_eq!(
            open_notice(&edited, Some(&hub), &center, Seq(7)),
            Err(HubSignatureError::BadSignature)
        );
    }
}
