//! Generators of valid protocol values (proptest strategies), kept in test
//! code: production types carry no `Arbitrary` derives.

use proptest::prelude::*;
use tsunagu::protocol::{
    Action, AgencyId, CaseId, ConsentId, EnvelopeId, InfoCategory, LegalBasis, MessageKind,
    Metadata, Purpose, Timestamp, Urgency,
};

/// An id of 1–64 characters of a-z, 0-9 and '-', as agency and case ids are.
pub fn slug() -> impl Strategy<Value = String> {
    "[a-z0-9-]{1,64}"
}

pub fn agency_id() -> impl Strategy<Value = AgencyId> {
    slug().prop_map(|s| s.parse().unwrap())
}

pub fn case_id() -> impl Strategy<Value = CaseId> {
    slug().prop_map(|s| s.parse().unwrap())
}

pub fn envelope_id() -> impl Strategy<Value = EnvelopeId> {
    any::<u128>().prop_map(|n| EnvelopeId(uuid::Uuid::from_u128(n)))
}

/// Any instant the type holds: years 0000–9999, to the millisecond.
pub fn timestamp() -> impl Strategy<Value = Timestamp> {
    // 0000-01-01 and 9999-12-31T23:59:59.999 in ms since 1970.
    (-62_167_219_200_000_i64..=253_402_300_799_999)
        .prop_map(|ms| Timestamp::from_unix_millis(ms).unwrap())
}

pub fn category() -> impl Strategy<Value = InfoCategory> {
    prop::sample::select(InfoCategory::ALL.to_vec())
}

pub fn kind() -> impl Strategy<Value = MessageKind> {
    prop::sample::select(MessageKind::ALL.to_vec())
}

pub fn urgency() -> impl Strategy<Value = Urgency> {
    prop::sample::select(vec![Urgency::Emergency, Urgency::Early, Urgency::Normal])
}

pub fn basis() -> impl Strategy<Value = LegalBasis> {
    prop_oneof![
        any::<u128>().prop_map(|n| LegalBasis::Consent {
            consent_id: ConsentId(uuid::Uuid::from_u128(n))
        }),
        Just(LegalBasis::YotaikyoSharing),
        Just(LegalBasis::ProvisionToMunicipality),
        Just(LegalBasis::AbuseNotification),
        Just(LegalBasis::VitalInterest),
    ]
}

/// The actions with the fewest nested types; the nested ones have their
/// own parsers, fuzzed through the payload and consent properties.
pub fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        Just(Action::CloseCase),
        any::<u128>().prop_map(|n| Action::WithdrawConsent {
            consent_id: ConsentId(uuid::Uuid::from_u128(n))
        }),
    ]
}

/// Metadata of any shape the type allows (the hub's policy, not the
/// parser, decides whether it makes sense).
pub fn metadata() -> impl Strategy<Value = Metadata> {
    (
        (
            envelope_id(),
            agency_id(),
            prop::collection::vec(agency_id(), 0..4),
        ),
        (prop::option::of(case_id()), kind()),
        (
            prop::collection::vec(category(), 0..4),
            urgency(),
            timestamp(),
        ),
        (
            prop::option::of(basis()),
            prop::option::of(prop::sample::select(Purpose::ALL.to_vec())),
            prop::option::of(action()),
        ),
    )
        .prop_map(
            |(
                (id, sender, recipients),
                (case_id, kind),
                (categories, urgency, created_at),
                (basis, purpose, action),
            )| Metadata {
                id,
                sender,
                recipients,
                case_id,
                kind,
                categories,
                urgency,
                created_at,
                basis,
                purpose,
                action,
            },
        )
}
