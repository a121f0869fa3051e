//! The 実務者会議 agenda: the cases due for review, and the agencies with a
//! role in them (whom the meeting invites).

use serde::Serialize;

use super::fold::{LedgerRow, is_due};
use crate::directory::Directory;
use crate::i18n::Lang;
use crate::protocol::case::CaseClassification;
use crate::protocol::day::Day;
use crate::protocol::meeting::Level;
use crate::protocol::{AgencyId, CaseId};

/// How far ahead the agenda looks by default: a meeting is prepared about
/// two weeks before it is held.
pub const AGENDA_DAYS: i64 = 14;

/// One case to review.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AgendaItem {
    pub case_id: CaseId,
    pub case_number: Option<String>,
    pub classification: CaseClassification,
    pub risk: Option<Level>,
    pub last_reviewed: Option<Day>,
    pub next_review: Day,
    pub lead: AgencyId,
    /// Every agency with a role in the case, the lead first.
    pub members: Vec<AgencyId>,
}

/// The cases due for review by a day.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Agenda {
    /// The last day a review may fall due on to be taken up.
    pub until: Option<Day>,
    /// Overdue first, then by date; the higher risk first on one day.
    pub cases: Vec<AgendaItem>,
}

impl Agenda {
    /// The cases of `rows` due for review on or before `until`.
    pub fn of(rows: &[LedgerRow], until: Day) -> Self {
        let mut cases: Vec<AgendaItem> = rows
            .iter()
            .filter(|r| is_due(r, until))
            .map(|r| AgendaItem {
                case_id: r.case_id.clone(),
                case_number: r.case_number.clone(),
                classification: r.classification,
                risk: r.risk,
                last_reviewed: r.last_reviewed,
                next_review: r.next_review,
                lead: r.lead.clone(),
                members: r.members.clone(),
            })
            .collect();
        // `Level` orders High < Medium < Low; an unassessed case comes last.
        cases.sort_by(|a, b| {
            let risk = |i: &AgendaItem| i.risk.map_or(3, |l| l as u8);
            (a.next_review, risk(a), &a.case_id).cmp(&(b.next_review, risk(b), &b.case_id))
        });
        Self {
            until: Some(until),
            cases,
        }
    }

    /// The agencies to invite: every council member with a role in any
    /// case on it, in the order they first appear, except the organiser.
    /// A 実務者会議 shares under `yotaikyo_sharing`, which reaches council
    /// members only; an agency with a role that is not one (a clinic) is
    /// told separately, under her consent.
    pub fn invitees(&self, organiser: &AgencyId, directory: &Directory) -> Vec<AgencyId> {
        let mut all: Vec<AgencyId> = Vec::new();
        for id in self.cases.iter().flat_map(|c| c.members.iter()) {
            let member = directory.get(id).is_some_and(|a| a.yotaikyo_member);
            if member && id != organiser && !all.contains(id) {
                all.push(id.clone());
            }
        }
        all
    }
}

/// A 実務者会議 taken from the agenda: its first case, the others, the
/// council members to invite and the agenda as text. The CLI's
/// `meeting schedule --from-ledger` and the ledger screen both seat it so.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seating {
    pub case: CaseId,
    pub more_cases: Vec<CaseId>,
    pub invite: Vec<AgencyId>,
    pub agenda: String,
}

impl Agenda {
    /// The meeting that takes up every case on the agenda, organised by
    /// `organiser`; `None` when no case is due.
    pub fn seating(
        &self,
        organiser: &AgencyId,
        directory: &Directory,
        lang: Lang,
    ) -> Option<Seating> {
        let (first, rest) = self.cases.split_first()?;
        let mut text = String::from(lang.pick("進行管理（見直し対象）:", "progress review (due):"));
        for c in &self.cases {
            text += &format!(
                "\n- {} {}（{}、{} {}）",
                c.case_number.as_deref().unwrap_or("—"),
                c.case_id,
                c.classification.label(lang),
                lang.pick("見直し期限", "review due"),
                c.next_review
            );
        }
        Some(Seating {
            case: first.case_id.clone(),
            more_cases: rest.iter().map(|c| c.case_id.clone()).collect(),
            invite: self.invitees(organiser, directory),
            agenda: text,
        })
    }
}
