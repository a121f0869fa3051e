//! The contract between hub and agency nodes: identifiers, the envelope, socket
//! frames, error codes and the encrypted payloads. Everything here is
//! serialized on the wire; see `docs/protocol.md`.

pub mod action;
pub mod agency;
pub mod api;
pub mod attachment;
mod b64;
pub mod basis;
pub mod case;
pub mod category;
pub mod checkpoint;
pub mod consent;
pub mod coverage;
pub mod day;
pub mod envelope;
pub mod epoch;
pub mod error;
pub mod frame;
pub mod ids;
pub mod keys;
pub mod meeting;
pub mod notice;
pub mod payload;
pub mod plan;
pub mod referral;
pub mod referral_state;
pub mod referral_text;

pub use action::Action;
pub use agency::{Agency, AgencyKind, PublishedDirectory, RetiredKey};
pub use basis::{LegalBasis, Purpose};
pub use category::InfoCategory;
pub use envelope::{Envelope, MessageKind, Metadata, Urgency};
pub use error::{ErrorBody, ErrorCode};
pub use frame::{ClientFrame, HubFrame};
pub use ids::{AgencyId, CaseId, ConsentId, EnvelopeId, MeetingId, PlanId, Seq, Timestamp};
pub use notice::Notice;
pub use referral_state::ReferralState;
