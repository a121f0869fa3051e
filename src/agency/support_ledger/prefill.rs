//! A new row started from a referral: what the 連絡票 already says, so
//! staff check it rather than type it again. The 台帳番号 and the tier are
//! theirs to give.

use super::subject::{Subject, SubjectKind, Tier};
use crate::i18n::Lang;
use crate::protocol::day::Day;
use crate::protocol::referral::{Referral, ReferralTiming};

/// The mother's row, as the referral describes her.
pub fn mother(referral: &Referral, number: &str) -> Subject {
    let m = &referral.mother;
    let p = referral.pregnancy.as_ref();
    let reasons: Vec<&str> = referral.reasons.iter().map(|r| r.label(Lang::Ja)).collect();
    Subject {
        number: number.into(),
        kind: SubjectKind::Pregnant,
        name: m.name.clone(),
        furigana: m.furigana.clone(),
        birth_date: Some(Day::from(m.birth_date)),
        due_date: p.map(|p| Day::from(p.due_date)),
        birth_facility: p
            .and_then(|p| p.planned_birth_facility.clone())
            .unwrap_or_default(),
        household: referral.household.clone(),
        history: p
            .map(|p| format!("妊娠{}回・出産{}回", p.gravida, p.para))
            .unwrap_or_default(),
        needs_support: true,
        needs_reason: reasons.join("、"),
        tier: Tier::SupportPlan,
        ..Subject::default()
    }
}

/// The baby's row from a 出生連絡 (a referral written after the birth),
/// if it carries the baby.
pub fn child(referral: &Referral, number: &str, mother_number: &str) -> Option<Subject> {
    if referral.timing != ReferralTiming::Postpartum {
        return None;
    }
    let c = referral.child.as_ref()?;
    Some(Subject {
        number: number.into(),
        kind: SubjectKind::Child,
        name: format!("{}の子", referral.mother.name),
        birth_date: Some(Day::from(c.birth_date)),
        mother: Some(mother_number.into()),
        birth_status: format!(
            "出生体重{}g・在胎{}週{}",
            c.birth_weight_g,
            c.gestational_weeks_at_birth,
            if c.nicu { "・NICU入院" } else { "" }
        ),
        tier: Tier::SupportPlan,
        ..Subject::default()
    })
}

/// The latest referral this node received about `case` (the one a row
/// starts from), if it holds one.
pub async fn latest_referral(
    records: &crate::store::records::Records,
    case: &crate::protocol::CaseId,
) -> Result<Option<Referral>, crate::store::StoreError> {
    Ok(super::morning::received_referrals(records)
        .await?
        .into_iter()
        .rfind(|(meta, _)| meta.case_id.as_ref() == Some(case))
        .map(|(_, referral)| referral))
}
