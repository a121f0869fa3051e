//! Command-line choices for the protocol's enumerations, named by their
//! wire names in kebab case with Japanese and English help.

use crate::agency::ledger::{ProgressStatus, Route};
use crate::agency::support_ledger::{ContactKind, ContactPoint, SubjectKind, Tier};
use crate::protocol::AgencyKind;
use crate::protocol::case::CaseClassification;
use crate::protocol::consent::{ConsentDecision, ConsentGiver, ConsentMethod};
use crate::protocol::meeting::Level;
use crate::protocol::{Purpose, ReferralState};

/// Choice values for clap, named by the wire name in kebab case, with the
/// Japanese and English labels as help. Kept in the CLI rather than derived on
/// the protocol types so the wire contract does not depend on clap; the
/// impls must stay in this crate (orphan rule), which is why `cli` is a
/// module of the library and not of the binary.
macro_rules! choices {
    ($ty:ident { $($variant:ident => $name:literal,)+ }) => {
        impl ::clap::ValueEnum for $ty {
            fn value_variants<'a>() -> &'a [Self] {
                static ALL: &[$ty] = &[$($ty::$variant,)+];
                ALL
            }

            fn to_possible_value(&self) -> Option<::clap::builder::PossibleValue> {
                let name = match self {
                    $($ty::$variant => $name,)+
                    #[allow(unreachable_patterns)]
                    _ => return None,
                };
                let help = format!("{} / {}", self.label($crate::i18n::Lang::Ja), self.label($crate::i18n::Lang::En));
                Some(::clap::builder::PossibleValue::new(name).help(help))
            }
        }
    };
}

pub(super) use choices;

choices!(Purpose { Referral => "referral", CaseMeeting => "case-meeting", SupportPlan => "support-plan", InformationSharing => "information-sharing", });
choices!(ConsentGiver { Person => "person", Guardian => "guardian", });
choices!(ConsentMethod { Written => "written", Oral => "oral", });
choices!(ConsentDecision { Granted => "granted", Refused => "refused", NotTold => "not-told", });
choices!(ReferralState {
    Sent => "sent",
    Received => "received",
    Accepted => "accepted",
    Declined => "declined",
    InProgress => "in-progress",
    Completed => "completed",
    Cancelled => "cancelled",
});
choices!(CaseClassification {
    ProtectionNeeded => "protection-needed",
    SupportNeeded => "support-needed",
    SpecifiedExpectantMother => "specified-expectant-mother",
});
choices!(AgencyKind {
    Center => "center",
    ObstetricClinic => "obstetric-clinic",
    ChildWelfare => "child-welfare",
    Nursery => "nursery",
    Yotaikyo => "yotaikyo",
    PublicHealth => "public-health",
    Other => "other",
});
choices!(Route {
    Notification => "notification",
    Medical => "medical",
    PregnancyReport => "pregnancy-report",
    Checkup => "checkup",
    MovedIn => "moved-in",
    Other => "other",
});
choices!(ProgressStatus {
    Received => "received",
    Assessment => "assessment",
    Supporting => "supporting",
    Watching => "watching",
    Referred => "referred",
    Transferred => "transferred",
    Closed => "closed",
});
choices!(Level { High => "high", Medium => "medium", Low => "low", });
choices!(SubjectKind { Pregnant => "pregnant", Child => "child", Family => "family", });
choices!(Tier { Independent => "independent", SelfPlan => "self-plan", SupportPlan => "support-plan", Specified => "specified", });
choices!(ContactKind { Phone => "phone", Interview => "interview", Visit => "visit", WalkIn => "walk-in", FromAgency => "from-agency", });
choices!(ContactPoint { Notification => "notification", Month8 => "month8", InfantVisit => "infant-visit", });
