//! The agency node: its connection to the hub, its own records and the staff CLI.

pub mod choices;
pub mod client;
pub mod config;
pub mod node;
pub mod outbox;
pub mod referral_flags;
pub mod sealed;
mod wake;

pub use config::AgencyConfig;
pub use node::{Node, NodeError, NodeEvent, Sent};
pub use sealed::Draft;
