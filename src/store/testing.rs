//! Databases for tests: a temporary SQLite file, or a fresh PostgreSQL
//! database on the server `TSUNAGU_TEST_PG_URL` names or, when it is unset,
//! on a throwaway cluster the tests start themselves (`cluster`).
//!
//! build.rs sets `cfg(tsunagu_pg)` when either is available; PostgreSQL
//! tests carry `#[cfg_attr(not(tsunagu_pg), ignore = "…")]` so that without
//! PostgreSQL they are reported as ignored, never as passed.

pub mod cluster;

use std::path::Path;

use sqlx::Connection;

/// Environment variable naming a PostgreSQL server for tests, e.g.
/// `postgres://postgres@localhost/postgres`. It wins over the throwaway
/// cluster.
pub const PG_URL_VAR: &str = "TSUNAGU_TEST_PG_URL";

/// A SQLite URL for a database file in `dir`.
pub fn sqlite_url(dir: &Path, name: &str) -> String {
    format!("sqlite:{}", dir.join(name).display())
}

/// The PostgreSQL server tests use: `TSUNAGU_TEST_PG_URL`, else this
/// process's throwaway cluster (started on first use).
///
/// # Panics
/// When neither is available: a test that needs PostgreSQL fails rather
/// than passes without it.
pub async fn pg_server_url() -> String {
    if let Ok(url) = std::env::var(PG_URL_VAR) {
        return url;
    }
    match tokio::task::spawn_blocking(cluster::shared_url).await {
        Ok(Ok(url)) => url.to_owned(),
        Ok(Err(e)) => panic!("no PostgreSQL for this test: {e}"),
        Err(e) => panic!("starting PostgreSQL failed: {e}"),
    }
}

/// A fresh, empty PostgreSQL database on the test server (see
/// `pg_server_url`, which panics when there is none).
pub async fn fresh_pg_url() -> String {
    let base = pg_server_url().await;
    let name = format!("tsunagu_test_{}", uuid::Uuid::new_v4().simple());
    let mut admin = sqlx::PgConnection::connect(&base)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {base} is unreachable: {e}"));
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .unwrap_or_else(|e| panic!("cannot create test database: {e}"));
    // One connection slot less held for the rest of the test.
    let _ = admin.close().await;
    with_database(&base, &name)
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
