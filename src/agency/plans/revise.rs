//! A new version from the last one, in one step: staff give only what
//! changes (flags, a TOML file of changes, or a meeting's decisions).

use serde::Deserialize;

use crate::protocol::day::Day;
use crate::protocol::meeting::Minutes;
use crate::protocol::plan::{PlanAction, SupportPlan};
use crate::protocol::{AgencyId, InfoCategory, MeetingId};

/// What a revision changes; everything left out stays as it was, except
/// the date made (the day of the revision unless given) and the meeting
/// recorded (this version's own, if any).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanChanges {
    /// 本人の意向, rewritten.
    pub wishes: Option<String>,
    /// 目標, all of them.
    pub goals: Option<Vec<String>>,
    /// 目標 to add.
    #[serde(default)]
    pub add_goals: Vec<String>,
    /// 目標 to drop (as written).
    #[serde(default)]
    pub drop_goals: Vec<String>,
    /// 支援内容, all of them.
    pub actions: Option<Vec<PlanAction>>,
    /// 支援内容 to add.
    #[serde(default)]
    pub add_actions: Vec<PlanAction>,
    /// 主担当機関
    pub lead: Option<AgencyId>,
    /// The lead's contact.
    pub lead_contact: Option<String>,
    /// キーパーソン
    pub key_person: Option<String>,
    /// 本人参画
    pub person_took_part: Option<bool>,
    /// 交付
    pub copy_given: Option<bool>,
    /// 作成日 (default: the day of the revision).
    pub made_on: Option<Day>,
    /// 見直し日
    pub review_on: Option<Day>,
    /// The meeting whose decisions this version records.
    pub from_meeting: Option<MeetingId>,
    /// Declared categories, all of them.
    pub categories: Option<Vec<InfoCategory>>,
}

impl PlanChanges {
    /// The next version: `base` with these changes, made on `today` unless
    /// a date is given.
    pub fn apply(&self, base: &SupportPlan, today: Day) -> SupportPlan {
        let mut plan = base.clone();
        let set = |field: &mut String, value: &Option<String>| {
            if let Some(v) = value {
                field.clone_from(v);
            }
        };
        set(&mut plan.wishes, &self.wishes);
        set(&mut plan.lead_contact, &self.lead_contact);
        set(&mut plan.key_person, &self.key_person);
        if let Some(goals) = &self.goals {
            plan.goals.clone_from(goals);
        }
        plan.goals.retain(|g| !self.drop_goals.contains(g));
        for g in &self.add_goals {
            if !plan.goals.contains(g) {
                plan.goals.push(g.clone());
            }
        }
        if let Some(actions) = &self.actions {
            plan.actions.clone_from(actions);
        }
        plan.actions.extend(self.add_actions.iter().cloned());
        if let Some(lead) = &self.lead {
            plan.lead = lead.clone();
        }
        plan.person_took_part = self.person_took_part.unwrap_or(plan.person_took_part);
        plan.copy_given = self.copy_given.unwrap_or(plan.copy_given);
        plan.made_on = self.made_on.unwrap_or(today);
        plan.review_on = self.review_on.unwrap_or(plan.review_on);
        plan.from_meeting = self.from_meeting;
        if let Some(categories) = &self.categories {
            plan.categories.clone_from(categories);
        }
        plan
    }

    /// These changes with `top`'s on top: a field `top` gives wins, lists
    /// of additions and removals add up.
    pub fn and(self, top: PlanChanges) -> PlanChanges {
        let join = |mut a: Vec<String>, b: Vec<String>| {
            a.extend(b);
            a
        };
        let mut add_actions = self.add_actions;
        add_actions.extend(top.add_actions);
        PlanChanges {
            wishes: top.wishes.or(self.wishes),
            goals: top.goals.or(self.goals),
            add_goals: join(self.add_goals, top.add_goals),
            drop_goals: join(self.drop_goals, top.drop_goals),
            actions: top.actions.or(self.actions),
            add_actions,
            lead: top.lead.or(self.lead),
            lead_contact: top.lead_contact.or(self.lead_contact),
            key_person: top.key_person.or(self.key_person),
            person_took_part: top.person_took_part.or(self.person_took_part),
            copy_given: top.copy_given.or(self.copy_given),
            made_on: top.made_on.or(self.made_on),
            review_on: top.review_on.or(self.review_on),
            from_meeting: top.from_meeting.or(self.from_meeting),
            categories: top.categories.or(self.categories),
        }
    }

    /// The changes a meeting decided (会議録): its lead and contact, key
    /// person and next review date, and its 役割分担 as the plan's actions
    /// (an action the plan already had for the same agency and task keeps
    /// its frequency and period). The rest of the minutes — the discussion,
    /// the assessment — stays in the minutes.
    pub fn from_minutes(minutes: &Minutes, meeting: MeetingId, base: &SupportPlan) -> Self {
        let actions = minutes
            .roles
            .iter()
            .map(|r| {
                base.actions
                    .iter()
                    .find(|a| a.agency == r.agency && a.what == r.task)
                    .cloned()
                    .unwrap_or_else(|| PlanAction {
                        what: r.task.clone(),
                        agency: r.agency.clone(),
                        frequency: String::new(),
                        from: None,
                        until: None,
                    })
            })
            .collect::<Vec<_>>();
        let text = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        PlanChanges {
            actions: (!actions.is_empty()).then_some(actions),
            lead: minutes.lead.clone(),
            lead_contact: text(&minutes.lead_contact),
            key_person: text(&minutes.key_person),
            review_on: minutes.next_review,
            from_meeting: Some(meeting),
            ..PlanChanges::default()
        }
    }
}
