//! The agency node: its connection to the hub and its own records. The staff
//! CLI's argument types live in `cli`.

pub mod client;
pub mod config;
pub mod consents;
pub mod ledger;
pub mod meetings;
pub mod node;
pub mod notes;
pub mod outbox;
pub mod plans;
pub mod referral_update;
pub mod sealed;
pub mod sharing;
pub mod spreadsheet;
pub mod staff;
pub mod support_ledger;
pub mod ui;
mod wake;
pub mod withdrawal;

pub use config::AgencyConfig;
pub use node::{Node, NodeError, NodeEvent, Sent};
pub use sealed::Draft;
