//! Databases for tests: a temporary SQLite file, or a fresh PostgreSQL
//! database when `TSUNAGU_TEST_PG_URL` names a server (CI sets it).

use std::path::Path;

use sqlx::Connection;

/// Environment variable naming a PostgreSQL server for tests, e.g.
/// `postgres://postgres@localhost/postgres`.
pub const PG_URL_VAR: &str = "TSUNAGU_TEST_PG_URL";

/// A SQLite URL for a database file in `dir`.
pub fn sqlite_url(dir: &Path, name: &str) -> String {
    format!("sqlite:{}", dir.join(name).display())
}

/// A fresh, empty PostgreSQL database on the test server, or `None` (with a
/// printed notice) when no server is configured.
pub async fn fresh_pg_url(test: &str) -> Option<String> {
    let Ok(base) = std::env::var(PG_URL_VAR) else {
        eprintln!("SKIPPED {test}: PostgreSQL test (set {PG_URL_VAR} to run it; .ci/run does)");
        return None;
    };
    let name = format!("tsunagu_test_{}", uuid::Uuid::new_v4().simple());
    let mut admin = sqlx::PgConnection::connect(&base)
        .await
        .unwrap_or_else(|e| panic!("{PG_URL_VAR}={base} is set but unreachable: {e}"));
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .unwrap_or_else(|e| panic!("cannot create test database: {e}"));
    let (head, query) = match base.split_once('?') {
        Some((h, q)) => (h, format!("?{q}")),
        None => (base.as_str(), String::new()),
    };
    // Keep scheme, credentials and host; replace the database path.
    let authority_start = head.find("://").map_or(0, |i| i + 3);
    let server = match head[authority_start..].find('/') {
        Some(i) => &head[..authority_start + i],
        None => head,
    };
    Some(format!("{server}/{name}{query}"))
}
