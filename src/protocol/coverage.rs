//! Whether a legal basis covers a disclosure: its sender, every recipient,
//! every declared category and the purpose. One rule set, applied by the hub
//! (the authority, `hub::policy::basis`) and asked by a node before sending
//! (`agency::sharing`), so the two cannot drift; each puts the answer,
//! [`Uncovered`], in its own words.

use super::consent::{ConsentDecision, ConsentRecipient, ConsentScope};
use super::notice::ConsentEnd;
use super::{AgencyId, AgencyKind, InfoCategory, LegalBasis, Purpose, Timestamp, Urgency};

/// Tolerated difference between a node's clock and the hub's: a consent
/// recorded "now" by a node whose clock runs a little ahead is in force.
pub const CLOCK_SKEW: time::Duration = time::Duration::minutes(5);

/// What the rules need to know of the agencies (the directory).
pub trait Agencies {
    /// The kind of body `id` is, if it is known.
    fn kind(&self, id: &AgencyId) -> Option<AgencyKind>;
    /// Whether `id` is a member of the 要対協 (unknown agencies are not).
    fn council_member(&self, id: &AgencyId) -> bool;
}

/// What is about to be shared.
pub struct Disclosure<'a> {
    /// The agencies, looked up by id.
    pub agencies: &'a dyn Agencies,
    /// The sending agency.
    pub sender: &'a AgencyId,
    /// Every recipient.
    pub recipients: &'a [AgencyId],
    /// Every category of information declared.
    pub categories: &'a [InfoCategory],
    /// What it is shared for.
    pub purpose: Purpose,
    /// How urgent it is.
    pub urgency: Urgency,
    /// The time to judge a consent's period at.
    pub now: Timestamp,
    /// The case is registered with the 要対協 and open (as far as the
    /// checker knows: a new case is not).
    pub registered: bool,
}

/// The consent a `LegalBasis::Consent` names, as the checker holds it.
#[derive(Clone, Copy, Debug)]
pub struct NamedConsent<'a> {
    /// Its scope.
    pub scope: &'a ConsentScope,
    /// The agency that recorded it: party to it, so sharing with it needs
    /// no wider consent.
    pub recorded_by: &'a AgencyId,
    /// Withdrawn or expired, if it has ended.
    pub ended: Option<ConsentEnd>,
}

/// Which rule of a basis keeps an agency out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    /// The consent's scope does not name it (by id or kind).
    Consent,
    /// It is not a 要対協 member.
    Council,
    /// The basis is for other kinds of body.
    Kinds,
}

/// What a basis does not cover, the first found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Uncovered {
    /// The consent named is not recorded for this case.
    ConsentNotFound,
    /// She refused, or was not told.
    ConsentNotGranted {
        /// What she decided.
        decision: ConsentDecision,
    },
    /// The consent was withdrawn or has expired.
    ConsentEnded(ConsentEnd),
    /// The consent's period has not begun (beyond [`CLOCK_SKEW`]).
    ConsentNotStarted,
    /// The consent's period is over.
    ConsentPeriodOver,
    /// The sender may not share under this basis.
    SenderOutside {
        /// The sender.
        agency: AgencyId,
        /// Why.
        limit: Limit,
    },
    /// A recipient the basis does not reach.
    RecipientOutside {
        /// The first such recipient.
        agency: AgencyId,
        /// Why.
        limit: Limit,
    },
    /// A declared category outside the consent.
    CategoryOutside(InfoCategory),
    /// The purpose is outside the consent.
    PurposeOutside(Purpose),
    /// 要対協 sharing about a case not registered, or closed.
    CaseNotRegistered,
    /// Vital interest outside an emergency.
    NotUrgent,
}

impl Disclosure<'_> {
    /// Whether `basis` (with `consent`, the one it names for this case, when
    /// it names one) covers the sender, every recipient, every category and
    /// the purpose.
    pub fn check(
        &self,
        basis: &LegalBasis,
        consent: Option<NamedConsent<'_>>,
    ) -> Result<(), Uncovered> {
        use AgencyKind::*;
        match basis {
            LegalBasis::Consent { .. } => self.consent(consent.ok_or(Uncovered::ConsentNotFound)?),
            LegalBasis::YotaikyoSharing => self.council(),
            LegalBasis::ProvisionToMunicipality => {
                let eligible = self
                    .agencies
                    .kind(self.sender)
                    .is_some_and(|k| matches!(k, ObstetricClinic | Nursery | PublicHealth | Other));
                if !eligible {
                    return Err(self.sender_outside(Limit::Kinds));
                }
                self.recipient_kinds_in(&[Center, ChildWelfare])
            }
            LegalBasis::AbuseNotification => self.recipient_kinds_in(&[ChildWelfare, Center]),
            LegalBasis::VitalInterest if self.urgency != Urgency::Emergency => {
                Err(Uncovered::NotUrgent)
            }
            LegalBasis::VitalInterest => Ok(()),
        }
    }

    fn sender_outside(&self, limit: Limit) -> Uncovered {
        Uncovered::SenderOutside {
            agency: self.sender.clone(),
            limit,
        }
    }

    /// The first recipient `reached` does not hold for.
    fn recipients_reached(
        &self,
        limit: Limit,
        reached: impl Fn(&AgencyId) -> bool,
    ) -> Result<(), Uncovered> {
        match self.recipients.iter().find(|r| !reached(r)) {
            Some(r) => Err(Uncovered::RecipientOutside {
                agency: r.clone(),
                limit,
            }),
            None => Ok(()),
        }
    }

    fn recipient_kinds_in(&self, allowed: &[AgencyKind]) -> Result<(), Uncovered> {
        self.recipients_reached(Limit::Kinds, |r| {
            self.agencies.kind(r).is_some_and(|k| allowed.contains(&k))
        })
    }

    fn council(&self) -> Result<(), Uncovered> {
        if !self.registered {
            return Err(Uncovered::CaseNotRegistered);
        }
        if !self.agencies.council_member(self.sender) {
            return Err(self.sender_outside(Limit::Council));
        }
        self.recipients_reached(Limit::Council, |r| self.agencies.council_member(r))
    }

    fn consent(&self, consent: NamedConsent<'_>) -> Result<(), Uncovered> {
        let scope = consent.scope;
        if scope.decision != ConsentDecision::Granted {
            return Err(Uncovered::ConsentNotGranted {
                decision: scope.decision,
            });
        }
        if let Some(end) = consent.ended {
            return Err(Uncovered::ConsentEnded(end));
        }
        let now = self.now.datetime();
        if scope.valid_from.datetime() > now + CLOCK_SKEW {
            return Err(Uncovered::ConsentNotStarted);
        }
        if scope
            .valid_until
            .as_ref()
            .is_some_and(|u| now >= u.datetime())
        {
            return Err(Uncovered::ConsentPeriodOver);
        }
        let covers = |agency: &AgencyId| {
            scope.recipients.iter().any(|r| match r {
                ConsentRecipient::Agency(id) => id == agency,
                ConsentRecipient::Kind(kind) => self.agencies.kind(agency) == Some(*kind),
            })
        };
        if consent.recorded_by != self.sender && !covers(self.sender) {
            return Err(self.sender_outside(Limit::Consent));
        }
        // The agency she gave her consent to is party to it: sharing back
        // with it (a meeting invitation, minutes, a plan) needs no wider
        // consent.
        self.recipients_reached(Limit::Consent, |r| r == consent.recorded_by || covers(r))?;
        if let Some(c) = self
            .categories
            .iter()
            .find(|c| !scope.categories.contains(c))
        {
            return Err(Uncovered::CategoryOutside(*c));
        }
        if !scope.purposes.contains(&self.purpose) {
            return Err(Uncovered::PurposeOutside(self.purpose));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
