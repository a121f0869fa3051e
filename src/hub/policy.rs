//! The hub's rules for every envelope: which facts it needs, and — given
//! those facts, inside the accepting transaction — whether the legal basis
//! covers every recipient, category and the purpose, whether a state change
//! is allowed, and what accepting it changes.

use std::sync::Arc;

use time::OffsetDateTime;

use super::HubError;
use super::config::Deadlines;
use crate::directory::Directory;
use crate::protocol::consent::{ConsentDecision, ConsentRecipient, ConsentScope};
use crate::protocol::notice::ConsentEnd;
use crate::protocol::referral_state::Party;
use crate::protocol::{
    Action, AgencyId, AgencyKind, ErrorCode, LegalBasis, MessageKind, Metadata, Timestamp, Urgency,
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
    FactsQuery {
        case_id: meta.case_id.clone(),
        consent_id,
        referral,
        concerned: matches!(meta.action, Some(Action::WithdrawConsent { .. })),
    }
}

/// The policy for one envelope, to run inside the store's transaction.
pub(crate) fn policy(
    meta: Metadata,
    directory: Arc<Directory>,
    deadlines: Deadlines,
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

/// Tolerated difference between a node's clock and the hub's.
const CLOCK_SKEW: time::Duration = time::Duration::minutes(5);

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
        _ => Err(HubError::new(
            ErrorCode::InvalidAction,
            format!(
                "種別 {} とこの操作は組み合わせられません。",
                meta.kind.as_str()
            ),
            format!("kind {} does not fit this action", meta.kind.as_str()),
        )),
    }
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

/// Refuse, naming the basis tried and what it does not cover.
fn not_covered(code: ErrorCode, basis: &LegalBasis, what_ja: String, what_en: String) -> HubError {
    HubError::new(
        code,
        format!("{what_ja}（根拠: {}）", basis.label(crate::i18n::Lang::Ja)),
        format!("{what_en} (basis: {})", basis.as_str()),
    )
}

/// A recipient the basis does not cover: named as staff know it (its
/// directory name, with its id), with what to do instead.
fn recipient_not_covered(
    rules: &Rules,
    basis: &LegalBasis,
    recipient: &AgencyId,
    why_ja: &str,
    why_en: &str,
) -> HubError {
    let name = rules
        .directory
        .get(recipient)
        .map_or_else(|| recipient.to_string(), |a| a.name.clone());
    let (next_ja, next_en) = next_step(basis);
    HubError::new(
        ErrorCode::RecipientNotCovered,
        format!(
            "宛先「{name}」（{recipient}）は{why_ja}（根拠: {}）。{next_ja}",
            basis.label(crate::i18n::Lang::Ja)
        ),
        format!(
            "recipient {name} ({recipient}) {why_en} (basis: {}). {next_en}",
            basis.as_str()
        ),
    )
}

/// What staff can do when a basis does not reach an agency.
fn next_step(basis: &LegalBasis) -> (&'static str, &'static str) {
    match basis {
        LegalBasis::Consent { .. } => (
            "本人に説明して提供先を広げた同意を記録し直すか、法令上の根拠（要対協での共有・市町村への情報提供・虐待通告）に当たる場合はその根拠で理由を書いて送ってください。",
            "Record a new consent that covers this agency after explaining it to her, or, if a statutory basis applies (council sharing, provision to the municipality, abuse notification), send under it with a written justification.",
        ),
        LegalBasis::YotaikyoSharing => (
            "要対協の構成機関にだけ送れます。本人の同意を得て同意に基づいて送るか、調整機関に相談してください。",
            "Council sharing reaches council members only: obtain her consent and send under it, or consult the coordinating body.",
        ),
        LegalBasis::ProvisionToMunicipality | LegalBasis::AbuseNotification => (
            "この根拠で送れるのは市町村（センター）と児童相談所だけです。ほかの機関には本人の同意を得て送ってください。",
            "This basis reaches the municipality (center) and child welfare only: send to other agencies under her consent.",
        ),
        LegalBasis::VitalInterest => ("", ""),
    }
}

fn kind_of(rules: &Rules, id: &AgencyId) -> Option<AgencyKind> {
    rules.directory.get(id).map(|a| a.kind)
}

fn check_basis(
    rules: &Rules,
    meta: &Metadata,
    facts: &Facts,
    basis: &LegalBasis,
    purpose: crate::protocol::Purpose,
) -> Result<(), HubError> {
    let recipient_kinds_in = |allowed: &[AgencyKind]| -> Result<(), HubError> {
        for r in &meta.recipients {
            if !kind_of(rules, r).is_some_and(|k| allowed.contains(&k)) {
                return Err(recipient_not_covered(
                    rules,
                    basis,
                    r,
                    "この根拠で提供できる相手ではありません",
                    "is not covered",
                ));
            }
        }
        Ok(())
    };
    match basis {
        LegalBasis::Consent { .. } => check_consent(rules, meta, facts, basis, purpose),
        LegalBasis::YotaikyoSharing => check_yotaikyo(rules, meta, facts, basis),
        LegalBasis::ProvisionToMunicipality => {
            use AgencyKind::*;
            if !kind_of(rules, &meta.sender)
                .is_some_and(|k| matches!(k, ObstetricClinic | Nursery | PublicHealth | Other))
            {
                return Err(not_covered(
                    ErrorCode::SenderNotCovered,
                    basis,
                    "送信元は医療・福祉・教育機関ではありません".into(),
                    "the sender is not a medical, welfare or school body".into(),
                ));
            }
            recipient_kinds_in(&[Center, ChildWelfare])
        }
        LegalBasis::AbuseNotification => {
            recipient_kinds_in(&[AgencyKind::ChildWelfare, AgencyKind::Center])
        }
        LegalBasis::VitalInterest if meta.urgency != Urgency::Emergency => Err(not_covered(
            ErrorCode::NotUrgent,
            basis,
            "生命・身体の保護は緊急の場合に限ります".into(),
            "vital interest is for emergencies only".into(),
        )),
        LegalBasis::VitalInterest => Ok(()),
    }
}

fn check_yotaikyo(
    rules: &Rules,
    meta: &Metadata,
    facts: &Facts,
    basis: &LegalBasis,
) -> Result<(), HubError> {
    let registered = facts
        .case
        .as_ref()
        .is_some_and(|c| c.registration.is_some() && c.closed_at.is_none());
    if !registered {
        return Err(not_covered(
            ErrorCode::CaseNotRegistered,
            basis,
            "このケースは要対協に登録されていないか、終結しています".into(),
            "the case is not registered with the council, or is closed".into(),
        ));
    }
    let member = |id: &AgencyId| rules.directory.get(id).is_some_and(|a| a.yotaikyo_member);
    if !member(&meta.sender) {
        return Err(not_covered(
            ErrorCode::SenderNotCovered,
            basis,
            format!("送信元 {} は要対協の構成機関ではありません", meta.sender),
            format!("sender {} is not a council member", meta.sender),
        ));
    }
    match meta.recipients.iter().find(|r| !member(r)) {
        Some(r) => Err(recipient_not_covered(
            rules,
            basis,
            r,
            "要対協の構成機関ではありません",
            "is not a council member",
        )),
        None => Ok(()),
    }
}

fn check_consent(
    rules: &Rules,
    meta: &Metadata,
    facts: &Facts,
    basis: &LegalBasis,
    purpose: crate::protocol::Purpose,
) -> Result<(), HubError> {
    let consent = facts
        .consent
        .as_ref()
        .filter(|c| Some(&c.scope.case_id) == meta.case_id.as_ref())
        .ok_or_else(|| {
            not_covered(
                ErrorCode::ConsentNotFound,
                basis,
                "この同意はこのケースについて記録されていません".into(),
                "no such consent is recorded for this case".into(),
            )
        })?;
    let scope = &consent.scope;
    if scope.decision != ConsentDecision::Granted {
        return Err(not_covered(
            ErrorCode::ConsentNotGranted,
            basis,
            "本人が同意していない（拒否・未説明）ため提供できません".into(),
            "consent was refused or the person was not told".into(),
        ));
    }
    if let Some((_, end)) = consent.ended {
        let (code, ja, en) = match end {
            ConsentEnd::Withdrawn => (
                ErrorCode::ConsentWithdrawn,
                "同意は撤回されています",
                "the consent was withdrawn",
            ),
            ConsentEnd::Expired => (
                ErrorCode::ConsentExpired,
                "同意の有効期間が終了しています",
                "the consent has expired",
            ),
        };
        return Err(not_covered(code, basis, ja.into(), en.into()));
    }
    let now = Timestamp::from_datetime(rules.now).datetime();
    // A consent recorded "now" by a node whose clock runs a little ahead of
    // the hub's must not be refused as not yet valid.
    let started = scope.valid_from.datetime() <= now + CLOCK_SKEW;
    let running = scope
        .valid_until
        .as_ref()
        .is_none_or(|u| now < u.datetime());
    if !started || !running {
        return Err(not_covered(
            ErrorCode::ConsentExpired,
            basis,
            "同意の有効期間外です".into(),
            "the consent is not valid at this time".into(),
        ));
    }
    if consent.recorded_by != meta.sender && !covers(rules, scope, &meta.sender) {
        return Err(not_covered(
            ErrorCode::SenderNotCovered,
            basis,
            format!("送信元 {} はこの同意の範囲外です", meta.sender),
            format!("sender {} is outside this consent", meta.sender),
        ));
    }
    if let Some(r) = meta.recipients.iter().find(|r| !covers(rules, scope, r)) {
        return Err(recipient_not_covered(
            rules,
            basis,
            r,
            "この同意の範囲外です",
            "is not covered by the consent",
        ));
    }
    if let Some(c) = meta
        .categories
        .iter()
        .find(|c| !scope.categories.contains(c))
    {
        return Err(not_covered(
            ErrorCode::CategoryNotCovered,
            basis,
            format!(
                "情報区分「{}」はこの同意の範囲外です。その情報を除くか、本人に説明して情報区分を広げた同意を記録し直してください",
                c.label(crate::i18n::Lang::Ja)
            ),
            format!(
                "category {} is not covered by the consent: leave that information out, or record a new consent that covers it after explaining it to her",
                c.label(crate::i18n::Lang::En)
            ),
        ));
    }
    if !scope.purposes.contains(&purpose) {
        return Err(not_covered(
            ErrorCode::PurposeNotCovered,
            basis,
            format!(
                "目的「{}」はこの同意の範囲外です。本人に説明してこの目的を含む同意を記録し直してください",
                purpose.label(crate::i18n::Lang::Ja)
            ),
            format!(
                "purpose {} is not covered by the consent: record a new consent that includes it after explaining it to her",
                purpose.as_str()
            ),
        ));
    }
    Ok(())
}

fn covers(rules: &Rules, scope: &ConsentScope, agency: &AgencyId) -> bool {
    scope.recipients.iter().any(|r| match r {
        ConsentRecipient::Agency(id) => id == agency,
        ConsentRecipient::Kind(kind) => kind_of(rules, agency) == Some(*kind),
    })
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
