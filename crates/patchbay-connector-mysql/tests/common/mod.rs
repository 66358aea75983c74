//! Helpers shared by the live MariaDB tests: an admin connection, unique
//! names, users, configs, session counts, cleanup even when a test fails.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use serde_json::{json, Value};
use sqlx::{Connection, Executor, MySqlConnection, Row};

pub const ADMIN_URL: &str = "mysql://root@127.0.0.1:3306/test";
pub const BULK_SCHEMA: &str = "patchbay_bulk_10k";

/// An admin connection, or `None` (test skipped) when MariaDB is not
/// running here and CI is not set.
pub async fn admin() -> Option<MySqlConnection> {
    patchbay_testkit::net::require(
        "MariaDB on 127.0.0.1:3306",
        "systemctl start mariadb (user root, empty password)",
        MySqlConnection::connect(ADMIN_URL).await,
    )
}

/// A name no other test (or earlier run) uses.
pub fn unique(stem: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "pb_{stem}_{}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed),
        nanos % 1_000_000
    )
}

/// A config for `user` / `password`, TLS off, no default database.
pub fn config(user: &str, password: &str) -> Value {
    json!({
        "host": "127.0.0.1",
        "port": 3306,
        "username": user,
        "password": password,
        "tls_mode": "disable",
    })
}

/// Runs `statements` on a fresh admin connection when dropped (own thread
/// and runtime), so cleanup happens even when the test panics.
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
                let Ok(mut conn) = MySqlConnection::connect(ADMIN_URL).await else {
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

/// A user with a password, allowed from anywhere, with a guard dropping it.
pub async fn user(admin: &mut MySqlConnection, stem: &str, password: &str) -> (String, Cleanup) {
    let name = unique(stem);
    // Names are generated here and passwords are test constants without quotes.
    assert!(!password.contains('\''));
    admin
        .execute(format!("CREATE USER '{name}'@'%' IDENTIFIED BY '{password}'").as_str())
        .await
        .unwrap();
    let guard = Cleanup(vec![format!("DROP USER IF EXISTS '{name}'@'%'")]);
    (name, guard)
}

/// Grants `user` SELECT on every table of `database`.
pub async fn grant(admin: &mut MySqlConnection, user: &str, database: &str) {
    admin
        .execute(format!("GRANT SELECT ON `{database}`.* TO '{user}'@'%'").as_str())
        .await
        .unwrap();
}

/// Open sessions of `user`, from information_schema.PROCESSLIST.
pub async fn sessions(admin: &mut MySqlConnection, user: &str) -> i64 {
    sqlx::query("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = ?")
        .bind(user)
        .fetch_one(admin)
        .await
        .unwrap()
        .get(0)
}

/// Waits (up to 30 s, generous for a loaded machine) for `user` to have no session left.
pub async fn assert_no_sessions(admin: &mut MySqlConnection, user: &str) {
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

/// Makes sure the 10,000-table database exists: created once per machine
/// (MyISAM, which creates a table several times faster than InnoDB here),
/// by 8 connections in parallel, serialized between test processes by a
/// named lock. Kept between runs on purpose.
pub async fn ensure_bulk_schema(admin: &mut MySqlConnection) {
    admin
        .execute("SELECT GET_LOCK('patchbay_bulk_10k', 600)")
        .await
        .unwrap();
    let count: i64 =
        sqlx::query("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?")
            .bind(BULK_SCHEMA)
            .fetch_one(&mut *admin)
            .await
            .unwrap()
            .get(0);
    if count < 10_000 {
        admin
            .execute(format!("CREATE DATABASE IF NOT EXISTS {BULK_SCHEMA}").as_str())
            .await
            .unwrap();
        let workers = (0..8).map(|k| async move {
            let mut conn = MySqlConnection::connect(ADMIN_URL).await.unwrap();
            conn.execute(
                include_str!("../bulk_10k.sql")
                    .replace("{K}", &(k + 1).to_string())
                    .as_str(),
            )
            .await
            .unwrap();
            conn.close().await.unwrap();
        });
        let handles: Vec<_> = workers.map(tokio::spawn).collect();
        for h in handles {
            h.await.unwrap();
        }
    }
    admin
        .execute("SELECT RELEASE_LOCK('patchbay_bulk_10k')")
        .await
        .unwrap();
}
