//! Before a referral leaves: which legal bases reach which recipient, and
//! what the hub would refuse, asked on the node so staff see the reason
//! while the form is still open. The node knows the consents it recorded or
//! received and the directory's kinds; the hub decides in the end (its
//! policy, `hub::policy::basis`, is the authority and may know more: a
//! registration, a consent this node never saw), and its refusal is shown
//! the same way.
//!
//! The rules are the hub's own (`protocol::coverage`); this module feeds
//! them what the node knows and words their answer for staff.

use std::collections::BTreeSet;

use crate::directory::Directory;
use crate::i18n::Lang;
use crate::protocol::consent::ConsentScope;
use crate::protocol::coverage::{Disclosure, Limit, NamedConsent, Uncovered};
use crate::protocol::notice::ConsentEnd;
use crate::protocol::{
    Action, AgencyId, CaseId, Envelope, InfoCategory, LegalBasis, MessageKind, Notice, Purpose,
    Timestamp, Urgency,
};
use crate::store::StoreError;
use crate::store::records::Records;

/// A consent this node knows of: recorded here, or received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KnownConsent {
    pub scope: ConsentScope,
    /// The agency that recorded it (party to it: sharing back needs no
    /// wider consent).
    pub recorded_by: AgencyId,
    /// Withdrawn or expired, as far as this node has heard.
    pub ended: Option<ConsentEnd>,
}

impl KnownConsent {
    /// As the coverage rules read it.
    fn named(&self) -> NamedConsent<'_> {
        NamedConsent {
            scope: &self.scope,
            recorded_by: &self.recorded_by,
            ended: self.ended,
        }
    }
}

/// Why the hub would refuse, in both languages, with the next step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub ja: String,
    pub en: String,
}

impl Refusal {
    fn new(ja: impl Into<String>, en: impl Into<String>) -> Self {
        Refusal {
            ja: ja.into(),
            en: en.into(),
        }
    }

    /// The reason in `lang`.
    pub fn text(&self, lang: Lang) -> &str {
        lang.pick(&self.ja, &self.en)
    }
}

/// The consents about `case` this node knows, in the order recorded. One
/// whose record the hub has not yet taken is left out (the hub does not
/// know it yet); a withdrawal still waiting to be sent counts as an end.
pub async fn consents_for(
    records: &Records,
    me: &AgencyId,
    case: &CaseId,
) -> Result<Vec<KnownConsent>, StoreError> {
    let kinds = [
        MessageKind::ConsentRecord.as_str(),
        MessageKind::ConsentWithdrawal.as_str(),
    ];
    let mut known: Vec<KnownConsent> = Vec::new();
    let mut withdrawn = BTreeSet::new();
    for held in records.held_of_kinds(&kinds).await? {
        let Ok(envelope) = Envelope::parse(held.envelope) else {
            continue;
        };
        let meta = envelope.meta();
        match &meta.action {
            Some(Action::RecordConsent { scope }) if &scope.case_id == case && !held.pending => {
                let recorded_by = if held.sent { me } else { &meta.sender };
                known.push(KnownConsent {
                    scope: scope.clone(),
                    recorded_by: recorded_by.clone(),
                    ended: None,
                });
            }
            Some(Action::WithdrawConsent { consent_id }) => {
                withdrawn.insert(*consent_id);
            }
            _ => {}
        }
    }
    let mut ended: Vec<_> = withdrawn
        .into_iter()
        .map(|id| (id, ConsentEnd::Withdrawn))
        .collect();
    for (_, notice) in records.notices().await? {
        if let Notice::ConsentEnded {
            consent_id, reason, ..
        } = notice
        {
            ended.push((consent_id, reason));
        }
    }
    for k in &mut known {
        k.ended = ended
            .iter()
            .find(|(id, _)| *id == k.scope.consent_id)
            .map(|(_, r)| *r);
    }
    Ok(known)
}

/// What is about to be shared, for the checks.
pub struct Sharing<'a> {
    pub directory: &'a Directory,
    pub sender: &'a AgencyId,
    pub recipients: &'a [AgencyId],
    pub categories: &'a BTreeSet<InfoCategory>,
    pub purpose: Purpose,
    pub urgency: Urgency,
    pub now: Timestamp,
    /// The case is about to be opened: nothing is registered about it yet.
    pub new_case: bool,
}

impl Sharing<'_> {
    fn name_of(&self, id: &AgencyId) -> String {
        self.directory.name_of(id.as_str())
    }

    /// Whether `basis` (with `consent`, the one it names, when it names one)
    /// covers every recipient, category and the purpose: the hub's rules
    /// (`protocol::coverage`), judged on what this node knows.
    pub fn check(&self, basis: &LegalBasis, consent: Option<&KnownConsent>) -> Result<(), Refusal> {
        let categories: Vec<InfoCategory> = self.categories.iter().copied().collect();
        Disclosure {
            agencies: self.directory,
            sender: self.sender,
            recipients: self.recipients,
            categories: &categories,
            purpose: self.purpose,
            urgency: self.urgency,
            now: self.now,
            registered: !self.new_case,
        }
        .check(basis, consent.map(KnownConsent::named))
        .map_err(|uncovered| self.refusal(basis, uncovered))
    }

    /// What staff read when `basis` does not cover the referral, with what
    /// to do instead.
    fn refusal(&self, basis: &LegalBasis, uncovered: Uncovered) -> Refusal {
        let renew = "本人に説明して範囲を広げた同意を記録し直すか、法令上の根拠に当たる場合はその根拠を選んで理由を書いてください。";
        let renew_en = "Record a new consent that covers it after explaining it to her, or, if a statutory basis applies, choose it and write the justification.";
        match uncovered {
            Uncovered::ConsentNotFound => Refusal::new(
                "この同意は、このケースについてこの機関に記録されていません。同意を記録してから送るか、法令上の根拠を選んで理由を書いてください。",
                "This consent is not recorded for this case here. Record the consent first, or choose a statutory basis and write the justification.",
            ),
            Uncovered::ConsentNotGranted { decision } => Refusal::new(
                format!(
                    "本人が同意していない（{}）ため、この同意では送れません。{renew}",
                    decision.label(Lang::Ja)
                ),
                format!(
                    "She did not consent ({}), so this consent cannot be relied on. {renew_en}",
                    decision.label(Lang::En)
                ),
            ),
            Uncovered::ConsentEnded(end) => ended(end),
            Uncovered::ConsentNotStarted => Refusal::new(
                format!("同意の有効期間がまだ始まっていません。{renew}"),
                format!("The consent's period has not begun yet. {renew_en}"),
            ),
            Uncovered::ConsentPeriodOver => Refusal::new(
                format!("同意の有効期間が過ぎています。{renew}"),
                format!("The consent's period is over. {renew_en}"),
            ),
            Uncovered::SenderOutside {
                limit: Limit::Consent,
                ..
            } => Refusal::new(
                format!("この機関はこの同意の提供元に含まれていません。{renew}"),
                format!("This agency is outside this consent. {renew_en}"),
            ),
            Uncovered::SenderOutside {
                limit: Limit::Kinds,
                ..
            } => Refusal::new(
                "市町村への情報提供（第21条の10の5）は、医療・福祉・教育機関から市町村へ送るための根拠です。この機関からは使えません。本人の同意に基づいて送ってください。",
                "Provision to the municipality is for medical, welfare and school bodies; this agency cannot use it. Send under her consent.",
            ),
            Uncovered::SenderOutside {
                agency,
                limit: Limit::Council,
            }
            | Uncovered::RecipientOutside {
                agency,
                limit: Limit::Council,
            } => Refusal::new(
                format!(
                    "「{}」は要対協の構成機関ではないため、要対協での情報共有（第25条の3）では送れません。本人の同意に基づいて送るか、調整機関に相談してください。",
                    self.name_of(&agency)
                ),
                format!(
                    "{} is not a council member, so council sharing does not apply. Send under her consent, or consult the coordinating body.",
                    self.name_of(&agency)
                ),
            ),
            Uncovered::RecipientOutside {
                agency,
                limit: Limit::Consent,
            } => Refusal::new(
                format!(
                    "宛先「{}」はこの同意の提供先に含まれていません。{renew}",
                    self.name_of(&agency)
                ),
                format!(
                    "{} is not among this consent's recipients. {renew_en}",
                    self.name_of(&agency)
                ),
            ),
            Uncovered::RecipientOutside {
                agency,
                limit: Limit::Kinds,
            } => Refusal::new(
                format!(
                    "宛先「{}」には「{}」では送れません。この根拠で送れるのは市町村（こども家庭センター）と児童福祉担当だけです。この宛先を外すか、本人の同意を得て同意に基づいて送ってください。",
                    self.name_of(&agency),
                    basis.label(Lang::Ja)
                ),
                format!(
                    "{} cannot be sent to under {}: it reaches the municipality (center) and child welfare only. Remove this recipient, or send under her consent.",
                    self.name_of(&agency),
                    basis.label(Lang::En)
                ),
            ),
            Uncovered::CategoryOutside(cat) => Refusal::new(
                format!(
                    "この連絡票には「{}」の情報が含まれますが、同意の範囲に入っていません。その情報を除くか、{renew}",
                    cat.label(Lang::Ja)
                ),
                format!(
                    "This referral holds {} information, which the consent does not cover. Leave it out, or: {renew_en}",
                    cat.label(Lang::En)
                ),
            ),
            Uncovered::PurposeOutside(purpose) => Refusal::new(
                format!(
                    "目的「{}」はこの同意の範囲外です。{renew}",
                    purpose.label(Lang::Ja)
                ),
                format!(
                    "The purpose {} is outside this consent. {renew_en}",
                    purpose.label(Lang::En)
                ),
            ),
            Uncovered::CaseNotRegistered => Refusal::new(
                "新しいケースは要対協に登録されていないため、要対協での情報共有（第25条の3）では送れません。登録済みのケースを選ぶか、ほかの根拠を選んでください。",
                "A new case is not registered with the council, so council sharing does not apply. Choose a registered case or another basis.",
            ),
            Uncovered::NotUrgent => Refusal::new(
                "生命・身体の保護（個人情報保護法第27条第1項第2号）は緊急の場合だけ使えます。緊急度を「緊急」にするか、ほかの根拠を選んでください。",
                "Protection of life or body is for emergencies only: set the urgency to emergency, or choose another basis.",
            ),
        }
    }
}

/// A consent that has ended: nothing more may rely on it.
fn ended(end: ConsentEnd) -> Refusal {
    let (ja, en) = match end {
        ConsentEnd::Withdrawn => ("同意は撤回されています", "the consent was withdrawn"),
        ConsentEnd::Expired => ("同意の有効期間が終了しています", "the consent has expired"),
    };
    Refusal::new(
        format!(
            "{ja}。この同意では何も送れません。本人にあらためて説明して同意を記録し直すか、法令上の根拠に当たる場合はその根拠を選んで理由を書いてください。"
        ),
        format!(
            "{en}: nothing more may be sent under it. Record a new consent after explaining it to her again, or choose a statutory basis and write the justification."
        ),
    )
}

/// What each basis means, in plain words, for the form.
pub fn explain(basis: &LegalBasis, lang: Lang) -> &'static str {
    match basis {
        LegalBasis::Consent { .. } => lang.pick(
            "本人（または保護者）が同意した範囲（提供先・情報の種類・目的・期間）でだけ送れます。",
            "Only within what she (or her guardian) agreed to: recipients, kinds of information, purpose and period.",
        ),
        LegalBasis::ProvisionToMunicipality => lang.pick(
            "医療・福祉・教育機関が、支援が必要と思われる妊婦や子どもについて、同意がなくても市町村（こども家庭センター・児童福祉担当）に知らせることができます。理由の記入が必要です。",
            "Medical, welfare and school bodies may inform the municipality (center, child welfare) about a pregnant woman or child who seems to need support, without consent. A written reason is required.",
        ),
        LegalBasis::AbuseNotification => lang.pick(
            "虐待が疑われるときは、児童相談所・市町村に通告しなければなりません。通告した人は守られます（第7条）。理由の記入が必要です。",
            "Suspected abuse must be notified to child welfare or the municipality; the notifier is protected (art. 7). A written reason is required.",
        ),
        LegalBasis::YotaikyoSharing => lang.pick(
            "要対協に登録されたケースについて、構成機関どうしで共有できます。理由の記入が必要です。",
            "About a case registered with the council, its members may share among themselves. A written reason is required.",
        ),
        LegalBasis::VitalInterest => lang.pick(
            "命や身体に危険が迫り、同意を得る時間がないときだけ（緊急のみ）。センターが後で確認します。理由の記入が必要です。",
            "Only when life or body is in danger and there is no time to ask (emergencies only); the center reviews it afterwards. A written reason is required.",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::ConsentId;
    use crate::protocol::consent::{
        ConsentDecision, ConsentGiver, ConsentMethod, ConsentRecipient,
    };

    fn directory() -> Directory {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        Directory::load(&root.join("certs-example/directory.toml")).unwrap()
    }

    fn id(s: &str) -> AgencyId {
        s.parse().unwrap()
    }

    fn consent(to: &[&str], categories: &[InfoCategory]) -> KnownConsent {
        KnownConsent {
            scope: ConsentScope {
                consent_id: ConsentId::new(),
                case_id: "case-1".parse().unwrap(),
                given_by: ConsentGiver::Person,
                method: ConsentMethod::Oral,
                decision: ConsentDecision::Granted,
                recipients: to.iter().map(|a| ConsentRecipient::Agency(id(a))).collect(),
                categories: categories.to_vec(),
                purposes: vec![Purpose::Referral],
                valid_from: Timestamp::now(),
                valid_until: None,
            },
            recorded_by: id("sakura-clinic"),
            ended: None,
        }
    }

    fn check(
        to: &[&str],
        basis: &LegalBasis,
        consent: Option<&KnownConsent>,
    ) -> Result<(), Refusal> {
        let directory = directory();
        let recipients: Vec<AgencyId> = to.iter().map(|a| id(a)).collect();
        let categories = [InfoCategory::Basic, InfoCategory::MentalHealth].into();
        Sharing {
            directory: &directory,
            sender: &id("sakura-clinic"),
            recipients: &recipients,
            categories: &categories,
            purpose: Purpose::Referral,
            urgency: Urgency::Early,
            now: Timestamp::now(),
            new_case: false,
        }
        .check(basis, consent)
    }

    #[test]
    fn a_clinic_may_inform_the_municipality_but_not_the_nursery_without_consent() {
        let basis = LegalBasis::ProvisionToMunicipality;
        assert_eq!(check(&["minato-center"], &basis, None), Ok(()));
        let refused = check(&["minato-center", "hikari-nursery"], &basis, None).unwrap_err();
        assert!(refused.ja.contains("ひかり保育園"), "{}", refused.ja);
    }

    #[test]
    fn a_consent_must_reach_every_recipient_and_category_and_be_in_force() {
        let all = [InfoCategory::Basic, InfoCategory::MentalHealth];
        let good = consent(&["minato-center"], &all);
        let basis = LegalBasis::Consent {
            consent_id: good.scope.consent_id,
        };
        assert_eq!(check(&["minato-center"], &basis, Some(&good)), Ok(()));
        let refused = check(&["minato-child-welfare"], &basis, Some(&good)).unwrap_err();
        assert!(
            refused.ja.contains("提供先に含まれていません"),
            "{}",
            refused.ja
        );
        let narrow = consent(&["minato-center"], &[InfoCategory::Basic]);
        let refused = check(&["minato-center"], &basis, Some(&narrow)).unwrap_err();
        assert!(refused.ja.contains("「精神保健」"), "{}", refused.ja);
        let withdrawn = KnownConsent {
            ended: Some(ConsentEnd::Withdrawn),
            ..good
        };
        let refused = check(&["minato-center"], &basis, Some(&withdrawn)).unwrap_err();
        assert!(refused.ja.contains("撤回"), "{}", refused.ja);
        let refused = check(&["minato-center"], &basis, None).unwrap_err();
        assert!(refused.ja.contains("記録されていません"), "{}", refused.ja);
    }

    #[test]
    fn vital_interest_is_for_emergencies_only() {
        let refused = check(&["hikari-nursery"], &LegalBasis::VitalInterest, None).unwrap_err();
        assert!(refused.ja.contains("緊急の場合だけ"), "{}", refused.ja);
    }
}
