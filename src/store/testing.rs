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
    Some(with_database(&base, &name))
}

/// `server` with its database path replaced by `name` (scheme, credentials,
/// host and query kept).
pub fn with_database(server: &str, name: &str) -> String {
    let (head, query) = match server.split_once('?') {
        Some((head, query)) => (head, format!("?{query}")),
        None => (server, String::new()),
    };
    let authority = head.find("://").map_or(0, |i| i + 3);
    let base = match head[authority..].find('/') {
        Some(i) => &head[..authority + i],
        None => head,
    };
    format!("{base}/{name}{query}")
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn the_database_path_is_replaced_and_the_rest_kept() {
        assert_eq!(
            with_database(
                "postgres://u:p@localhost:5432/postgres?sslmode=disable",
                "b"
            ),
            "postgres://u:p@localhost:5432/b?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://localhost", "b"),
            "postgres://localhost/b"
        );
        assert_eq!(
            with_database("postgres:///postgres?host=/run/postgresql", "b"),
            "postgres:///b?host=/run/postgresql"
        );
    }
}
