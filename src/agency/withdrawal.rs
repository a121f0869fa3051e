//! Who a withdrawal's note goes to. The hub tells every agency concerned
//! that the consent ended (`ConsentEnded`), but it never sees plaintext: her
//! words reach them only if the withdrawing node encrypts the withdrawal
//! envelope to them. The node learns who they are from the case's
//! disclosure record, which names the consent each delivery relied on.

use std::collections::BTreeSet;

use crate::protocol::{AgencyId, CaseId, ConsentId};

use super::Node;

/// Every agency that sent something under `consent` on `case` or holds it,
/// except this one, in agency order. Empty when the disclosure record cannot
/// be read (this agency is not involved in the case, or the hub is not
/// reachable): the withdrawal then goes to the hub alone, and the hub's
/// notices still reach everyone, naming the withdrawal envelope.
pub async fn concerned(node: &Node, case: &CaseId, consent: ConsentId) -> Vec<AgencyId> {
    let Ok(record) = node.disclosures(case).await else {
        return Vec::new();
    };
    let under: BTreeSet<AgencyId> = record
        .into_iter()
        .filter(|d| d.consent_id == Some(consent))
        .flat_map(|d| {
            // A recipient whose copy never arrived holds nothing under it.
            let holds = d.delivered_at.is_some() && !d.cancelled;
            d.sender.into_iter().chain(holds.then_some(d.recipient))
        })
        .filter(|a| a != node.id())
        .collect();
    under.into_iter().collect()
}
