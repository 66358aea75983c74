//! Embedded migrations and the runner that applies them to one schema.
//!
//! Everything runs in one transaction under an advisory lock keyed by the
//! schema name, so replicas starting together apply each migration once,
//! and a failed migration leaves nothing behind (Postgres DDL is
//! transactional). A schema migrated by a newer build is refused.

use patchbay_core::{Error, Result};
use sqlx::PgPool;

use crate::error::storage;

/// `(version, description, sql)`, in order.
const MIGRATIONS: &[(i64, &str, &str)] = &[(
    1,
    "profiles",
    include_str!("../migrations/0001_profiles.sql"),
)];

const LEDGER: &str = "CREATE TABLE IF NOT EXISTS patchbay_migrations (
    version BIGINT NOT NULL PRIMARY KEY,
    description TEXT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
)";

/// Applies every migration not yet applied in `schema`; returns how many ran.
pub(crate) async fn run(pool: &PgPool, schema: &str) -> Result<usize> {
    let fail = |what: &str| {
        let what = what.to_owned();
        move |e| storage(&what, e)
    };
    let mut tx = pool.begin().await.map_err(fail("begin migrations"))?;
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
        .bind(format!("patchbay-migrations:{schema}"))
        .execute(&mut *tx)
        .await
        .map_err(fail("take the migration lock"))?;
    // The schema name was checked to be a plain identifier.
    sqlx::raw_sql(&format!(
        "CREATE SCHEMA IF NOT EXISTS \"{schema}\"; SET LOCAL search_path TO \"{schema}\"; {LEDGER}"
    ))
    .execute(&mut *tx)
    .await
    .map_err(fail("create the schema and migration ledger"))?;
    let newest: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM patchbay_migrations")
        .fetch_one(&mut *tx)
        .await
        .map_err(fail("read the migration ledger"))?;
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
        sqlx::raw_sql(sql)
            .execute(&mut *tx)
            .await
            .map_err(fail(&format!("migration {version} ({description})")))?;
        sqlx::query("INSERT INTO patchbay_migrations (version, description) VALUES ($1, $2)")
            .bind(version)
            .bind(description)
            .execute(&mut *tx)
            .await
            .map_err(fail("record a migration"))?;
        tracing::info!(
            version,
            description,
            schema,
            "postgres store: migration applied"
        );
        applied += 1;
    }
    tx.commit().await.map_err(fail("commit migrations"))?;
    Ok(applied)
}
