//! tsunagu — a secure referral and messaging hub for the agencies that support
//! pregnant women, infants and their families. See `docs/` and the README.
#![forbid(unsafe_code)]

pub mod agency;
pub mod cli;
pub mod crypto;
pub mod directory;
pub mod fleet;
mod http1;
pub mod hub;
pub mod i18n;
pub mod protocol;
pub mod provision;
pub mod store;

#[cfg(test)]
mod layers;
