//! End-to-end tests: a real hub over real TLS on 127.0.0.1, real agency
//! nodes, real databases. One binary so it compiles once.

mod api;
mod audit;
mod cli;
mod consent;
mod delivery;
mod faulty;
mod helpers;
mod notes;
mod outbox;
mod referral_loop;
mod refusals;
mod signed_bytes;
