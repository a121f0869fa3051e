//! Statements the hub signs with its own key (the directory's `[hub]
//! signing_key`): checkpoints of its audit chain, and the notices it sends.
//!
//! Each carries its JSON text as a string and a signature over that text's
//! exact bytes behind a domain tag, so a verifier never re-encodes what it
//! checks, and a signature made for one kind of statement is never valid
//! for another.

use serde::{Deserialize, Serialize};

use super::Timestamp;
use super::keys::SigningPublicKey;
use crate::crypto::sign;

/// Domain tag of a checkpoint's signed bytes.
const CHECKPOINT_DOMAIN: &[u8] = b"tsunagu/checkpoint/v1\0";

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

impl SignedCheckpoint {
    /// Encode `checkpoint` once and sign the encoding.
    pub fn sign(key: &ed25519_dalek::SigningKey, checkpoint: &Checkpoint) -> Self {
        let text = serde_json::to_string(checkpoint).unwrap_or_default();
        let signature = sign::sign(key, &checkpoint_bytes(&text));
        Self {
            checkpoint: text,
            signature,
        }
    }

    /// Check the signature against `hub_key`, then read the text.
    pub fn verify(
        &self,
        hub_key: Option<&SigningPublicKey>,
    ) -> Result<Checkpoint, HubSignatureError> {
        let key = hub_key.ok_or(HubSignatureError::NoHubKey)?;
        sign::verify(key, &checkpoint_bytes(&self.checkpoint), &self.signature)
            .map_err(|_| HubSignatureError::BadSignature)?;
        serde_json::from_str(&self.checkpoint).map_err(|e| HubSignatureError::Malformed {
            what: "checkpoint",
            detail: e.to_string(),
        })
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::keys::generate_signing_key;

    fn checkpoint() -> Checkpoint {
        Checkpoint {
            count: 42,
            head: [7; 32],
            at: "2026-11-30T05:00:00.123Z".parse().unwrap(),
        }
    }

    #[test]
    fn the_signed_bytes_are_the_domain_tag_then_the_text_as_sent() {
        let key = generate_signing_key();
        let signed = SignedCheckpoint::sign(&key, &checkpoint());
        assert_eq!(
            signed.checkpoint,
            format!(
                r#"{{"count":42,"head":"{}","at":"2026-11-30T05:00:00.123Z"}}"#,
                "07".repeat(32)
            )
        );
        let public = SigningPublicKey(key.verifying_key());
        assert!(
            sign::verify(
                &public,
                &[
                    b"tsunagu/checkpoint/v1\0".as_slice(),
                    signed.checkpoint.as_bytes()
                ]
                .concat(),
                &signed.signature
            )
            .is_ok()
        );
        assert_eq!(signed.verify(Some(&public)), Ok(checkpoint()));
    }

    #[test]
    fn another_key_an_edited_text_or_no_key_is_refused() {
        let key = generate_signing_key();
        let public = SigningPublicKey(key.verifying_key());
        let signed = SignedCheckpoint::sign(&key, &checkpoint());
        let other = SigningPublicKey(generate_signing_key().verifying_key());
        assert_eq!(
            signed.verify(Some(&other)),
            Err(HubSignatureError::BadSignature)
        );
        let mut edited = signed.clone();
        edited.checkpoint = edited.checkpoint.replace("42", "41");
        assert_eq!(
            edited.verify(Some(&public)),
            Err(HubSignatureError::BadSignature)
        );
        // Whitespace is part of the signed text: a re-encoding is not it.
        let mut spaced = signed.clone();
        spaced.checkpoint = spaced.checkpoint.replace(":", ": ");
        assert_eq!(
            spaced.verify(Some(&public)),
            Err(HubSignatureError::BadSignature)
        );
        assert_eq!(signed.verify(None), Err(HubSignatureError::NoHubKey));
    }
}
