//! The envelope parser and verifier, as the hub and a node run them: any
//! bytes parse to an envelope or a typed error, and a valid envelope with
//! any change to what its signature covers never verifies — nor opens, and
//! it is refused before anything is decrypted. The hub's submit path gets
//! the same mutations over HTTPS in `socket`.

use std::sync::LazyLock;

use ed25519_dalek::SigningKey;
use proptest::prelude::*;
use proptest::sample::Index;
use tsunagu::agency::sealed::{SealError, open_envelope, seal_draft, verify_envelope};
use tsunagu::crypto::{keys, sign};
use tsunagu::directory::Directory;
use tsunagu::protocol::keys::SigningPublicKey;
use tsunagu::protocol::{
    AgencyId, CaseId, Envelope, EnvelopeId, InfoCategory, LegalBasis, MessageKind, Metadata,
    Timestamp, Urgency,
};

use crate::helpers::{CENTER, CLINIC, WELFARE, agency, certs, referral_draft};
use crate::mutate::{mutated, mutations};
use crate::strategies::{
    agency_id, basis, case_id, category, envelope_id, kind, metadata, timestamp, urgency,
};

/// What every property here starts from: the example directory and keys,
/// and one valid referral from the clinic to the center and child welfare.
pub struct Fixture {
    pub directory: Directory,
    pub clinic_key: SigningKey,
    pub center_identity: age::x25519::Identity,
    pub envelope: Envelope,
    /// Another valid envelope, whose ciphertext is swapped in.
    pub other: Envelope,
}

/// Built once: sealing encrypts and signs.
pub static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let directory = Directory::load(&certs().join("directory.toml")).unwrap();
    let dir = certs().join("agencies");
    let clinic_key = keys::load_signing_key(&dir.join(CLINIC).join("signing-key.txt")).unwrap();
    let center_identity =
        keys::load_age_identity(&dir.join(CENTER).join("age-identity.txt")).unwrap();
    let case: CaseId = "case-000000000000".parse().unwrap();
    let seal = || {
        let draft = referral_draft(&case, &[CENTER, WELFARE]);
        seal_draft(&agency(CLINIC), &clinic_key, &directory, &draft).unwrap()
    };
    let (envelope, other) = (seal(), seal());
    Fixture {
        directory,
        clinic_key,
        center_identity,
        envelope,
        other,
    }
});

impl Fixture {
    /// Whether `e` carries exactly the signed parts of the valid envelope:
    /// the only way a changed envelope may still verify (the bytes around
    /// them, such as JSON whitespace, are not what the signature covers).
    pub fn same_signed_parts(&self, e: &Envelope) -> bool {
        e.meta_json() == self.envelope.meta_json()
            && e.ciphertext() == self.envelope.ciphertext()
            && e.signature() == self.envelope.signature()
    }

    /// The valid envelope's metadata bytes with this ciphertext and
    /// signature.
    pub fn with_parts(&self, ciphertext: &[u8], signature: &[u8]) -> Envelope {
        let meta_json = self.envelope.meta_json().to_vec();
        Envelope::assemble(meta_json, ciphertext.to_vec(), signature.to_vec()).unwrap()
    }

    /// A change that left the signed parts as they were (the same value
    /// drawn again, whitespace between JSON tokens) must still verify;
    /// any other is refused.
    pub fn assert_refused_if_changed(&self, e: &Envelope) -> Result<(), TestCaseError> {
        if self.same_signed_parts(e) {
            prop_assert!(verify_envelope(e, &self.directory).is_ok());
            return Ok(());
        }
        self.assert_refused(e)
    }

    /// Check a changed envelope as a node would: it must not verify, and
    /// opening it as the center must refuse before decrypting.
    pub fn assert_refused(&self, e: &Envelope) -> Result<(), TestCaseError> {
        prop_assert!(
            verify_envelope(e, &self.directory).is_err(),
            "a changed envelope verified: {e:?}"
        );
        let opened = open_envelope(e, &agency(CENTER), &self.center_identity, &self.directory);
        prop_assert!(
            matches!(
                opened,
                Err(SealError::BadSignature
                    | SealError::UnknownAgency(_)
                    | SealError::NotAddressedToMe(_))
            ),
            "a changed envelope was not refused before decryption: {opened:?}"
        );
        Ok(())
    }
}

/// One change to one metadata field, re-encoded with the old signature:
/// what a hub or a man in the middle would do to reroute or relabel.
#[derive(Clone, Debug)]
pub enum MetaChange {
    Id(EnvelopeId),
    Sender(AgencyId),
    AddRecipient(AgencyId, Index),
    DropRecipient(Index),
    SwapRecipients,
    ReplaceRecipient(Index, AgencyId),
    CaseId(Option<CaseId>),
    Kind(MessageKind),
    Categories(Vec<InfoCategory>),
    Urgency(Urgency),
    CreatedAt(Timestamp),
    Basis(Option<LegalBasis>),
}

impl MetaChange {
    pub fn apply(&self, m: &mut Metadata) {
        let pick = |i: &Index, n: usize| i.index(n.max(1));
        match self.clone() {
            MetaChange::Id(id) => m.id = id,
            MetaChange::Sender(a) => m.sender = a,
            MetaChange::AddRecipient(a, at) => {
                let at = pick(&at, m.recipients.len() + 1);
                m.recipients.insert(at.min(m.recipients.len()), a);
            }
            MetaChange::DropRecipient(at) if !m.recipients.is_empty() => {
                m.recipients.remove(pick(&at, m.recipients.len()));
            }
            MetaChange::DropRecipient(_) => {}
            MetaChange::SwapRecipients => m.recipients.reverse(),
            MetaChange::ReplaceRecipient(at, a) if !m.recipients.is_empty() => {
                let at = pick(&at, m.recipients.len());
                m.recipients[at] = a;
            }
            MetaChange::ReplaceRecipient(..) => {}
            MetaChange::CaseId(c) => m.case_id = c,
            MetaChange::Kind(k) => m.kind = k,
            MetaChange::Categories(c) => m.categories = c,
            MetaChange::Urgency(u) => m.urgency = u,
            MetaChange::CreatedAt(t) => m.created_at = t,
            MetaChange::Basis(b) => m.basis = b,
        }
    }
}

/// Agency ids a change is likely to pick: the directory's own (a plausible
/// reroute) as often as random ones.
fn some_agency() -> impl Strategy<Value = AgencyId> {
    prop_oneof![
        prop::sample::select(vec![
            "minato-center",
            "sakura-clinic",
            "minato-child-welfare",
            "hikari-nursery",
            "minato-yotaikyo",
        ])
        .prop_map(agency),
        agency_id(),
    ]
}

pub fn meta_change() -> impl Strategy<Value = MetaChange> {
    prop_oneof![
        envelope_id().prop_map(MetaChange::Id),
        some_agency().prop_map(MetaChange::Sender),
        (some_agency(), any::<Index>()).prop_map(|(a, i)| MetaChange::AddRecipient(a, i)),
        any::<Index>().prop_map(MetaChange::DropRecipient),
        Just(MetaChange::SwapRecipients),
        (any::<Index>(), some_agency()).prop_map(|(i, a)| MetaChange::ReplaceRecipient(i, a)),
        prop::option::of(case_id()).prop_map(MetaChange::CaseId),
        kind().prop_map(MetaChange::Kind),
        prop::collection::vec(category(), 0..4).prop_map(MetaChange::Categories),
        urgency().prop_map(MetaChange::Urgency),
        timestamp().prop_map(MetaChange::CreatedAt),
        prop::option::of(basis()).prop_map(MetaChange::Basis),
    ]
}

/// The valid envelope with `changes` made to its metadata, re-encoded, and
/// the original ciphertext and signature.
pub fn with_meta_changed(f: &Fixture, changes: &[MetaChange]) -> Envelope {
    let mut meta = f.envelope.meta().clone();
    for c in changes {
        c.apply(&mut meta);
    }
    let json = serde_json::to_vec(&meta).unwrap();
    let (ct, sig) = (f.envelope.ciphertext(), f.envelope.signature());
    Envelope::assemble(json, ct.to_vec(), sig.to_vec()).unwrap()
}

/// Bytes an envelope parser could be handed: the valid envelope changed a
/// little, JSON of the wire shape, or anything.
fn envelope_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => mutations().prop_map(|m| mutated(FIXTURE.envelope.bytes(), &m)),
        1 => r#"\{"version":(-?[0-9]{1,12}|null|"2"),"meta":"[A-Za-z0-9+/=]{0,24}","ciphertext":"[A-Za-z0-9+/=]{0,12}","signature":"[A-Za-z0-9+/=\\]{0,12}"(,"[a-z]{1,8}":0)?\}"#
            .prop_map(String::into_bytes),
        1 => prop::collection::vec(any::<u8>(), 0..512),
    ]
}

/// `bytes` without JSON whitespace at either end.
fn json_trimmed(bytes: &[u8]) -> &[u8] {
    let ws = |b: &u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r');
    let start = bytes.iter().take_while(|b| ws(b)).count();
    let end = bytes.len() - bytes[start..].iter().rev().take_while(|b| ws(b)).count();
    &bytes[start..end]
}

fn clinic_public() -> SigningPublicKey {
    SigningPublicKey(FIXTURE.clinic_key.verifying_key())
}

proptest! {
    #![proptest_config(crate::config())]

    /// Sealing then parsing gives back the same envelope, whatever the
    /// metadata, and its signature verifies over the bytes as parsed.
    #[test]
    fn a_sealed_envelope_reads_back_as_sealed(
        meta in metadata(),
        ciphertext in prop::collection::vec(any::<u8>(), 0..256),
    ) {
        let key = &FIXTURE.clinic_key;
        let sealed = Envelope::seal(meta.clone(), ciphertext, |m| sign::sign(key, m));
        let parsed = Envelope::parse(sealed.bytes().to_vec()).unwrap();
        prop_assert_eq!(parsed.meta(), &meta);
        prop_assert!(sign::verify(&clinic_public(), &parsed.signed_bytes(), parsed.signature()).is_ok());
        prop_assert_eq!(parsed, sealed);
    }

    /// Any bytes are an envelope or a typed error; what parses, parses the
    /// same again from its own bytes; what does not is handed back as it
    /// came (less JSON whitespace), for the node's quarantine.
    #[test]
    fn any_bytes_are_an_envelope_or_a_typed_error(bytes in envelope_bytes()) {
        match Envelope::parse_or_keep(bytes.clone()) {
            Ok(e) => {
                let again = Envelope::parse(e.bytes().to_vec()).unwrap();
                prop_assert_eq!(again, e);
            }
            Err((error, kept)) => {
                prop_assert!(!error.to_string().is_empty());
                prop_assert_eq!(kept.as_slice(), json_trimmed(&bytes));
            }
        }
    }

    /// Flipped, inserted, deleted or copied bytes anywhere in a valid
    /// envelope: refused when parsed, or refused when verified, unless the
    /// signed parts came through unchanged.
    #[test]
    fn a_valid_envelope_with_changed_bytes_never_verifies(m in mutations()) {
        let f = &*FIXTURE;
        if let Ok(e) = Envelope::parse(mutated(f.envelope.bytes(), &m)) {
            f.assert_refused_if_changed(&e)?;
        }
    }

    /// Rerouted, relabelled, redated or reattributed metadata under the
    /// old signature never verifies.
    #[test]
    fn a_changed_metadata_field_never_verifies(
        changes in prop::collection::vec(meta_change(), 1..3),
    ) {
        let f = &*FIXTURE;
        f.assert_refused_if_changed(&with_meta_changed(f, &changes))?;
    }

    /// A ciphertext cut short, with a byte changed, or with bytes added,
    /// under the old metadata and signature never verifies.
    #[test]
    fn a_truncated_or_changed_ciphertext_never_verifies(m in mutations()) {
        let f = &*FIXTURE;
        let ciphertext = mutated(f.envelope.ciphertext(), &m);
        f.assert_refused_if_changed(&f.with_parts(&ciphertext, f.envelope.signature()))?;
    }

    /// A signature with any change never verifies (strict verification: no
    /// malleable second form).
    #[test]
    fn a_changed_signature_never_verifies(m in mutations()) {
        let f = &*FIXTURE;
        let signature = mutated(f.envelope.signature(), &m);
        f.assert_refused_if_changed(&f.with_parts(f.envelope.ciphertext(), &signature))?;
    }
}

/// The ciphertext of another valid envelope from the same sender, under
/// this one's metadata and signature: both are genuine, the pair is not.
#[test]
fn a_ciphertext_swapped_from_another_valid_envelope_never_verifies() {
    let f = &*FIXTURE;
    let e = f.with_parts(f.other.ciphertext(), f.envelope.signature());
    f.assert_refused(&e).unwrap();
    // And the valid one verifies and opens, so the refusals above are
    // about the change.
    assert!(
        open_envelope(
            &f.envelope,
            &agency(CENTER),
            &f.center_identity,
            &f.directory
        )
        .is_ok()
    );
}
