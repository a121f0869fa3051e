//! Whether a legal basis covers an envelope: its sender, every recipient,
//! every declared category and the purpose. The same checks for every kind
//! that shares information about a person (referrals, case notes).

use super::Rules;
use crate::hub::HubError;
use crate::protocol::consent::{ConsentDecision, ConsentRecipient, ConsentScope};
use crate::protocol::notice::ConsentEnd;
use crate::protocol::{AgencyId, AgencyKind, ErrorCode, LegalBasis, Metadata, Timestamp, Urgency};
use crate::store::model::Facts;

/// Tolerated difference between a node's clock and the hub's.
const CLOCK_SKEW: time::Duration = time::Duration::minutes(5);

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

pub(super) fn kind_of(rules: &Rules, id: &AgencyId) -> Option<AgencyKind> {
    rules.directory.get(id).map(|a| a.kind)
}

pub(super) fn check_basis(
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
    // The agency she gave her consent to is party to it: sharing back with
    // it (a meeting invitation, minutes, a plan) needs no wider consent.
    if let Some(r) = meta
        .recipients
        .iter()
        .find(|r| **r != consent.recorded_by && !covers(rules, scope, r))
    {
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
