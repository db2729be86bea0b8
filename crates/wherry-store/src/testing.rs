//! A harness for tests that need a store: a fresh one on every backend the
//! run can reach (behind the `testing` feature; for this crate's tests and
//! its dependents').
//!
//! SQLite: a file in a temporary directory. PostgreSQL: a database with a
//! unique name created from `WHERRY_TEST_DATABASE_URL` and dropped after the
//! test. Unset, the URL is the local PostgreSQL ([`LOCAL_POSTGRES`]); if it
//! does not answer the test fails saying how to provide one. Only
//! `WHERRY_TEST_DATABASE_URL=none` skips PostgreSQL, with a notice, and CI
//! (`CI=true`) refuses even that: the suite must run on both.

use std::sync::atomic::{AtomicU32, Ordering};

use crate::Store;

/// A store under test and what to clean up.
pub struct TestStore {
    /// The store.
    pub store: Store,
    /// Its URL.
    pub url: String,
    /// `sqlite` or `postgres`.
    pub name: &'static str,
    cleanup: Cleanup,
}

enum Cleanup {
    Dir(#[allow(dead_code)] tempfile::TempDir),
    Database { admin_url: String, db: String },
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// The PostgreSQL the suite uses when `WHERRY_TEST_DATABASE_URL` is unset:
/// the local one, as a developer's machine and CI have it.
pub const LOCAL_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/test";

/// `WHERRY_TEST_DATABASE_URL`, else the local PostgreSQL; `None` only when
/// it is set to `none` on purpose (SQLite alone: said loudly, refused in
/// CI), so a plain `cargo test` never passes with half the suite unrun.
fn admin_url() -> Option<String> {
    match std::env::var("WHERRY_TEST_DATABASE_URL") {
        Ok(u) if u == "none" => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI runs the store tests on PostgreSQL: WHERRY_TEST_DATABASE_URL=none is refused"
            );
            eprintln!(
                "notice: WHERRY_TEST_DATABASE_URL=none: PostgreSQL store tests skipped; this is not a full run"
            );
            None
        }
        Ok(u) if !u.is_empty() => Some(u),
        _ => Some(LOCAL_POSTGRES.to_string()),
    }
}

/// Swaps the database name at the end of a PostgreSQL URL.
fn with_database(url: &str, db: &str) -> String {
    let (base, _) = url.rsplit_once('/').expect("URL names a database");
    format!("{base}/{db}")
}

async fn postgres() -> Option<TestStore> {
    let admin_url = admin_url()?;
    let admin = sqlx::postgres::PgPoolOptions::new()
        .acquire_timeout(std::time::Duration::from_secs(5))
        .connect(&admin_url)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "The tests run on SQLite and PostgreSQL, and PostgreSQL did not answer at {admin_url}: {e}.\n\
                 Start it (Debian: apt-get install postgresql && service postgresql start), or point \
                 WHERRY_TEST_DATABASE_URL at one whose user may create databases. \
                 WHERRY_TEST_DATABASE_URL=none runs SQLite alone (not a full run)."
            )
        });
    // Databases left by runs that were killed: their process is gone.
    let stale: Vec<(String,)> =
        sqlx::query_as("SELECT datname FROM pg_database WHERE datname LIKE 'wherry_test_%'")
            .fetch_all(&admin)
            .await
            .unwrap();
    for (name,) in stale {
        let pid = name.split('_').nth(2).unwrap_or("");
        if !std::path::Path::new("/proc").join(pid).exists() {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
            )))
            .execute(&admin)
            .await;
        }
    }
    let db = format!(
        "wherry_test_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    );
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{db}\"")))
        .execute(&admin)
        .await
        .unwrap();
    admin.close().await;
    let url = with_database(&admin_url, &db);
    let store = Store::connect(&url).await.unwrap();
    Some(TestStore {
        store,
        url,
        name: "postgres",
        cleanup: Cleanup::Database { admin_url, db },
    })
}

async fn sqlite() -> TestStore {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("wherry.db").display());
    let store = Store::connect(&url).await.unwrap();
    TestStore {
        store,
        url,
        name: "sqlite",
        cleanup: Cleanup::Dir(dir),
    }
}

/// A fresh, empty store on each backend this run can reach.
pub async fn stores() -> Vec<TestStore> {
    let mut out = vec![sqlite().await];
    out.extend(postgres().await);
    out
}

impl TestStore {
    /// Runs one statement of the test's own on the store (to break it on
    /// purpose, say).
    pub async fn execute(&self, sql: &'static str) {
        match &self.store.pool {
            crate::Pool::Sqlite(p) => sqlx::query(sql).execute(p).await.map(|_| ()),
            crate::Pool::Postgres(p) => sqlx::query(sql).execute(p).await.map(|_| ()),
        }
        .unwrap();
    }

    /// Closes the store and removes its database.
    pub async fn finish(self) {
        self.store.close().await;
        if let Cleanup::Database { admin_url, db } = self.cleanup {
            let admin = sqlx::PgPool::connect(&admin_url).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)"
            )))
            .execute(&admin)
            .await
            .unwrap();
            admin.close().await;
        }
    }
}
