//! Building a referral from command-line flags (being written).
