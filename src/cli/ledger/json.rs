//! The ledger as scripts read it (`--json`): wire names with labels,
//! agencies with their directory names.

use serde::Serialize;

use crate::agency::Node;
use crate::agency::ledger::{Agenda, LedgerRow};
use crate::cli::labels::{self, AgencyRef, Labeled};
use crate::i18n::Lang;
use crate::protocol::day::{Day, show_local};
use crate::protocol::{AgencyId, CaseId};

/// One ledger row for `--json`: wire names with labels, agencies named.
#[derive(Serialize)]
pub(super) struct RowJson {
    case_id: CaseId,
    case_number: Option<String>,
    received_on: Day,
    registered_on: Day,
    route: Option<Labeled>,
    classification: Labeled,
    abuse_types: Vec<Labeled>,
    risk: Option<Labeled>,
    lead: AgencyRef,
    key_person: String,
    policy: String,
    last_reviewed: Option<Day>,
    next_review: Day,
    /// The next 実務者会議 already scheduled with the case, JST.
    next_meeting: Option<String>,
    status: Labeled,
    status_reason: String,
    members: Vec<AgencyRef>,
    overdue: bool,
}

pub(super) fn row_json(node: &Node, r: &LedgerRow, today: Day, lang: Lang) -> RowJson {
    RowJson {
        case_id: r.case_id.clone(),
        case_number: r.case_number.clone(),
        received_on: r.received_on,
        registered_on: r.registered_on,
        route: r.route.map(|x| Labeled::new(x.as_str(), x.label(lang))),
        classification: Labeled::new(r.classification.as_str(), r.classification.label(lang)),
        abuse_types: r
            .abuse_types
            .iter()
            .map(|x| Labeled::new(x.as_str(), x.label(lang)))
            .collect(),
        risk: r.risk.map(|x| Labeled::new(x.as_str(), x.label(lang))),
        lead: labels::agency(node, r.lead.as_str()),
        key_person: r.key_person.clone(),
        policy: r.policy.clone(),
        last_reviewed: r.last_reviewed,
        next_review: r.next_review,
        next_meeting: r.next_meeting.map(show_local),
        status: Labeled::new(r.status.as_str(), r.status.label(lang)),
        status_reason: r.status_reason.clone(),
        members: r
            .members
            .iter()
            .map(|m| labels::agency(node, m.as_str()))
            .collect(),
        overdue: r.status.is_open() && r.next_review < today,
    }
}

#[derive(Serialize)]
pub(super) struct AgendaJson {
    until: Option<Day>,
    cases: Vec<AgendaCaseJson>,
    invitees: Vec<AgencyRef>,
}

#[derive(Serialize)]
struct AgendaCaseJson {
    case_id: CaseId,
    case_number: Option<String>,
    classification: Labeled,
    risk: Option<Labeled>,
    last_reviewed: Option<Day>,
    next_review: Day,
    lead: AgencyRef,
    members: Vec<AgencyRef>,
}

pub(super) fn agenda_json(node: &Node, agenda: &Agenda, lang: Lang) -> AgendaJson {
    let name = |id: &AgencyId| labels::agency(node, id.as_str());
    AgendaJson {
        until: agenda.until,
        cases: agenda
            .cases
            .iter()
            .map(|c| AgendaCaseJson {
                case_id: c.case_id.clone(),
                case_number: c.case_number.clone(),
                classification: Labeled::new(
                    c.classification.as_str(),
                    c.classification.label(lang),
                ),
                risk: c.risk.map(|x| Labeled::new(x.as_str(), x.label(lang))),
                last_reviewed: c.last_reviewed,
                next_review: c.next_review,
                lead: name(&c.lead),
                members: c.members.iter().map(name).collect(),
            })
            .collect(),
        invitees: agenda
            .invitees(node.id(), node.directory())
            .iter()
            .map(name)
            .collect(),
    }
}
