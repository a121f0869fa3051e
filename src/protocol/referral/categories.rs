//! Which information categories (情報区分) a referral discloses.
//!
//! The sender puts them in the envelope metadata and the hub checks the legal
//! basis (and, later, the recorded consent) against them, so declaring too
//! few would let information through that nothing authorised. When a field
//! could belong to two categories, it declares both.

use std::collections::BTreeSet;

use super::{Referral, ReferralReason};
use crate::protocol::InfoCategory::{self, *};

impl Referral {
    /// The categories this referral discloses. Field by field:
    ///
    /// | field | categories |
    /// |---|---|
    /// | `mother` (name, furigana, birth date, addresses, phone, nationality, language), `support_requested`, `already_known_to_municipality`, `consent` | Basic |
    /// | `timing` — any referral says she is or was pregnant | PregnancyMedical |
    /// | `pregnancy` | PregnancyMedical |
    /// | `child` (birth date, weight, weeks, NICU) | PregnancyMedical, ChildDevelopment |
    /// | `epds` | MentalHealth |
    /// | `household`, `key_person`, when not blank | Family |
    /// | `reasons` | see [`ReferralReason::categories`] |
    /// | `findings` and `other` reasons (free text) | whatever `extra_categories` declares |
    ///
    /// Basic and PregnancyMedical are therefore always present.
    pub fn categories(&self) -> BTreeSet<InfoCategory> {
        let mut found = BTreeSet::from([Basic, PregnancyMedical]);
        if self.child.is_some() {
            found.insert(ChildDevelopment);
        }
        if self.epds.is_some() {
            found.insert(MentalHealth);
        }
        let key_person = self.key_person.as_deref().unwrap_or_default();
        if !self.household.trim().is_empty() || !key_person.trim().is_empty() {
            found.insert(Family);
        }
        found.extend(
            self.reasons
                .iter()
                .flat_map(|r| r.categories().iter().copied()),
        );
        found.extend(self.extra_categories.iter().copied());
        found
    }
}

impl ReferralReason {
    /// The categories ticking this reason discloses.
    ///
    /// `Other` declares none of its own: its text cannot be read by code, so
    /// the author lists what it touches in `Referral::extra_categories`.
    pub fn categories(&self) -> &'static [InfoCategory] {
        use ReferralReason::*;
        match self {
            // Her age is in Basic already; as a reason it speaks to her
            // capacity to care and who is around her.
            Young => &[Family],
            Older | Unbooked | LateNotification | UnplannedPregnancy | MultipleBirth => {
                &[PregnancyMedical]
            }
            MentalIllness | SubstanceDependence | HighEpds | ParentingAnxiety
            | AttachmentProblem => &[MentalHealth],
            // One box covers intellectual (mental health) and physical
            // (medical) disability; it cannot say which, so it declares both.
            Disability => &[PregnancyMedical, MentalHealth],
            LowLifeSkills | NoSupporter | SingleParent | DomesticViolence => &[Family],
            Poverty | UnstableHousing => &[Economic],
            // Nationality and language are Basic fields.
            ForeignLanguage => &[Basic],
            ChildIllnessOrLowBirthWeight => &[ChildDevelopment, PregnancyMedical],
            SiblingAbuseHistory => &[Protection, Family],
            Other(_) => &[],
        }
    }
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::super::demo_referral;
    use super::*;

    fn demo() -> Referral {
        demo_referral(date!(2026 - 11 - 23))
    }

    #[test]
    fn the_demo_case_discloses_basic_pregnancy_mental_health_and_family() {
        let expected = BTreeSet::from([Basic, PregnancyMedical, MentalHealth, Family]);
        assert_eq!(demo().categories(), expected);
    }

    #[test]
    fn a_bare_referral_still_discloses_basic_and_pregnancy() {
        let mut r = demo();
        r.reasons = vec![ReferralReason::Other("前回死産".into())];
        r.epds = None;
        r.household.clear();
        r.key_person = Some(" ".into());
        assert_eq!(r.categories(), BTreeSet::from([Basic, PregnancyMedical]));
    }

    #[test]
    fn a_child_section_discloses_child_development() {
        let mut r = demo();
        r.child = Some(super::super::Child {
            birth_date: date!(2026 - 11 - 01),
            birth_weight_g: 3000,
            gestational_weeks_at_birth: 39,
            nicu: false,
        });
        assert!(r.categories().contains(&ChildDevelopment));
    }

    #[test]
    fn poverty_housing_and_sibling_abuse_disclose_economic_and_protection() {
        let mut r = demo();
        r.reasons = vec![ReferralReason::Poverty, ReferralReason::SiblingAbuseHistory];
        let found = r.categories();
        assert!(found.contains(&Economic) && found.contains(&Protection));
    }

    #[test]
    fn categories_declared_for_free_text_are_added() {
        let mut r = demo();
        r.extra_categories = vec![Economic];
        assert!(r.categories().contains(&Economic));
    }

    #[test]
    fn no_listed_reason_declares_childcare_or_nothing() {
        for reason in ReferralReason::LISTED {
            let categories = reason.categories();
            assert!(!categories.is_empty(), "{reason:?}");
            assert!(!categories.contains(&Childcare), "{reason:?}");
        }
    }
}
