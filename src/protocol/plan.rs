//! Support plans (支援プラン / サポートプラン): versioned, each version shared
//! whole to some agencies and as that agency's part to others. The hub sees
//! the version chain, the lead, who has a role and the review date; the
//! plan itself travels encrypted.

use serde::{Deserialize, Serialize};

use super::day::Day;
use super::ids::{MeetingId, PlanId};
use super::{AgencyId, InfoCategory};

/// What the hub keeps of a plan version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanVersion {
    /// The plan.
    pub plan_id: PlanId,
    /// 1, 2, …
    pub version: u32,
    /// The version this one revises (none for version 1). The hub refuses a
    /// revision of anything but the latest version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub based_on: Option<u32>,
    /// The day the plan is made (作成日).
    pub made_on: Day,
    /// 見直し日: the hub reminds before it and flags it when overdue.
    pub review_on: Day,
    /// 主担当機関
    pub lead: AgencyId,
    /// Every agency with an action in this version.
    pub roles: Vec<AgencyId>,
}

/// One action (what, who, how often, when).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanAction {
    /// What is done, e.g. 「家庭訪問」.
    pub what: String,
    /// The agency responsible.
    pub agency: AgencyId,
    /// How often, e.g. 「週1回」.
    #[serde(default)]
    pub frequency: String,
    /// From when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Day>,
    /// Until when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<Day>,
}

/// A whole plan version, as written (encrypted).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupportPlan {
    /// 本人の意向: her wishes, in her own words.
    #[serde(default)]
    pub wishes: String,
    /// 目標
    #[serde(default)]
    pub goals: Vec<String>,
    /// 支援内容
    #[serde(default)]
    pub actions: Vec<PlanAction>,
    /// 主担当機関
    pub lead: AgencyId,
    /// The lead's contact.
    #[serde(default)]
    pub lead_contact: String,
    /// キーパーソン
    #[serde(default)]
    pub key_person: String,
    /// Whether she took part in writing it (本人参画).
    #[serde(default)]
    pub person_took_part: bool,
    /// Whether she was given a copy (交付).
    #[serde(default)]
    pub copy_given: bool,
    /// 作成日
    pub made_on: Day,
    /// 見直し日
    pub review_on: Day,
    /// The meeting whose decisions it records, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_meeting: Option<MeetingId>,
    /// The categories of personal information in it, declared by its
    /// author (no code can read free text); the hub checks them against
    /// the basis.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<InfoCategory>,
}

/// What an agency with a role, but no basis for the whole, receives: its
/// own actions, the lead and contact, the review date.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanPart {
    /// The recipient's own actions.
    pub actions: Vec<PlanAction>,
    /// 主担当機関
    pub lead: AgencyId,
    /// The lead's contact.
    #[serde(default)]
    pub lead_contact: String,
    /// 見直し日
    pub review_on: Day,
    /// The categories of personal information in it, declared by its
    /// author (no code can read free text); the hub checks them against
    /// the basis.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<InfoCategory>,
}

impl SupportPlan {
    /// The agencies with an action, in first-appearance order.
    pub fn roles(&self) -> Vec<AgencyId> {
        let mut roles: Vec<AgencyId> = Vec::new();
        for a in &self.actions {
            if !roles.contains(&a.agency) {
                roles.push(a.agency.clone());
            }
        }
        roles
    }

    /// `agency`'s part of the plan, disclosing only `categories`.
    pub fn part_for(&self, agency: &AgencyId, categories: Vec<InfoCategory>) -> PlanPart {
        PlanPart {
            actions: self
                .actions
                .iter()
                .filter(|a| &a.agency == agency)
                .cloned()
                .collect(),
            lead: self.lead.clone(),
            lead_contact: self.lead_contact.clone(),
            review_on: self.review_on,
            categories,
        }
    }
}
