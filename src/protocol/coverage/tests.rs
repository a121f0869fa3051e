//! One row per thing a basis may not cover: a sharing that is covered,
//! changed in one way, and what the check then names.

use super::*;
use crate::protocol::ConsentId;
use crate::protocol::consent::{ConsentGiver, ConsentMethod};

/// A clinic and a nursery outside the council; a center and child welfare
/// in it.
struct Known;

impl Agencies for Known {
    fn kind(&self, id: &AgencyId) -> Option<AgencyKind> {
        match id.as_str() {
            "clinic" => Some(AgencyKind::ObstetricClinic),
            "nursery" => Some(AgencyKind::Nursery),
            "center" => Some(AgencyKind::Center),
            "welfare" => Some(AgencyKind::ChildWelfare),
            _ => None,
        }
    }

    fn council_member(&self, id: &AgencyId) -> bool {
        matches!(id.as_str(), "center" | "welfare")
    }
}

fn id(s: &str) -> AgencyId {
    s.parse().unwrap()
}

/// Everything one check reads, owned so a row can change any of it.
struct Setup {
    basis: LegalBasis,
    sender: AgencyId,
    recipients: Vec<AgencyId>,
    categories: Vec<InfoCategory>,
    urgency: Urgency,
    registered: bool,
    now: Timestamp,
    scope: Option<ConsentScope>,
    recorded_by: AgencyId,
    ended: Option<ConsentEnd>,
}

/// The clinic sends basic information to the center under a consent that
/// names the center, for a referral, valid from now on.
fn covered() -> Setup {
    let now = Timestamp::now();
    let scope = ConsentScope {
        consent_id: ConsentId::new(),
        case_id: "case-1".parse().unwrap(),
        given_by: ConsentGiver::Person,
        method: ConsentMethod::Oral,
        decision: ConsentDecision::Granted,
        recipients: vec![ConsentRecipient::Agency(id("center"))],
        categories: vec![InfoCategory::Basic],
        purposes: vec![Purpose::Referral],
        valid_from: now,
        valid_until: None,
    };
    Setup {
        basis: LegalBasis::Consent {
            consent_id: scope.consent_id,
        },
        sender: id("clinic"),
        recipients: vec![id("center")],
        categories: vec![InfoCategory::Basic],
        urgency: Urgency::Normal,
        registered: true,
        now,
        scope: Some(scope),
        recorded_by: id("clinic"),
        ended: None,
    }
}

/// A name, a change to the covered sharing, and what the check answers.
type Row = (&'static str, fn(&mut Setup), Result<(), Uncovered>);

fn check(change: fn(&mut Setup)) -> Result<(), Uncovered> {
    let mut s = covered();
    change(&mut s);
    let consent = s.scope.as_ref().map(|scope| NamedConsent {
        scope,
        recorded_by: &s.recorded_by,
        ended: s.ended,
    });
    Disclosure {
        agencies: &Known,
        sender: &s.sender,
        recipients: &s.recipients,
        categories: &s.categories,
        purpose: Purpose::Referral,
        urgency: s.urgency,
        now: s.now,
        registered: s.registered,
    }
    .check(&s.basis, consent)
}

fn scope(s: &mut Setup) -> &mut ConsentScope {
    s.scope.as_mut().unwrap()
}

fn minutes(n: i64) -> time::Duration {
    time::Duration::minutes(n)
}

fn later(t: Timestamp, by: time::Duration) -> Timestamp {
    Timestamp::from_datetime(t.datetime() + by)
}

fn outside(agency: &str, limit: Limit) -> Result<(), Uncovered> {
    Err(Uncovered::RecipientOutside {
        agency: id(agency),
        limit,
    })
}

fn sender_outside(agency: &str, limit: Limit) -> Result<(), Uncovered> {
    Err(Uncovered::SenderOutside {
        agency: id(agency),
        limit,
    })
}

#[test]
fn a_consent_covers_only_what_it_names_while_in_force() {
    let rows: [Row; 14] = [
        ("as given", |_| {}, Ok(())),
        (
            "not found",
            |s| s.scope = None,
            Err(Uncovered::ConsentNotFound),
        ),
        (
            "refused",
            |s| scope(s).decision = ConsentDecision::Refused,
            Err(Uncovered::ConsentNotGranted {
                decision: ConsentDecision::Refused,
            }),
        ),
        (
            "withdrawn",
            |s| s.ended = Some(ConsentEnd::Withdrawn),
            Err(Uncovered::ConsentEnded(ConsentEnd::Withdrawn)),
        ),
        (
            "starts within the clock skew",
            |s| scope(s).valid_from = later(s.now, CLOCK_SKEW),
            Ok(()),
        ),
        (
            "starts later",
            |s| scope(s).valid_from = later(s.now, CLOCK_SKEW + minutes(1)),
            Err(Uncovered::ConsentNotStarted),
        ),
        (
            "ended now",
            |s| scope(s).valid_until = Some(s.now),
            Err(Uncovered::ConsentPeriodOver),
        ),
        (
            "sent by another agency it names",
            |s| {
                s.sender = id("welfare");
                scope(s)
                    .recipients
                    .push(ConsentRecipient::Kind(AgencyKind::ChildWelfare));
            },
            Ok(()),
        ),
        (
            "sent by an agency it does not name",
            |s| s.sender = id("nursery"),
            sender_outside("nursery", Limit::Consent),
        ),
        (
            "to an agency it does not name",
            |s| s.recipients.push(id("welfare")),
            outside("welfare", Limit::Consent),
        ),
        (
            "back to the agency that recorded it",
            |s| {
                s.recorded_by = id("nursery");
                s.sender = id("center");
                s.recipients = vec![id("nursery")];
            },
            Ok(()),
        ),
        (
            "to a kind it names",
            |s| scope(s).recipients = vec![ConsentRecipient::Kind(AgencyKind::Center)],
            Ok(()),
        ),
        (
            "a category it does not name",
            |s| s.categories.push(InfoCategory::MentalHealth),
            Err(Uncovered::CategoryOutside(InfoCategory::MentalHealth)),
        ),
        (
            "a purpose it does not name",
            |s| scope(s).purposes = vec![Purpose::CaseMeeting],
            Err(Uncovered::PurposeOutside(Purpose::Referral)),
        ),
    ];
    for (name, change, expected) in rows {
        assert_eq!(check(change), expected, "{name}");
    }
}

#[test]
fn a_statutory_basis_reaches_only_the_bodies_the_law_names() {
    let rows: [Row; 10] = [
        (
            "provision to the municipality",
            |s| s.basis = LegalBasis::ProvisionToMunicipality,
            Ok(()),
        ),
        (
            "provision by the municipality itself",
            |s| {
                s.basis = LegalBasis::ProvisionToMunicipality;
                s.sender = id("center");
                s.recipients = vec![id("welfare")];
            },
            sender_outside("center", Limit::Kinds),
        ),
        (
            "provision to a nursery",
            |s| {
                s.basis = LegalBasis::ProvisionToMunicipality;
                s.recipients.push(id("nursery"));
            },
            outside("nursery", Limit::Kinds),
        ),
        (
            "abuse notification to a nursery",
            |s| {
                s.basis = LegalBasis::AbuseNotification;
                s.recipients = vec![id("welfare"), id("nursery")];
            },
            outside("nursery", Limit::Kinds),
        ),
        (
            "council sharing among members",
            |s| {
                s.basis = LegalBasis::YotaikyoSharing;
                s.sender = id("welfare");
            },
            Ok(()),
        ),
        (
            "council sharing about an unregistered case",
            |s| {
                s.basis = LegalBasis::YotaikyoSharing;
                s.registered = false;
            },
            Err(Uncovered::CaseNotRegistered),
        ),
        (
            "council sharing from outside the council",
            |s| s.basis = LegalBasis::YotaikyoSharing,
            sender_outside("clinic", Limit::Council),
        ),
        (
            "council sharing to outside the council",
            |s| {
                s.basis = LegalBasis::YotaikyoSharing;
                s.sender = id("welfare");
                s.recipients = vec![id("center"), id("nursery")];
            },
            outside("nursery", Limit::Council),
        ),
        (
            "vital interest, not urgent",
            |s| s.basis = LegalBasis::VitalInterest,
            Err(Uncovered::NotUrgent),
        ),
        (
            "vital interest in an emergency",
            |s| {
                s.basis = LegalBasis::VitalInterest;
                s.urgency = Urgency::Emergency;
            },
            Ok(()),
        ),
    ];
    for (name, change, expected) in rows {
        assert_eq!(check(change), expected, "{name}");
    }
}
