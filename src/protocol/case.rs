//! Cases (ケース) and their registration with the 要対協.

use serde::{Deserialize, Serialize};

use super::AgencyId;
use crate::i18n::Lang;

/// How the 要対協 classifies a registered case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseClassification {
    /// 要保護児童
    ProtectionNeeded,
    /// 要支援児童
    SupportNeeded,
    /// 特定妊婦
    SpecifiedExpectantMother,
}

impl CaseClassification {
    /// The stable wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            CaseClassification::ProtectionNeeded => "protection_needed",
            CaseClassification::SupportNeeded => "support_needed",
            CaseClassification::SpecifiedExpectantMother => "specified_expectant_mother",
        }
    }

    /// The kind with this wire name.
    pub fn parse(name: &str) -> Option<Self> {
        use CaseClassification::*;
        [ProtectionNeeded, SupportNeeded, SpecifiedExpectantMother]
            .into_iter()
            .find(|c| c.as_str() == name)
    }

    /// The name staff see.
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            CaseClassification::ProtectionNeeded => {
                lang.pick("要保護児童", "child needing protection")
            }
            CaseClassification::SupportNeeded => lang.pick("要支援児童", "child needing support"),
            CaseClassification::SpecifiedExpectantMother => {
                lang.pick("特定妊婦", "specified expectant mother")
            }
        }
    }
}

/// A 要対協 registration as the hub keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Registration {
    /// 要保護 / 要支援 / 特定妊婦.
    pub classification: CaseClassification,
    /// 主担当機関.
    pub lead: AgencyId,
    /// The member agencies involved.
    pub members: Vec<AgencyId>,
}
