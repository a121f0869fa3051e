//! What changed between two versions of a plan, as data: the CLI prints it,
//! scripts read it as JSON.

use serde::Serialize;

use crate::protocol::day::Day;
use crate::protocol::plan::{PlanAction, SupportPlan};
use crate::protocol::{AgencyId, InfoCategory, MeetingId};

/// A field's value before and after.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Change<T> {
    pub before: T,
    pub after: T,
}

/// An action kept (same agency, same 支援内容) whose frequency or period
/// changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ActionChange {
    pub before: PlanAction,
    pub after: PlanAction,
}

/// Every difference between two versions; `None` and empty lists where a
/// field did not change.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PlanDiff {
    /// 本人の意向
    pub wishes: Option<Change<String>>,
    /// 目標 added.
    pub goals_added: Vec<String>,
    /// 目標 removed.
    pub goals_removed: Vec<String>,
    /// 支援内容 added.
    pub actions_added: Vec<PlanAction>,
    /// 支援内容 removed.
    pub actions_removed: Vec<PlanAction>,
    /// 支援内容 kept with a new frequency or period.
    pub actions_changed: Vec<ActionChange>,
    /// 主担当機関
    pub lead: Option<Change<AgencyId>>,
    /// The lead's contact.
    pub lead_contact: Option<Change<String>>,
    /// キーパーソン
    pub key_person: Option<Change<String>>,
    /// 本人参画
    pub person_took_part: Option<Change<bool>>,
    /// 交付
    pub copy_given: Option<Change<bool>>,
    /// 作成日
    pub made_on: Option<Change<Day>>,
    /// 見直し日
    pub review_on: Option<Change<Day>>,
    /// The meeting whose decisions it records.
    pub from_meeting: Option<Change<Option<MeetingId>>>,
    /// Declared categories.
    pub categories: Option<Change<Vec<InfoCategory>>>,
}

impl PlanDiff {
    /// Whether the two versions say the same.
    pub fn is_empty(&self) -> bool {
        self == &PlanDiff::default()
    }
}

fn change<T: PartialEq + Clone>(before: &T, after: &T) -> Option<Change<T>> {
    (before != after).then(|| Change {
        before: before.clone(),
        after: after.clone(),
    })
}

/// What changed from `a` to `b`. Actions are matched by agency and 支援内容
/// (in order, so a repeated one pairs with its counterpart): a match with a
/// different frequency or period is a change, the rest are added or removed.
pub fn diff(a: &SupportPlan, b: &SupportPlan) -> PlanDiff {
    let mut unmatched: Vec<&PlanAction> = a.actions.iter().collect();
    let mut actions_added = Vec::new();
    let mut actions_changed = Vec::new();
    for after in &b.actions {
        let same = unmatched
            .iter()
            .position(|x| x.agency == after.agency && x.what == after.what);
        match same {
            Some(i) => {
                let before = unmatched.remove(i);
                if before != after {
                    actions_changed.push(ActionChange {
                        before: before.clone(),
                        after: after.clone(),
                    });
                }
            }
            None => actions_added.push(after.clone()),
        }
    }
    PlanDiff {
        wishes: change(&a.wishes, &b.wishes),
        goals_added: missing_from(&b.goals, &a.goals),
        goals_removed: missing_from(&a.goals, &b.goals),
        actions_added,
        actions_removed: unmatched.into_iter().cloned().collect(),
        actions_changed,
        lead: change(&a.lead, &b.lead),
        lead_contact: change(&a.lead_contact, &b.lead_contact),
        key_person: change(&a.key_person, &b.key_person),
        person_took_part: change(&a.person_took_part, &b.person_took_part),
        copy_given: change(&a.copy_given, &b.copy_given),
        made_on: change(&a.made_on, &b.made_on),
        review_on: change(&a.review_on, &b.review_on),
        from_meeting: change(&a.from_meeting, &b.from_meeting),
        categories: change(&a.categories, &b.categories),
    }
}

/// The items of `these` not in `those`.
fn missing_from(these: &[String], those: &[String]) -> Vec<String> {
    these
        .iter()
        .filter(|g| !those.contains(g))
        .cloned()
        .collect()
}
