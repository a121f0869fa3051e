//! The agency node: its connection to the hub, its own records and the staff CLI.

pub mod referral_flags;
