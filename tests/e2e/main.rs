//! End-to-end tests: a real hub over real TLS on 127.0.0.1, real agency
//! nodes, real databases. One binary so it compiles once.

/// Runs each named `async fn name(db: Db)` of the calling module on both
/// backends, one definition each: `sqlite::name` and `postgres::name`
/// (filter with `cargo test postgres::`). The PostgreSQL half is reported
/// as ignored where PostgreSQL is not installed (see build.rs).
macro_rules! both_backends {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name($crate::helpers::Db::Sqlite).await
                }
            )+
        }

        mod postgres {
            $(
                #[tokio::test]
                #[cfg_attr(
                    not(tsunagu_pg),
                    ignore = "PostgreSQL not installed: install Debian's postgresql package or set TSUNAGU_TEST_PG_URL"
                )]
                async fn $name() {
                    super::$name($crate::helpers::Db::postgres().await).await
                }
            )+
        }
    };
}

mod api;
mod at_rest;
mod audit;
mod backup;
mod bench;
mod checkpoints;
mod cli;
mod cli_json;
mod cluster;
mod consent;
mod delivery;
mod deploy;
mod directory;
mod doc_examples;
mod faulty;
mod helpers;
mod ledger;
mod limits;
mod logging;
mod meetings;
mod metrics;
mod newer_hub;
mod notes;
mod outbox;
mod plans;
mod processes;
mod referral_loop;
mod refusals;
mod retention;
mod revocation;
mod signed_bytes;
mod staff;
mod support_exchange;
mod support_ledger;
mod support_report;
mod ui;
mod ui_admin;
mod ui_cases;
mod ui_compose;
mod ui_consents;
mod ui_meetings;
mod ui_plans;
mod ui_support;
