//! Whether a legal basis covers an envelope: its sender, every recipient,
//! every declared category and the purpose. The same checks for every kind
//! that shares information about a person (referrals, case notes, meetings,
//! plans). The rules are `protocol::coverage`, shared with the nodes; here
//! the hub feeds them what it knows and words their answer as a refusal.

use super::Rules;
use crate::hub::HubError;
use crate::protocol::coverage::{Disclosure, Limit, NamedConsent, Uncovered};
use crate::protocol::notice::ConsentEnd;
use crate::protocol::{AgencyId, AgencyKind, ErrorCode, LegalBasis, Metadata, Purpose, Timestamp};
use crate::store::model::Facts;

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
    purpose: Purpose,
) -> Result<(), HubError> {
    let registered = facts
        .case
        .as_ref()
        .is_some_and(|c| c.registration.is_some() && c.closed_at.is_none());
    let consent = facts
        .consent
        .as_ref()
        .filter(|c| Some(&c.scope.case_id) == meta.case_id.as_ref())
        .map(|c| NamedConsent {
            scope: &c.scope,
            recorded_by: &c.recorded_by,
            ended: c.ended.map(|(_, end)| end),
        });
    Disclosure {
        agencies: rules.directory,
        sender: &meta.sender,
        recipients: &meta.recipients,
        categories: &meta.categories,
        purpose,
        urgency: meta.urgency,
        now: Timestamp::from_datetime(rules.now),
        registered,
    }
    .check(basis, consent)
    .map_err(|uncovered| refusal(rules, basis, uncovered))
}

/// The refusal for what `basis` does not cover, with the code nodes act on.
fn refusal(rules: &Rules, basis: &LegalBasis, uncovered: Uncovered) -> HubError {
    let refuse = |code, ja: &str, en: &str| not_covered(code, basis, ja.into(), en.into());
    match uncovered {
        Uncovered::ConsentNotFound => refuse(
            ErrorCode::ConsentNotFound,
            "この同意はこのケースについて記録されていません",
            "no such consent is recorded for this case",
        ),
        Uncovered::ConsentNotGranted { .. } => refuse(
            ErrorCode::ConsentNotGranted,
            "本人が同意していない（拒否・未説明）ため提供できません",
            "consent was refused or the person was not told",
        ),
        Uncovered::ConsentEnded(ConsentEnd::Withdrawn) => refuse(
            ErrorCode::ConsentWithdrawn,
            "同意は撤回されています",
            "the consent was withdrawn",
        ),
        Uncovered::ConsentEnded(ConsentEnd::Expired) => refuse(
            ErrorCode::ConsentExpired,
            "同意の有効期間が終了しています",
            "the consent has expired",
        ),
        Uncovered::ConsentNotStarted | Uncovered::ConsentPeriodOver => refuse(
            ErrorCode::ConsentExpired,
            "同意の有効期間外です",
            "the consent is not valid at this time",
        ),
        Uncovered::SenderOutside { agency, limit } => sender_not_covered(basis, &agency, limit),
        Uncovered::RecipientOutside { agency, limit } => {
            let (why_ja, why_en) = match limit {
                Limit::Consent => ("この同意の範囲外です", "is not covered by the consent"),
                Limit::Council => ("要対協の構成機関ではありません", "is not a council member"),
                Limit::Kinds => ("この根拠で提供できる相手ではありません", "is not covered"),
            };
            recipient_not_covered(rules, basis, &agency, why_ja, why_en)
        }
        Uncovered::CategoryOutside(c) => not_covered(
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
        ),
        Uncovered::PurposeOutside(purpose) => not_covered(
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
        ),
        Uncovered::CaseNotRegistered => refuse(
            ErrorCode::CaseNotRegistered,
            "このケースは要対協に登録されていないか、終結しています",
            "the case is not registered with the council, or is closed",
        ),
        Uncovered::NotUrgent => refuse(
            ErrorCode::NotUrgent,
            "生命・身体の保護は緊急の場合に限ります",
            "vital interest is for emergencies only",
        ),
    }
}

/// A sender the basis does not cover, named by id.
fn sender_not_covered(basis: &LegalBasis, sender: &AgencyId, limit: Limit) -> HubError {
    let (ja, en) = match limit {
        Limit::Consent => (
            format!("送信元 {sender} はこの同意の範囲外です"),
            format!("sender {sender} is outside this consent"),
        ),
        Limit::Council => (
            format!("送信元 {sender} は要対協の構成機関ではありません"),
            format!("sender {sender} is not a council member"),
        ),
        Limit::Kinds => (
            "送信元は医療・福祉・教育機関ではありません".into(),
            "the sender is not a medical, welfare or school body".into(),
        ),
    };
    not_covered(ErrorCode::SenderNotCovered, basis, ja, en)
}
