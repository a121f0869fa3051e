//! Support plans: a version chain with no forks (each revision is based on
//! the latest), actions only for agencies in the directory, a review date
//! after the plan's date, the whole plan or one agency's part each under
//! its basis, and the review reminders each version sets.

use super::{Rules, known_case, not_permitted, shared_under, statutory_use};
use crate::hub::HubError;
use crate::protocol::plan::PlanVersion;
use crate::protocol::{
    Action, AgencyId, AgencyKind, CaseId, ErrorCode, MessageKind, Metadata, Notice, PlanId, Purpose,
};
use crate::store::model::{AuditEvent, Effects, Facts, Reminder};

pub(super) fn decide(
    rules: &Rules,
    meta: &Metadata,
    facts: &Facts,
    action: &Action,
) -> Result<Effects, HubError> {
    match (meta.kind, action) {
        (MessageKind::SupportPlan, Action::RecordPlan { version }) => {
            record(rules, meta, facts, version)
        }
        (MessageKind::PlanPart, Action::SharePlanPart { plan_id, version }) => {
            part(rules, meta, facts, *plan_id, *version)
        }
        _ => Err(super::misfit(meta)),
    }
}

fn record(
    rules: &Rules,
    meta: &Metadata,
    facts: &Facts,
    v: &PlanVersion,
) -> Result<Effects, HubError> {
    let case = known_case(meta, facts)?;
    if !facts.sender_involved {
        return Err(not_permitted(
            &format!(
                "この機関はケース {} に関わっていないため、支援プランを作成できません。",
                case.case_id
            ),
            &format!(
                "this agency is not involved in case {}, so it cannot write its plan",
                case.case_id
            ),
        ));
    }
    let latest = facts.plan.as_ref();
    if let Some(p) = latest
        && p.case_id != case.case_id
    {
        return Err(HubError::new(
            ErrorCode::InvalidAction,
            format!("この支援プランのケースは {} です。", p.case_id),
            format!("this plan belongs to case {}", p.case_id),
        ));
    }
    let latest_version = latest.map(|p| p.version.version);
    let fits = match latest_version {
        None => v.version == 1 && v.based_on.is_none(),
        Some(l) => v.based_on == Some(l) && v.version == l + 1,
    };
    if !fits {
        let based = v
            .based_on
            .map_or_else(|| "なし".to_owned(), |b| format!("版 {b}"));
        let (ja, en) = match latest_version {
            Some(l) => (
                format!(
                    "この改訂（版 {}）は{based}を元にしていますが、最新は版 {l} です。版 {l} を確認してから改訂し直してください。",
                    v.version
                ),
                format!(
                    "this revision (version {}) is based on {}, but the latest is version {l}: revise version {l} instead",
                    v.version,
                    v.based_on
                        .map_or_else(|| "nothing".to_owned(), |b| format!("version {b}"))
                ),
            ),
            None => (
                format!(
                    "この支援プランはまだありません。最初の版は版 1（元の版なし）です（指定: 版 {}、元: {based}）。",
                    v.version
                ),
                format!(
                    "this plan has no version yet: the first is version 1, based on nothing (got version {})",
                    v.version
                ),
            ),
        };
        return Err(HubError::new(ErrorCode::StalePlanVersion, ja, en));
    }
    if let Some(a) = v
        .roles
        .iter()
        .chain([&v.lead])
        .find(|a| rules.directory.get(a).is_none())
    {
        return Err(HubError::new(
            ErrorCode::UnknownRecipient,
            format!(
                "支援内容の担当機関 {a} はディレクトリにありません。機関IDを確認してください。"
            ),
            format!("the agency {a} given an action is not in the directory: check its id"),
        ));
    }
    if v.review_on <= v.made_on {
        return Err(HubError::new(
            ErrorCode::InvalidAction,
            format!(
                "見直し日 {} が作成日 {} より前（または同日）です。",
                v.review_on, v.made_on
            ),
            format!(
                "the review date {} is not after the plan's date {}",
                v.review_on, v.made_on
            ),
        ));
    }
    plan_purpose(meta)?;
    let basis = shared_under(rules, meta, facts)?;
    let mut audit = statutory_use(meta, basis);
    audit.push(AuditEvent::new(
        "plan_recorded",
        Some(&meta.sender),
        Some(v.plan_id.to_string()),
        serde_json::json!({
            "case_id": case.case_id,
            "version": v.version,
            "lead": v.lead,
            "roles": v.roles,
            "review_on": v.review_on,
            "recipients": meta.recipients,
        }),
    ));
    let registered = case.registration.is_some() && case.closed_at.is_none();
    Ok(Effects {
        record_plan: Some(v.clone()),
        reminders: Some(reminders(rules, &case.case_id, v, registered)),
        audit,
        ..Effects::default()
    })
}

fn part(
    rules: &Rules,
    meta: &Metadata,
    facts: &Facts,
    plan_id: PlanId,
    version: u32,
) -> Result<Effects, HubError> {
    let Some(plan) = facts.plan.as_ref().filter(|p| p.version.version == version) else {
        return Err(HubError::new(
            ErrorCode::UnknownPlan,
            format!("支援プランの版 {version} はハブに記録されていないか、最新ではありません。"),
            format!("plan version {version} is not recorded, or is not the latest"),
        ));
    };
    if plan.author != meta.sender || meta.case_id.as_ref() != Some(&plan.case_id) {
        return Err(not_permitted(
            "担当部分を送れるのは、その版を記録した機関だけです（同じケースで）。",
            "only the agency that recorded the version shares its parts (about the same case)",
        ));
    }
    let [to] = meta.recipients.as_slice() else {
        return Err(HubError::new(
            ErrorCode::InvalidRecipients,
            "担当部分は機関ごとに1通ずつ送ります。",
            "a plan part goes to one agency at a time",
        ));
    };
    if to != &plan.version.lead && !plan.version.roles.contains(to) {
        let name = rules
            .directory
            .get(to)
            .map_or_else(|| to.to_string(), |a| a.name.clone());
        return Err(HubError::new(
            ErrorCode::RecipientNotCovered,
            format!("宛先「{name}」（{to}）はこの版に担当がありません。"),
            format!("recipient {name} ({to}) has no action in this version"),
        ));
    }
    plan_purpose(meta)?;
    let basis = shared_under(rules, meta, facts)?;
    let mut audit = statutory_use(meta, basis);
    audit.push(AuditEvent::new(
        "plan_part_shared",
        Some(&meta.sender),
        Some(plan_id.to_string()),
        serde_json::json!({ "version": version, "recipient": to, "categories": meta.categories }),
    ));
    Ok(Effects {
        audit,
        ..Effects::default()
    })
}

fn plan_purpose(meta: &Metadata) -> Result<(), HubError> {
    if meta.purpose != Some(Purpose::SupportPlan) {
        return Err(HubError::new(
            ErrorCode::PurposeNotCovered,
            "支援プランの目的は「支援プラン」です。",
            "the purpose of a support plan is support_plan",
        ));
    }
    Ok(())
}

/// Before the review date: the lead and every agency with a role, at each
/// configured number of days before (those still to come). The day after:
/// overdue, to the lead, the center and, for a registered case, the
/// 調整機関. A new version replaces them all.
fn reminders(
    rules: &Rules,
    case_id: &CaseId,
    v: &PlanVersion,
    registered: bool,
) -> (String, Vec<Reminder>) {
    let mut with_role: Vec<AgencyId> = v.roles.clone();
    with_role.push(v.lead.clone());
    with_role.sort();
    with_role.dedup();
    let due = Notice::PlanReviewDue {
        plan_id: v.plan_id,
        version: v.version,
        case_id: case_id.clone(),
        review_on: v.review_on,
    };
    let mut reminders: Vec<Reminder> = rules
        .deadlines
        .review_reminders()
        .map(|d| v.review_on.plus_days(-d).start())
        .filter(|t| t.datetime() > rules.now)
        .map(|due_at| Reminder {
            due_at,
            recipients: with_role.clone(),
            notice: due.clone(),
        })
        .collect();
    let mut overseers = vec![v.lead.clone()];
    overseers.extend(
        rules
            .directory
            .of_kind(AgencyKind::Center)
            .map(|a| a.id.clone()),
    );
    if registered {
        overseers.extend(
            rules
                .directory
                .of_kind(AgencyKind::Yotaikyo)
                .map(|a| a.id.clone()),
        );
    }
    overseers.sort();
    overseers.dedup();
    reminders.push(Reminder {
        due_at: v.review_on.plus_days(1).start(),
        recipients: overseers,
        notice: Notice::PlanReviewOverdue {
            plan_id: v.plan_id,
            version: v.version,
            case_id: case_id.clone(),
            review_on: v.review_on,
        },
    });
    (format!("plan:{}", v.plan_id), reminders)
}
