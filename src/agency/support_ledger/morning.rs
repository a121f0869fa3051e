//! The morning list: what a 保健師 looks at first each day — contacts due
//! or overdue, by tier, district and nurse; referrals received that are not
//! on the ledger yet (with the rows they may belong to); plans due for
//! review on the ledger's cases.

use serde::Serialize;

use super::{Ledger, SubjectView, Tier};
use crate::agency::ledger::sources;
use crate::protocol::day::Day;
use crate::protocol::envelope::Metadata;
use crate::protocol::payload::{Body, Payload};
use crate::protocol::referral::{Referral, ReferralTiming};
use crate::protocol::{AgencyId, CaseId, Envelope, MessageKind, Timestamp};
use crate::store::StoreError;
use crate::store::records::Records;

/// The morning filters; each one left `None` lets every row through.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MorningFilter {
    /// Only rows whose next contact is on or before this day (due or overdue).
    pub due_by: Option<Day>,
    pub tier: Option<Tier>,
    /// 担当地区
    pub district: Option<String>,
    /// 担当保健師
    pub staff: Option<String>,
    /// Closed rows too.
    pub closed: bool,
}

impl MorningFilter {
    /// Whether a row passes.
    pub fn admits(&self, v: &SubjectView) -> bool {
        (self.closed || v.subject.closed_on.is_none())
            && self
                .due_by
                .is_none_or(|by| v.computed.next_contact.is_some_and(|next| next.day <= by))
            && self.tier.is_none_or(|t| v.computed.tier == t)
            && self
                .district
                .as_deref()
                .is_none_or(|d| v.subject.district == d)
            && self.staff.as_deref().is_none_or(|s| v.subject.staff == s)
    }

    /// The rows that pass, the most urgent first: by next contact (none
    /// last), then 台帳番号.
    pub fn apply<'a>(&self, ledger: &'a Ledger) -> Vec<&'a SubjectView> {
        let mut rows: Vec<&SubjectView> =
            ledger.subjects.iter().filter(|v| self.admits(v)).collect();
        rows.sort_by_key(|v| {
            (
                v.computed.next_contact.map(|d| d.day).is_none(),
                v.computed.next_contact.map(|d| d.day),
                v.subject.number.clone(),
            )
        });
        rows
    }
}

/// A received referral whose case is on no row yet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Unlinked {
    pub case: CaseId,
    pub sender: AgencyId,
    pub received_at: Timestamp,
    /// 妊娠中 or 出産後 (a postpartum referral is the 出生連絡).
    pub timing: ReferralTiming,
    pub name: String,
    pub furigana: String,
    pub birth_date: Day,
    /// Rows she may be: same birth date and same name or furigana. A person
    /// confirms one (or adds a row); nothing is linked by guess.
    pub candidates: Vec<Candidate>,
}

/// A row a referral may belong to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Candidate {
    pub id: String,
    pub number: String,
    pub name: String,
}

/// Referrals this node received about cases on no row, newest first; a case
/// appears once (its latest referral).
pub async fn unlinked(records: &Records, ledger: &Ledger) -> Result<Vec<Unlinked>, StoreError> {
    let mut out: Vec<Unlinked> = Vec::new();
    for (meta, referral) in received_referrals(records).await? {
        let Some(case) = meta.case_id.clone() else {
            continue;
        };
        if ledger.by_case(&case).is_some() {
            continue;
        }
        let birth_date = Day::from(referral.mother.birth_date);
        let candidates = ledger
            .subjects
            .iter()
            .filter(|v| {
                v.subject.birth_date == Some(birth_date)
                    && (same(&v.subject.name, &referral.mother.name)
                        || (!v.subject.furigana.is_empty()
                            && same(&v.subject.furigana, &referral.mother.furigana)))
            })
            .map(|v| Candidate {
                id: v.id.clone(),
                number: v.subject.number.clone(),
                name: v.subject.name.clone(),
            })
            .collect();
        out.retain(|u| u.case != case);
        out.push(Unlinked {
            case,
            sender: meta.sender.clone(),
            received_at: meta.created_at,
            timing: referral.timing,
            name: referral.mother.name.clone(),
            furigana: referral.mother.furigana.clone(),
            birth_date,
            candidates,
        });
    }
    out.reverse();
    Ok(out)
}

/// Every referral this node received, with its envelope's metadata,
/// oldest first.
pub(super) async fn received_referrals(
    records: &Records,
) -> Result<Vec<(Metadata, Referral)>, StoreError> {
    let mut out = Vec::new();
    for held in records
        .held_of_kinds(&[MessageKind::Referral.as_str()])
        .await?
    {
        if held.sent {
            continue;
        }
        let envelope = Envelope::parse(held.envelope.clone())
            .map_err(|e| StoreError::Corrupt(format!("held envelope: {e}")))?;
        let payload: Payload = serde_json::from_str(&held.payload)
            .map_err(|e| StoreError::Corrupt(format!("held payload: {e}")))?;
        if let Body::Referral(referral) = payload.body {
            out.push((envelope.meta().clone(), *referral));
        }
    }
    Ok(out)
}

/// Names compared as staff would: spaces (full- and half-width) ignored.
fn same(a: &str, b: &str) -> bool {
    let squeeze = |s: &str| -> String { s.chars().filter(|c| !c.is_whitespace()).collect() };
    squeeze(a) == squeeze(b)
}

/// A support plan on one of the ledger's cases whose review day has come.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PlanDue {
    pub subject_id: String,
    pub number: String,
    pub case: CaseId,
    /// The plan's page is `/plans/{plan_id}`.
    pub plan_id: crate::protocol::PlanId,
    pub version: u32,
    pub review_on: Day,
}

/// The latest version of each plan on a linked case, due for review by `by`.
pub async fn plans_due(
    records: &Records,
    me: &AgencyId,
    ledger: &Ledger,
    by: Day,
) -> Result<Vec<PlanDue>, StoreError> {
    let plans = sources::read(records, me).await?.plans;
    let mut latest: Vec<&sources::PlanFacts> = Vec::new();
    for p in &plans {
        match latest.iter_mut().find(|l| l.plan_id == p.plan_id) {
            Some(l) if l.version < p.version => *l = p,
            Some(_) => {}
            None => latest.push(p),
        }
    }
    let mut due: Vec<PlanDue> = latest
        .into_iter()
        .filter(|p| p.review_on <= by)
        .filter_map(|p| {
            let v = ledger.by_case(&p.case)?;
            Some(PlanDue {
                subject_id: v.id.clone(),
                number: v.subject.number.clone(),
                case: p.case.clone(),
                plan_id: p.plan_id,
                version: p.version,
                review_on: p.review_on,
            })
        })
        .collect();
    due.sort_by_key(|p| (p.review_on, p.number.clone()));
    Ok(due)
}
