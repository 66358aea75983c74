//! Helpers shared by the live Postgres tests: an admin connection, unique
//! names, configs, session counts, cleanup that runs even when a test fails.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use serde_json::{json, Value};
use sqlx::{Connection, Executor, PgConnection, Row};

pub const ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
pub const BULK_SCHEMA: &str = "patchbay_bulk_10k";

/// An admin connection, or `None` (test skipped) when Postgres is not
/// running here and CI is not set.
pub async fn admin() -> Option<PgConnection> {
    patchbay_testkit::net::require(
        "PostgreSQL on 127.0.0.1:5432",
        "systemctl start postgresql (user postgres, trust auth on 127.0.0.1)",
        PgConnection::connect(ADMIN_URL).await,
    )
}

/// A name no other test (or earlier run) uses: `pb_<pid>_<n>_<nanos>`.
pub fn unique(stem: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "pb_{stem}_{}_{}_{nanos}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A config for `user` on the local server's `test` database, TLS off.
pub fn config(user: &str) -> Value {
    json!({
        "host": "127.0.0.1",
        "port": 5432,
        "database": "test",
        "username": user,
        "tls_mode": "disable",
    })
}

/// Open sessions of `user`, from pg_stat_activity.
pub async fn sessions(admin: &mut PgConnection, user: &str) -> i64 {
    sqlx::query("SELECT count(*) FROM pg_stat_activity WHERE usename = $1")
        .bind(user)
        .fetch_one(admin)
        .await
        .unwrap()
        .get(0)
}

/// Waits (up to 30 s, generous for a loaded machine) for `user` to have no session left; the server needs
/// a moment to reap a backend after the client said goodbye.
pub async fn assert_no_sessions(admin: &mut PgConnection, user: &str) {
    let mut n = 0;
    for _ in 0..600 {
        n = sessions(admin, user).await;
        if n == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{n} session(s) of {user} still open after the probe");
}

/// Runs `statements` on a fresh admin connection when dropped, on its own
/// thread and runtime, so cleanup happens even when the test panics.
pub struct Cleanup(pub Vec<String>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let statements = std::mem::take(&mut self.0);
        let cleanup = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let Ok(mut conn) = PgConnection::connect(ADMIN_URL).await else {
                    return;
                };
                for s in statements {
                    if let Err(e) = conn.execute(s.as_str()).await {
                        eprintln!("cleanup {s:?} failed: {e}");
                    }
                }
                let _ = conn.close().await;
            });
        });
        let _ = cleanup.join();
    }
}

/// Creates a login role for one test (trust auth: any password works) and
/// returns its name with a guard dropping it.
pub async fn role(admin: &mut PgConnection, stem: &str) -> (String, Cleanup) {
    let name = unique(stem);
    admin
        .execute(format!("CREATE ROLE \"{name}\" LOGIN").as_str())
        .await
        .unwrap();
    let guard = Cleanup(vec![format!("DROP ROLE IF EXISTS \"{name}\"")]);
    (name, guard)
}

/// Makes sure the 10,000-table schema exists (once per machine; serialized
/// between concurrent test processes by an advisory lock).
pub async fn ensure_bulk_schema(admin: &mut PgConnection) {
    admin
        .execute("SELECT pg_advisory_lock(7270010)")
        .await
        .unwrap();
    let count: i64 = sqlx::query(
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = $1 AND c.relkind = 'r'",
    )
    .bind(BULK_SCHEMA)
    .fetch_one(&mut *admin)
    .await
    .unwrap()
    .get(0);
    if count < 10_000 {
        admin
            .execute(include_str!("../bulk_10k.sql"))
            .await
            .unwrap();
    }
    admin
        .execute("SELECT pg_advisory_unlock(7270010)")
        .await
        .unwrap();
}
