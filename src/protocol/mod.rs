//! The contract between hub and agency nodes: identifiers, the envelope, socket
//! frames, error codes and the encrypted payloads. Everything here is
//! serialized on the wire; see `docs/protocol.md`.

mod b64;
pub mod category;
pub mod envelope;
pub mod error;
pub mod frame;
pub mod ids;
pub mod payload;
pub mod referral;
pub mod referral_text;

pub use category::InfoCategory;
pub use envelope::{Envelope, MessageKind, Metadata, Urgency};
pub use error::{ErrorBody, ErrorCode};
pub use frame::{ClientFrame, HubFrame};
pub use ids::{AgencyId, CaseId, EnvelopeId, Seq, Timestamp};
