//! Command-line choices for the protocol's enumerations, named by their
//! wire names in kebab case with Japanese and English help.

use clap::ValueEnum;
use clap::builder::PossibleValue;

use crate::i18n::Lang;
use crate::protocol::AgencyKind;
use crate::protocol::case::CaseClassification;
use crate::protocol::consent::{ConsentDecision, ConsentGiver, ConsentMethod};
use crate::protocol::{Purpose, ReferralState};

crate::choices!(Purpose { Referral => "referral", CaseMeeting => "case-meeting", SupportPlan => "support-plan", });
crate::choices!(ConsentGiver { Person => "person", Guardian => "guardian", });
crate::choices!(ConsentMethod { Written => "written", Oral => "oral", });
crate::choices!(ConsentDecision { Granted => "granted", Refused => "refused", NotTold => "not-told", });
crate::choices!(ReferralState {
    Sent => "sent",
    Received => "received",
    Accepted => "accepted",
    Declined => "declined",
    InProgress => "in-progress",
    Completed => "completed",
    Cancelled => "cancelled",
});
crate::choices!(CaseClassification {
    ProtectionNeeded => "protection-needed",
    SupportNeeded => "support-needed",
    SpecifiedExpectantMother => "specified-expectant-mother",
});
crate::choices!(AgencyKind {
    Center => "center",
    ObstetricClinic => "obstetric-clinic",
    ChildWelfare => "child-welfare",
    Nursery => "nursery",
    Yotaikyo => "yotaikyo",
    PublicHealth => "public-health",
    Other => "other",
});
