//! [`PostgresStore`]: connecting, migrating, and the pool.

use std::sync::Arc;

use patchbay_core::{Dependent, ProfileId, Result, TenantId};
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;

use crate::config::{check_schema, PostgresConfig};
use crate::error::storage;
use crate::key_checks::KeyCheckSql;
use crate::migrate;
use crate::queries::Queries;

/// Profiles in one schema of a Postgres database. Cheap to clone.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pub(crate) pool: PgPool,
    schema: Arc<str>,
    pub(crate) sql: Arc<Queries>,
    pub(crate) key_sql: Arc<KeyCheckSql>,
    pub(crate) audit_sql: Arc<crate::audit::AuditSql>,
}

impl PostgresStore {
    /// Connects to `url`, keeping the tables in `schema`, with default
    /// options, and runs the embedded migrations.
    ///
    /// # Errors
    /// `VALIDATION` for a bad URL or schema name; `STORAGE` when the server
    /// is unreachable or a migration fails.
    pub async fn connect(url: &str, schema: &str) -> Result<Self> {
        Self::connect_with(PostgresConfig::new(url, schema)).await
    }

    /// Connects with explicit options.
    ///
    /// # Errors
    /// As for [`connect`](Self::connect).
    pub async fn connect_with(config: PostgresConfig) -> Result<Self> {
        check_schema(&config.schema)?;
        let pool = PgPoolOptions::new()
            .max_connections(config.max_connections.max(1))
            .acquire_timeout(config.acquire_timeout)
            // A pooled connection is pinged before use, so connections that
            // died with a server restart are replaced instead of failing calls.
            .test_before_acquire(true)
            .connect_with(config.connect_options()?)
            .await
            .map_err(|e| storage("connect", e))?;
        let store = Self {
            pool,
            sql: Arc::new(Queries::new(&config.schema)),
            key_sql: Arc::new(KeyCheckSql::new(&config.schema)),
            audit_sql: Arc::new(crate::audit::AuditSql::new(&config.schema)),
            schema: config.schema.into(),
        };
        if config.migrate_on_open {
            store.migrate().await?;
        }
        Ok(store)
    }

    /// Creates the schema when missing and applies the embedded migrations
    /// not yet applied; returns how many ran. Safe from many replicas at once.
    ///
    /// # Errors
    /// `STORAGE` when a migration fails or the schema comes from a newer build.
    pub async fn migrate(&self) -> Result<usize> {
        migrate::run(&self.pool, &self.schema).await
    }

    /// The schema holding the tables.
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// The underlying pool, for diagnostics and host-side queries.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Closes every pooled connection.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub(crate) async fn exists(&self, tenant: &TenantId, id: &ProfileId) -> Result<bool> {
        let row = sqlx::query(&self.sql.exists)
            .bind(id.as_str())
            .bind(tenant.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| storage("look up a profile", e))?;
        Ok(row.is_some())
    }

    pub(crate) async fn dependents_of(
        &self,
        tenant: &TenantId,
        id: &ProfileId,
    ) -> Result<Vec<Dependent>> {
        let rows: Vec<(String, String)> = sqlx::query_as(&self.sql.dependents)
            .bind(id.as_str())
            .bind(tenant.as_str())
            .fetch_all(&self.pool)
            .await
            .map_err(|e| storage("list dependents", e))?;
        Ok(rows
            .into_iter()
            .map(|(kind, dep)| Dependent::new(kind, dep))
            .collect())
    }
}
