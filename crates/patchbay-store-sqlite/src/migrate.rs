//! Embedded migrations and the tiny runner that applies them.
//!
//! Each migration runs in its own `BEGIN IMMEDIATE` transaction, so two
//! processes opening one file at once apply it exactly once. A database
//! migrated by a newer build (an unknown version) is refused rather than
//! used with a schema this build does not know.

use patchbay_core::{Error, Result};
use sqlx::SqlitePool;

use crate::error::storage;

/// `(version, description, sql)`, in order.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "profiles",
        include_str!("../migrations/0001_profiles.sql"),
    ),
    (
        2,
        "key checks",
        include_str!("../migrations/0002_key_checks.sql"),
    ),
    (3, "tenants", include_str!("../migrations/0003_tenants.sql")),
    (4, "labels", include_str!("../migrations/0004_labels.sql")),
    (5, "audit", include_str!("../migrations/0005_audit.sql")),
    (
        6,
        "dependent names",
        include_str!("../migrations/0006_dependent_names.sql"),
    ),
];

const LEDGER: &str = "CREATE TABLE IF NOT EXISTS patchbay_migrations (
    version INTEGER NOT NULL PRIMARY KEY,
    description TEXT NOT NULL,
    applied_at INTEGER NOT NULL
) STRICT";

/// Applies every migration not yet applied. Returns how many ran.
pub(crate) async fn run(pool: &SqlitePool) -> Result<usize> {
    let mut conn = pool
        .acquire()
        .await
        .map_err(|e| storage("connect for migrations", e))?;
    sqlx::query(LEDGER)
        .execute(&mut *conn)
        .await
        .map_err(|e| storage("create the migration ledger", e))?;
    let latest = MIGRATIONS.last().map_or(0, |m| m.0);
    let mut applied = 0;
    for &(version, description, sql) in MIGRATIONS {
        sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut *conn)
            .await
            .map_err(|e| storage("begin a migration", e))?;
        let outcome = apply(&mut conn, version, description, sql, latest).await;
        let end = if matches!(outcome, Ok(true)) {
            "COMMIT"
        } else {
            "ROLLBACK"
        };
        let ended = sqlx::query(end).execute(&mut *conn).await;
        if outcome? {
            ended.map_err(|e| storage("commit a migration", e))?;
            tracing::info!(version, description, "sqlite store: migration applied");
            applied += 1;
        }
    }
    Ok(applied)
}

/// Applies one migration inside the open transaction; `Ok(false)` when it
/// was already applied.
async fn apply(
    conn: &mut sqlx::SqliteConnection,
    version: i64,
    description: &str,
    sql: &str,
    latest: i64,
) -> Result<bool> {
    let newest: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM patchbay_migrations")
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| storage("read the migration ledger", e))?;
    if let Some(newest) = newest.filter(|n| *n > latest) {
        return Err(Error::Storage {
            message: format!(
                "sqlite store: the database is at schema version {newest}, newer than this build's {latest}"
            ),
            source: None,
        });
    }
    if newest.is_some_and(|n| n >= version) {
        return Ok(false);
    }
    sqlx::raw_sql(sql)
        .execute(&mut *conn)
        .await
        .map_err(|e| storage(&format!("migration {version} ({description})"), e))?;
    sqlx::query("INSERT INTO patchbay_migrations (version, description, applied_at) VALUES (?, ?, unixepoch())")
        .bind(version)
        .bind(description)
        .execute(&mut *conn)
        .await
        .map_err(|e| storage("record a migration", e))?;
    Ok(true)
}
