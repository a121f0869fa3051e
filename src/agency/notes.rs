//! Case notes (経過記録・情報共有): building one, and reading back the notes
//! this node sent or received about a case.

use crate::protocol::payload::{Author, Body, Note, Payload};
use crate::protocol::{
    AgencyId, CaseId, EnvelopeId, InfoCategory, LegalBasis, MessageKind, Purpose, Timestamp,
    Urgency,
};
use crate::store::StoreError;
use crate::store::records::Records;

use super::Draft;

/// A case note ready to send: the note is its own body, and its declared
/// categories are exactly the ones the author ticked.
#[allow(clippy::too_many_arguments)]
pub fn note_draft(
    case: CaseId,
    to: Vec<AgencyId>,
    basis: LegalBasis,
    purpose: Purpose,
    text: String,
    categories: Vec<InfoCategory>,
    author: Author,
    justification: Option<String>,
) -> Draft {
    Draft {
        recipients: to,
        case_id: Some(case),
        urgency: Urgency::Normal,
        basis: Some(basis),
        purpose: Some(purpose),
        action: None,
        payload: Payload {
            author,
            body: Body::CaseNote(Note { text, categories }),
            justification,
        },
    }
}

/// Which way a note went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Received from this agency.
    From(String),
    /// Sent to these agencies (JSON list as stored).
    To(Vec<String>),
}

/// One note on a case, as this node holds it.
#[derive(Clone, Debug, PartialEq)]
pub struct CaseNoteEntry {
    /// The envelope.
    pub envelope_id: EnvelopeId,
    /// When it was written.
    pub created_at: Timestamp,
    /// Who it came from or went to.
    pub direction: Direction,
    /// Who wrote it.
    pub author: Author,
    /// The note.
    pub note: Note,
    /// `withdrawn` or `expired` once the consent it was shared under ended.
    pub consent_end_reason: Option<String>,
}

/// Every case note this node sent or received about `case`, oldest first.
pub async fn case_notes(
    records: &Records,
    case: &CaseId,
) -> Result<Vec<CaseNoteEntry>, StoreError> {
    let kind = MessageKind::CaseNote.as_str();
    let on_case = |k: &str, c: &Option<String>| k == kind && c.as_deref() == Some(case.as_str());
    let mut notes = Vec::new();
    for r in records.inbox().await? {
        if on_case(&r.kind, &r.case_id)
            && let Some((author, note)) = read(&r.payload)?
        {
            notes.push(CaseNoteEntry {
                envelope_id: parse_id(&r.envelope_id)?,
                created_at: r.created_at,
                direction: Direction::From(r.sender),
                author,
                note,
                consent_end_reason: r.consent_end_reason,
            });
        }
    }
    for r in records.outbox().await? {
        // A refused note was never shared: it is not part of the case.
        let shared = matches!(r.status.as_str(), "accepted" | "pending");
        if shared
            && on_case(&r.kind, &r.case_id)
            && let Some((author, note)) = read(&r.payload)?
        {
            notes.push(CaseNoteEntry {
                envelope_id: parse_id(&r.envelope_id)?,
                created_at: r.created_at,
                direction: Direction::To(serde_json::from_str(&r.recipients).unwrap_or_default()),
                author,
                note,
                consent_end_reason: None,
            });
        }
    }
    notes.sort_by_key(|n| n.created_at);
    Ok(notes)
}

fn read(payload: &str) -> Result<Option<(Author, Note)>, StoreError> {
    let payload: Payload = serde_json::from_str(payload)
        .map_err(|e| StoreError::Corrupt(format!("stored payload: {e}")))?;
    Ok(match payload.body {
        Body::CaseNote(note) => Some((payload.author, note)),
        _ => None,
    })
}

fn parse_id(id: &str) -> Result<EnvelopeId, StoreError> {
    id.parse()
        .map_err(|_| StoreError::Corrupt(format!("envelope id {id}")))
}
