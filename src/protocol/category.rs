//! Information categories (情報区分): what kind of personal information an
//! envelope carries. The hub checks the legal basis against them.

use serde::{Deserialize, Serialize};

use crate::i18n::Lang;

/// A category of personal information.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InfoCategory {
    /// 基本情報: identity and contact.
    Basic,
    /// 妊娠・医療: pregnancy and medical information.
    PregnancyMedical,
    /// 精神保健 (要配慮個人情報): mental health, EPDS.
    MentalHealth,
    /// 家族・養育環境: household, DV, supporters.
    Family,
    /// 経済状況: economic situation.
    Economic,
    /// 子の発育・発達: the child's growth and development.
    ChildDevelopment,
    /// 保育・通園: nursery and attendance.
    Childcare,
    /// 要保護・虐待: protection and abuse.
    Protection,
}

impl InfoCategory {
    /// Every category, in display order.
    pub const ALL: [InfoCategory; 8] = [
        InfoCategory::Basic,
        InfoCategory::PregnancyMedical,
        InfoCategory::MentalHealth,
        InfoCategory::Family,
        InfoCategory::Economic,
        InfoCategory::ChildDevelopment,
        InfoCategory::Childcare,
        InfoCategory::Protection,
    ];

    /// The name staff see.
    pub fn label(self, lang: Lang) -> &'static str {
        use InfoCategory::*;
        match (self, lang) {
            (Basic, Lang::Ja) => "基本情報",
            (Basic, Lang::En) => "basic information",
            (PregnancyMedical, Lang::Ja) => "妊娠・医療",
            (PregnancyMedical, Lang::En) => "pregnancy and medical",
            (MentalHealth, Lang::Ja) => "精神保健",
            (MentalHealth, Lang::En) => "mental health",
            (Family, Lang::Ja) => "家族・養育環境",
            (Family, Lang::En) => "family and care environment",
            (Economic, Lang::Ja) => "経済状況",
            (Economic, Lang::En) => "economic situation",
            (ChildDevelopment, Lang::Ja) => "子の発育・発達",
            (ChildDevelopment, Lang::En) => "child growth and development",
            (Childcare, Lang::Ja) => "保育・通園",
            (Childcare, Lang::En) => "childcare and attendance",
            (Protection, Lang::Ja) => "要保護・虐待",
            (Protection, Lang::En) => "protection and abuse",
        }
    }
}
