//! The hub's rules for every envelope: which facts it needs, and — given
//! those facts, inside the accepting transaction — whether the legal basis
//! covers every recipient, category and the purpose, whether a state change
//! is allowed, and what accepting it changes.

use std::sync::Arc;

use time::OffsetDateTime;

mod basis;
mod meeting;
mod plan;

use basis::{check_basis, kind_of};

use super::HubError;
use super::config::Deadlines;
use crate::directory::Directory;
use crate::protocol::consent::{ConsentDecision, ConsentScope};
use crate::protocol::notice::ConsentEnd;
use crate::protocol::referral_state::Party;
use crate::protocol::{
    Action, AgencyId, AgencyKind, ErrorCode, LegalBasis, MessageKind, Metadata, Timestamp,
};
use crate::store::model::{
    AuditEvent, CaseChange, CaseRecord, Effects, Facts, FactsQuery, Policy, ReferralRecord,
};

/// Which facts an envelope's decision needs.
pub(crate) fn facts_query(meta: &Metadata) -> FactsQuery {
    let consent_id = match (&meta.basis, &meta.action) {
        (_, Some(Action::WithdrawConsent { consent_id })) => Some(*consent_id),
        (_, Some(Action::RecordConsent { scope })) => Some(scope.consent_id),
        (Some(LegalBasis::Consent { consent_id }), _) => Some(*consent_id),
        _ => None,
    };
    let referral = match &meta.action {
        Some(Action::UpdateReferral { referral, .. }) => Some(*referral),
        _ => None,
    };
    let meeting = match &meta.action {
        Some(Action::ScheduleMeeting { meeting }) => Some(meeting.meeting_id),
        Some(
            Action::RescheduleMeeting { meeting_id, .. }
            | Action::CancelMeeting { meeting_id }
            | Action::AnswerMeeting { meeting_id, .. }
            | Action::ShareMinutes { meeting_id },
        ) => Some(*meeting_id),
        _ => None,
    };
    let plan = match &meta.action {
        Some(Action::RecordPlan { version }) => Some(version.plan_id),
        Some(Action::SharePlanPart { plan_id, .. }) => Some(*plan_id),
        _ => None,
    };
    let more_cases = match &meta.action {
        Some(Action::ScheduleMeeting { meeting }) => meeting.more_cases.clone(),
        _ => Vec::new(),
    };
    // Only who starts something about a case must already be part of it.
    let starts = matches!(
        meta.action,
        Some(Action::ScheduleMeeting { .. } | Action::RecordPlan { .. })
    );
    FactsQuery {
        case_id: meta.case_id.clone(),
        consent_id,
        referral,
        concerned: matches!(meta.action, Some(Action::WithdrawConsent { .. })),
        meeting,
        plan,
        more_cases,
        involvement_of: starts.then(|| meta.sender.clone()),
    }
}

/// The policy for one envelope, to run inside the store's transaction.
pub(crate) fn policy(
    meta: Metadata,
    directory: Arc<Directory>,
    deadlines: Arc<Deadlines>,
    now: OffsetDateTime,
) -> Policy {
    Arc::new(move |facts| {
        decide(
            &Rules {
                directory: &directory,
                deadlines: &deadlines,
                now,
            },
            &meta,
            facts,
        )
        .map_err(|e| e.body())
    })
}

struct Rules<'a> {
    directory: &'a Directory,
    deadlines: &'a Deadlines,
    now: OffsetDateTime,
}

fn decide(rules: &Rules, meta: &Metadata, facts: &Facts) -> Result<Effects, HubError> {
    match (meta.kind, &meta.action) {
        (MessageKind::Referral, None) => referral(rules, meta, facts),
        (MessageKind::CaseNote, None) => case_note(rules, meta, facts),
        (MessageKind::ReferralUpdate, Some(Action::UpdateReferral { state, .. })) => {
            referral_update(meta, facts, *state)
        }
        (MessageKind::ConsentRecord, Some(Action::RecordConsent { scope })) => {
            consent_record(meta, facts, scope)
        }
        (MessageKind::ConsentWithdrawal, Some(Action::WithdrawConsent { .. })) => {
            consent_withdrawal(rules, meta, facts)
        }
        (MessageKind::CaseUpdate, Some(action)) => case_update(rules, meta, facts, action),
        (
            MessageKind::MeetingInvitation
            | MessageKind::MeetingChange
            | MessageKind::MeetingAnswer
            | MessageKind::Minutes
            | MessageKind::MinutesExcerpt,
            Some(action),
        ) => meeting::decide(rules, meta, facts, action),
        (MessageKind::SupportPlan | MessageKind::PlanPart, Some(action)) => {
            plan::decide(rules, meta, facts, action)
        }
        _ => Err(misfit(meta)),
    }
}

/// An envelope whose kind and action do not go together.
fn misfit(meta: &Metadata) -> HubError {
    HubError::new(
        ErrorCode::InvalidAction,
        format!(
            "種別 {} とこの操作は組み合わせられません。",
            meta.kind.as_str()
        ),
        format!("kind {} does not fit this action", meta.kind.as_str()),
    )
}

fn not_permitted(ja: &str, en: &str) -> HubError {
    HubError::new(ErrorCode::NotPermitted, ja, en)
}

fn known_case<'f>(meta: &Metadata, facts: &'f Facts) -> Result<&'f CaseRecord, HubError> {
    match (&meta.case_id, &facts.case) {
        (Some(_), Some(case)) => Ok(case),
        (Some(id), None) => Err(HubError::new(
            ErrorCode::UnknownCase,
            format!("ケース {id} はハブに登録されていません。先にケースを開設してください。"),
            format!("case {id} was not issued by this hub; open the case first"),
        )),
        (None, _) => Err(HubError::new(
            ErrorCode::UnknownCase,
            "ケースIDがありません。",
            "no case id: every exchange about a person names its case",
        )),
    }
}

fn referral(rules: &Rules, meta: &Metadata, facts: &Facts) -> Result<Effects, HubError> {
    let basis = shared_under(rules, meta, facts)?;
    let deadline = rules.now + rules.deadlines.for_urgency(meta.urgency);
    Ok(Effects {
        open_referral: Some(Timestamp::from_datetime(deadline)),
        audit: statutory_use(meta, basis),
        ..Effects::default()
    })
}

/// A case note (経過記録・情報共有) is checked exactly like a referral —
/// case, basis, recipients, its own declared categories and purpose — but
/// opens no 受理 workflow: it informs, it asks nothing.
fn case_note(rules: &Rules, meta: &Metadata, facts: &Facts) -> Result<Effects, HubError> {
    let basis = shared_under(rules, meta, facts)?;
    Ok(Effects {
        audit: statutory_use(meta, basis),
        ..Effects::default()
    })
}

/// The checks every sharing of information about a person passes: a case
/// the hub issued, a legal basis and purpose, and the basis covering the
/// sender, every recipient, every category and the purpose.
fn shared_under<'m>(
    rules: &Rules,
    meta: &'m Metadata,
    facts: &Facts,
) -> Result<&'m LegalBasis, HubError> {
    known_case(meta, facts)?;
    let (Some(basis), Some(purpose)) = (&meta.basis, meta.purpose) else {
        return Err(HubError::new(
            ErrorCode::LegalBasisMissing,
            "法的根拠（同意または法令上の例外）と目的を指定してください。",
            "name a legal basis (consent or a statutory exception) and a purpose",
        ));
    };
    check_basis(rules, meta, facts, basis, purpose)?;
    Ok(basis)
}

/// A statutory exception is listed for oversight (vital interest flagged
/// for review).
fn statutory_use(meta: &Metadata, basis: &LegalBasis) -> Vec<AuditEvent> {
    if !basis.is_statutory() {
        return Vec::new();
    }
    let detail = serde_json::json!({
        "basis": basis.as_str(),
        "kind": meta.kind.as_str(),
        "recipients": meta.recipients,
        "categories": meta.categories,
        "review": matches!(basis, LegalBasis::VitalInterest),
    });
    vec![AuditEvent::new(
        "statutory_basis_used",
        Some(&meta.sender),
        Some(meta.id.to_string()),
        detail,
    )]
}

fn referral_update(
    meta: &Metadata,
    facts: &Facts,
    to: crate::protocol::ReferralState,
) -> Result<Effects, HubError> {
    let Some(referral) = &facts.referral else {
        return Err(unknown_referral());
    };
    if meta.case_id.is_some() && meta.case_id != referral.case_id {
        return Err(unknown_referral());
    }
    if let Some(c) = meta
        .categories
        .iter()
        .find(|c| !referral.categories.contains(c))
    {
        return Err(HubError::new(
            ErrorCode::CategoryNotCovered,
            format!(
                "情報区分「{}」は元の紹介に含まれていません。",
                c.label(crate::i18n::Lang::Ja)
            ),
            format!(
                "category {} goes beyond the original referral",
                c.label(crate::i18n::Lang::En)
            ),
        ));
    }
    let (party, changed) = if meta.sender == referral.sender {
        (Party::Sender, meta.recipients.clone())
    } else if referral.states.iter().any(|(r, _)| r == &meta.sender) {
        if meta.recipients != [referral.sender.clone()] {
            return Err(HubError::new(
                ErrorCode::InvalidRecipients,
                "対応状況の更新は紹介元にのみ送ります。",
                "a referral update goes to the referring agency only",
            ));
        }
        (Party::Recipient, vec![meta.sender.clone()])
    } else {
        return Err(unknown_referral());
    };
    let mut states = Vec::with_capacity(changed.len());
    for agency in changed {
        let from = state_of(referral, &agency).ok_or_else(unknown_referral)?;
        if !from.allows(to, party) {
            return Err(HubError::new(
                ErrorCode::InvalidTransition,
                format!(
                    "{agency} の状態を「{}」から「{}」には変更できません。",
                    from.label(crate::i18n::Lang::Ja),
                    to.label(crate::i18n::Lang::Ja)
                ),
                format!(
                    "{agency}: cannot move from {} to {}",
                    from.as_str(),
                    to.as_str()
                ),
            ));
        }
        states.push((agency, to));
    }
    let detail = serde_json::json!({ "to": to.as_str(), "agencies": states.iter().map(|(a, _)| a).collect::<Vec<_>>() });
    Ok(Effects {
        update_referral: Some((referral.referral, states)),
        audit: vec![AuditEvent::new(
            "referral_state_changed",
            Some(&meta.sender),
            Some(referral.referral.to_string()),
            detail,
        )],
        ..Effects::default()
    })
}

fn state_of(
    referral: &ReferralRecord,
    agency: &AgencyId,
) -> Option<crate::protocol::ReferralState> {
    referral
        .states
        .iter()
        .find(|(a, _)| a == agency)
        .map(|(_, s)| *s)
}

fn unknown_referral() -> HubError {
    HubError::new(
        ErrorCode::UnknownReferral,
        "その紹介は存在しないか、この機関は関係していません。",
        "no such referral involving this agency",
    )
}

fn consent_record(
    meta: &Metadata,
    facts: &Facts,
    scope: &ConsentScope,
) -> Result<Effects, HubError> {
    known_case(meta, facts)?;
    if Some(&scope.case_id) != meta.case_id.as_ref() || facts.consent.is_some() {
        return Err(HubError::new(
            ErrorCode::InvalidAction,
            "同意のケースIDがエンベロープと一致しないか、同意IDが使用済みです。",
            "the consent's case differs from the envelope's, or its id is already used",
        ));
    }
    let empty =
        scope.recipients.is_empty() || scope.categories.is_empty() || scope.purposes.is_empty();
    let backwards = scope
        .valid_until
        .as_ref()
        .is_some_and(|u| u.datetime() <= scope.valid_from.datetime());
    if (scope.decision == ConsentDecision::Granted && empty) || backwards {
        return Err(HubError::new(
            ErrorCode::InvalidAction,
            "同意の範囲が空か、有効期限が開始より前です。提供先・情報区分・目的と期間を確認してください。",
            "the consent covers nothing, or ends before it starts: check recipients, categories, purposes and period",
        ));
    }
    let detail = serde_json::json!({
        "case_id": scope.case_id,
        "decision": scope.decision,
        "given_by": scope.given_by,
        "method": scope.method,
        "recipients": scope.recipients,
        "categories": scope.categories,
        "purposes": scope.purposes,
        "valid_until": scope.valid_until,
    });
    Ok(Effects {
        record_consent: Some(scope.clone()),
        audit: vec![AuditEvent::new(
            "consent_recorded",
            Some(&meta.sender),
            Some(scope.consent_id.to_string()),
            detail,
        )],
        ..Effects::default()
    })
}

fn consent_withdrawal(rules: &Rules, meta: &Metadata, facts: &Facts) -> Result<Effects, HubError> {
    known_case(meta, facts)?;
    let Some(consent) = facts
        .consent
        .as_ref()
        .filter(|c| Some(&c.scope.case_id) == meta.case_id.as_ref())
    else {
        return Err(HubError::new(
            ErrorCode::ConsentNotFound,
            "撤回する同意がこのケースに記録されていません。",
            "no such consent is recorded for this case",
        ));
    };
    if consent.ended.is_some() {
        return Err(HubError::new(
            ErrorCode::ConsentWithdrawn,
            "この同意はすでに撤回または期間満了しています。",
            "the consent has already ended",
        ));
    }
    // Her words are personal information: they go only to the agencies the
    // consent concerns, never further.
    if let Some(r) = meta
        .recipients
        .iter()
        .find(|r| !facts.concerned.contains(r))
    {
        let name = rules
            .directory
            .get(r)
            .map_or_else(|| r.to_string(), |a| a.name.clone());
        return Err(HubError::new(
            ErrorCode::RecipientNotCovered,
            format!(
                "宛先「{name}」（{r}）はこの同意に関係していません。撤回の記録は、同意を記録した機関と、この同意に基づいて送受信した機関にだけ送れます。"
            ),
            format!(
                "recipient {name} ({r}) is not concerned by this consent: a withdrawal goes only to the agency that recorded it and those that sent or hold something under it"
            ),
        ));
    }
    Ok(Effects {
        end_consent: Some((consent.scope.consent_id, ConsentEnd::Withdrawn)),
        ..Effects::default()
    })
}

fn case_update(
    rules: &Rules,
    meta: &Metadata,
    facts: &Facts,
    action: &Action,
) -> Result<Effects, HubError> {
    let case = known_case(meta, facts)?;
    if kind_of(rules, &meta.sender) != Some(AgencyKind::Yotaikyo) {
        return Err(HubError::new(
            ErrorCode::NotPermitted,
            "ケースの登録・変更・終結は要対協の調整機関だけが行えます。",
            "only the council's coordinating body registers, reclassifies or closes cases",
        ));
    }
    let registered = case.registration.is_some() && case.closed_at.is_none();
    let change = match action {
        Action::RegisterCase { registration } => {
            let unknown = registration
                .members
                .iter()
                .chain([&registration.lead])
                .find(|a| rules.directory.get(a).is_none());
            if let Some(a) = unknown {
                return Err(HubError::new(
                    ErrorCode::UnknownRecipient,
                    format!("機関 {a} はディレクトリにありません。"),
                    format!("agency {a} is not in the directory"),
                ));
            }
            CaseChange::Register(registration.clone())
        }
        Action::ReclassifyCase { classification } if registered => {
            CaseChange::Reclassify(*classification)
        }
        Action::CloseCase if registered => CaseChange::Close,
        Action::ReclassifyCase { .. } | Action::CloseCase => {
            return Err(HubError::new(
                ErrorCode::CaseNotRegistered,
                "このケースは要対協に登録されていないか、終結しています。",
                "the case is not registered, or is already closed",
            ));
        }
        _ => {
            return Err(HubError::new(
                ErrorCode::InvalidAction,
                "不正な操作です。",
                "invalid action",
            ));
        }
    };
    let event = match &change {
        CaseChange::Register(_) => "case_registered",
        CaseChange::Reclassify(_) => "case_reclassified",
        CaseChange::Close => "case_closed",
    };
    let detail = match &change {
        CaseChange::Register(r) => {
            serde_json::json!({ "classification": r.classification, "lead": r.lead, "members": r.members })
        }
        CaseChange::Reclassify(c) => serde_json::json!({ "classification": c }),
        CaseChange::Close => serde_json::json!({}),
    };
    Ok(Effects {
        case_change: Some(change),
        audit: vec![AuditEvent::new(
            event,
            Some(&meta.sender),
            meta.case_id.as_ref().map(|c| c.to_string()),
            detail,
        )],
        ..Effects::default()
    })
}
