//! Legal bases (根拠) and purposes (目的): why an agency may share information
//! about a person, and what for. The hub refuses any envelope whose basis
//! does not cover every recipient, category and the purpose.

use serde::{Deserialize, Serialize};

use super::ids::ConsentId;
use crate::i18n::Lang;

/// What the information is shared for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// 紹介・情報提供
    Referral,
    /// 個別ケース検討会議・実務者会議
    CaseMeeting,
    /// 支援プラン
    SupportPlan,
    /// 経過・情報共有: keeping the agencies concerned informed about a case
    /// (case notes).
    InformationSharing,
}

impl Purpose {
    /// Every purpose.
    pub const ALL: [Purpose; 4] = [
        Purpose::Referral,
        Purpose::CaseMeeting,
        Purpose::SupportPlan,
        Purpose::InformationSharing,
    ];

    /// The stable wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Referral => "referral",
            Purpose::CaseMeeting => "case_meeting",
            Purpose::SupportPlan => "support_plan",
            Purpose::InformationSharing => "information_sharing",
        }
    }

    /// The name staff see.
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            Purpose::Referral => lang.pick("紹介・情報提供", "referral"),
            Purpose::CaseMeeting => lang.pick("ケース会議", "case meeting"),
            Purpose::SupportPlan => lang.pick("支援プラン", "support plan"),
            Purpose::InformationSharing => lang.pick("経過・情報共有", "information sharing"),
        }
    }
}

/// The legal basis an envelope relies on.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "basis", rename_all = "snake_case", deny_unknown_fields)]
pub enum LegalBasis {
    /// 本人同意: a consent recorded at the hub covers recipients, categories,
    /// purpose and time.
    Consent {
        /// The consent relied on.
        consent_id: ConsentId,
    },
    /// 児童福祉法 第25条の3: sharing among 要対協 members about a case the
    /// 調整機関 has registered.
    YotaikyoSharing,
    /// 児童福祉法 第21条の10の5: medical, welfare and school bodies informing
    /// the municipality (center, child welfare) about 要支援児童等・特定妊婦.
    ProvisionToMunicipality,
    /// 児童虐待防止法 第6条: notification of suspected abuse to child welfare
    /// or the municipality. The notifier is protected (第7条).
    AbuseNotification,
    /// 個人情報保護法 第27条第1項第2号: protecting life or body when consent is
    /// hard to obtain. Urgent only; flagged for review by the center.
    VitalInterest,
}

/// The statutory bases, in the order forms offer them.
pub const STATUTORY: [LegalBasis; 4] = [
    LegalBasis::ProvisionToMunicipality,
    LegalBasis::AbuseNotification,
    LegalBasis::YotaikyoSharing,
    LegalBasis::VitalInterest,
];

impl LegalBasis {
    /// The stable wire name.
    pub fn as_str(&self) -> &'static str {
        match self {
            LegalBasis::Consent { .. } => "consent",
            LegalBasis::YotaikyoSharing => "yotaikyo_sharing",
            LegalBasis::ProvisionToMunicipality => "provision_to_municipality",
            LegalBasis::AbuseNotification => "abuse_notification",
            LegalBasis::VitalInterest => "vital_interest",
        }
    }

    /// The statutory basis whose wire name is `name` (a form's value, a
    /// name the hub reports); `None` for `consent` or an unknown name.
    pub fn statutory(name: &str) -> Option<LegalBasis> {
        STATUTORY.iter().find(|b| b.as_str() == name).cloned()
    }

    /// The basis stored as its wire name beside the consent it names (the
    /// hub's tables keep them in two columns); `None` if they do not fit.
    pub fn from_parts(name: &str, consent_id: Option<ConsentId>) -> Option<LegalBasis> {
        match (name, consent_id) {
            ("consent", Some(consent_id)) => Some(LegalBasis::Consent { consent_id }),
            (_, None) => LegalBasis::statutory(name),
            _ => None,
        }
    }

    /// The consent a basis relies on, if it is consent.
    pub fn consent_id(&self) -> Option<ConsentId> {
        match self {
            LegalBasis::Consent { consent_id } => Some(*consent_id),
            _ => None,
        }
    }

    /// The name staff see for a basis the hub reports by wire name
    /// (`consent` or a statutory one); `None` for a name it does not know.
    pub fn label_of(name: &str, lang: Lang) -> Option<&'static str> {
        match LegalBasis::statutory(name) {
            Some(b) => Some(b.label(lang)),
            None if name == "consent" => Some(lang.pick("本人同意", "consent")),
            None => None,
        }
    }

    /// A statutory exception (not consent): needs a written justification
    /// and is listed for oversight.
    pub fn is_statutory(&self) -> bool {
        !matches!(self, LegalBasis::Consent { .. })
    }

    /// The name staff see, with the article of law.
    pub fn label(&self, lang: Lang) -> &'static str {
        match self {
            LegalBasis::Consent { .. } => lang.pick("本人同意", "consent"),
            LegalBasis::YotaikyoSharing => lang.pick(
                "要対協での情報共有（児童福祉法第25条の3）",
                "child-protection council sharing (Child Welfare Act art. 25-3)",
            ),
            LegalBasis::ProvisionToMunicipality => lang.pick(
                "市町村への情報提供（児童福祉法第21条の10の5）",
                "provision to the municipality (Child Welfare Act art. 21-10-5)",
            ),
            LegalBasis::AbuseNotification => lang.pick(
                "虐待通告（児童虐待防止法第6条）",
                "abuse notification (Child Abuse Prevention Act art. 6)",
            ),
            LegalBasis::VitalInterest => lang.pick(
                "生命・身体の保護（個人情報保護法第27条第1項第2号）",
                "protection of life or body (APPI art. 27(1)(ii))",
            ),
        }
    }
}
