//! Embedded migrations and the runner that applies them to one schema.
//!
//! Everything runs in one transaction under an advisory lock keyed by the
//! schema name, so replicas starting together apply each migration once,
//! and a failed migration leaves nothing behind (Postgres DDL is
//! transactional). A schema migrated by a newer build is refused.

use patchbay_core::{Error, Result};
use sqlx::{Executor, PgConnection, PgPool};

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
        "change feed",
        include_str!("../migrations/0002_change_feed.sql"),
    ),
    (
        3,
        "key checks",
        include_str!("../migrations/0003_key_checks.sql"),
    ),
    (4, "tenants", include_str!("../migrations/0004_tenants.sql")),
    (5, "labels", include_str!("../migrations/0005_labels.sql")),
    (6, "audit", include_str!("../migrations/0006_audit.sql")),
    (
        7,
        "dependent names",
        include_str!("../migrations/0007_dependent_names.sql"),
    ),
    (
        8,
        "label index",
        include_str!("../migrations/0008_label_index.sql"),
    ),
];

const LEDGER: &str = "CREATE TABLE IF NOT EXISTS patchbay_migrations (
    version BIGINT NOT NULL PRIMARY KEY,
    description TEXT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
)";

/// Applies every migration not yet applied in `schema`; returns how many ran.
///
/// Statements go through `Executor::execute` rather than `sqlx::raw_sql`:
/// with the latter rustc cannot prove this future `Send` for every
/// lifetime, and `PostgresStore::connect` could not be spawned.
pub(crate) async fn run(pool: &PgPool, schema: &str) -> Result<usize> {
    let mut conn = pool
        .acquire()
        .await
        .map_err(|e| storage("connect for migrations", e))?;
    conn.execute("BEGIN")
        .await
        .map_err(|e| storage("begin migrations", e))?;
    let outcome = apply(&mut conn, schema).await;
    let end = if outcome.is_ok() {
        "COMMIT"
    } else {
        "ROLLBACK"
    };
    let ended = conn.execute(end).await;
    let applied = outcome?;
    ended.map_err(|e| storage("commit migrations", e))?;
    Ok(applied)
}

/// The migrations, inside the transaction `run` opened.
async fn apply(conn: &mut PgConnection, schema: &str) -> Result<usize> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
        .bind(format!("patchbay-migrations:{schema}"))
        .execute(&mut *conn)
        .await
        .map_err(|e| storage("take the migration lock", e))?;
    // The schema name was checked to be a plain identifier.
    let setup = format!(
        "CREATE SCHEMA IF NOT EXISTS \"{schema}\"; SET LOCAL search_path TO \"{schema}\"; {LEDGER}"
    );
    (&mut *conn)
        .execute(setup.as_str())
        .await
        .map_err(|e| storage("create the schema and migration ledger", e))?;
    let newest: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM patchbay_migrations")
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| storage("read the migration ledger", e))?;
    let latest = MIGRATIONS.last().map_or(0, |m| m.0);
    if let Some(newest) = newest.filter(|n| *n > latest) {
        return Err(Error::Storage {
            message: format!(
                "postgres store: schema {schema} is at version {newest}, newer than this build's {latest}"
            ),
            source: None,
        });
    }
    let mut applied = 0;
    for &(version, description, sql) in MIGRATIONS {
        if newest.is_some_and(|n| n >= version) {
            continue;
        }
        (&mut *conn)
            .execute(sql)
            .await
            .map_err(|e| storage(&format!("migration {version} ({description})"), e))?;
        sqlx::query("INSERT INTO patchbay_migrations (version, description) VALUES ($1, $2)")
            .bind(version)
            .bind(description)
            .execute(&mut *conn)
            .await
            .map_err(|e| storage("record a migration", e))?;
        tracing::info!(
            version,
            description,
            schema,
            "postgres store: migration applied"
        );
        applied += 1;
    }
    Ok(applied)
}
