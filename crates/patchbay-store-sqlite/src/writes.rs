//! The writes, each in one `BEGIN IMMEDIATE` transaction that also records
//! its audit event when given one: a committed write always has its event,
//! a rolled-back one never. The trait methods move the revision after each,
//! once it is committed (even on error: a failure may come after the commit).

use patchbay_core::profile::name_key;
use patchbay_core::{AuditEvent, Dependent, Error, Profile, ProfileId, Result, TenantId};
use sqlx::{Sqlite, SqliteConnection, Transaction};

use crate::audit::insert_event;
use crate::error::{is_foreign_key_violation, is_unique_violation, storage};
use crate::queries::{self as q, micros};
use crate::store::SqliteStore;

fn not_found(id: &ProfileId) -> Error {
    Error::NotFound(id.to_string())
}

impl SqliteStore {
    /// A write transaction: IMMEDIATE, so it holds the write lock from the
    /// start and never fails to upgrade a read lock halfway.
    async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>> {
        self.pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(|e| storage("begin a write", e))
    }

    /// Records `event` in `tx`, then commits.
    async fn finish(
        mut tx: Transaction<'static, Sqlite>,
        event: Option<&AuditEvent>,
    ) -> Result<()> {
        if let Some(event) = event {
            insert_event(&mut tx, event).await?;
        }
        tx.commit().await.map_err(|e| storage("commit a write", e))
    }

    pub(crate) async fn create_row(&self, p: &Profile, event: Option<&AuditEvent>) -> Result<()> {
        let (config, labels, secrets) = q::encode_json(p);
        let mut tx = self.begin_write().await?;
        let result = sqlx::query(q::INSERT)
            .bind(p.id.as_str())
            .bind(p.tenant.as_str())
            .bind(&p.name)
            .bind(name_key(&p.name))
            .bind(&p.connector)
            .bind(&p.description)
            .bind(config)
            .bind(labels)
            .bind(secrets)
            .bind(micros(p.created_at))
            .bind(micros(p.updated_at))
            .bind(p.version as i64)
            .execute(&mut *tx)
            .await;
        match result {
            Ok(_) => Self::finish(tx, event).await,
            Err(e) if is_unique_violation(&e) => Err(Error::AlreadyExists {
                name: p.name.clone(),
            }),
            Err(e) => Err(storage("create a profile", e)),
        }
    }

    pub(crate) async fn update_row(
        &self,
        p: &Profile,
        expected_version: u64,
        event: Option<&AuditEvent>,
    ) -> Result<()> {
        let (config, labels, secrets) = q::encode_json(p);
        let mut tx = self.begin_write().await?;
        let result = sqlx::query(q::UPDATE)
            .bind(&p.name)
            .bind(name_key(&p.name))
            .bind(&p.connector)
            .bind(&p.description)
            .bind(config)
            .bind(labels)
            .bind(secrets)
            .bind(micros(p.created_at))
            .bind(micros(p.updated_at))
            .bind(p.version as i64)
            .bind(p.id.as_str())
            .bind(p.tenant.as_str())
            .bind(expected_version as i64)
            .execute(&mut *tx)
            .await;
        match result {
            Ok(done) if done.rows_affected() == 1 => Self::finish(tx, event).await,
            Ok(_) => {
                let actual: Option<i64> = sqlx::query_scalar(q::VERSION_OF)
                    .bind(p.id.as_str())
                    .bind(p.tenant.as_str())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(|e| storage("read a profile version", e))?;
                match actual {
                    None => Err(not_found(&p.id)),
                    Some(actual) => Err(Error::VersionConflict {
                        id: p.id.to_string(),
                        expected: expected_version,
                        actual: actual as u64,
                    }),
                }
            }
            Err(e) if is_unique_violation(&e) => Err(Error::AlreadyExists {
                name: p.name.clone(),
            }),
            Err(e) => Err(storage("update a profile", e)),
        }
    }

    pub(crate) async fn delete_row(
        &self,
        tenant: &TenantId,
        id: &ProfileId,
        event: Option<&AuditEvent>,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        // The foreign key decides; a refusal is explained by the dependents,
        // read in the same transaction (the write lock keeps them still).
        match sqlx::query(q::DELETE)
            .bind(id.as_str())
            .bind(tenant.as_str())
            .execute(&mut *tx)
            .await
        {
            Ok(done) if done.rows_affected() == 1 => Self::finish(tx, event).await,
            Ok(_) => Err(not_found(id)),
            Err(e) if is_foreign_key_violation(&e) => Err(Error::InUse {
                id: id.to_string(),
                dependents: dependents_in(&mut tx, tenant, id).await?,
            }),
            Err(e) => Err(storage("delete a profile", e)),
        }
    }

    pub(crate) async fn attach_row(
        &self,
        tenant: &TenantId,
        id: &ProfileId,
        d: &Dependent,
        event: Option<&AuditEvent>,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        attach_in(&mut tx, tenant, id, d).await?;
        Self::finish(tx, event).await
    }

    /// The attachment and its name row in one transaction: a name taken
    /// rolls the attachment back too.
    pub(crate) async fn attach_named_row(
        &self,
        tenant: &TenantId,
        id: &ProfileId,
        d: &Dependent,
        event: Option<&AuditEvent>,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        attach_in(&mut tx, tenant, id, d).await?;
        let claimed = sqlx::query(q::CLAIM_NAME)
            .bind(tenant.as_str())
            .bind(&d.kind)
            .bind(&d.id)
            .bind(id.as_str())
            .execute(&mut *tx)
            .await;
        match claimed {
            Ok(_) => Self::finish(tx, event).await,
            Err(e) if is_unique_violation(&e) => Err(Error::AlreadyExists { name: d.id.clone() }),
            Err(e) => Err(storage("name a dependent", e)),
        }
    }

    pub(crate) async fn detach_row(
        &self,
        tenant: &TenantId,
        id: &ProfileId,
        d: &Dependent,
        event: Option<&AuditEvent>,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(q::DETACH)
            .bind(id.as_str())
            .bind(&d.kind)
            .bind(&d.id)
            .bind(tenant.as_str())
            .execute(&mut *tx)
            .await
            .map_err(|e| storage("detach a dependent", e))?;
        let detached = done.rows_affected() == 1;
        if !detached && !exists_in(&mut tx, tenant, id).await? {
            return Err(not_found(id));
        }
        Self::finish(tx, event).await?;
        Ok(detached)
    }
}

/// Attaches in `conn`'s transaction; attached already is a no-op.
async fn attach_in(
    conn: &mut SqliteConnection,
    tenant: &TenantId,
    id: &ProfileId,
    d: &Dependent,
) -> Result<()> {
    let result = sqlx::query(q::ATTACH)
        .bind(id.as_str())
        .bind(&d.kind)
        .bind(&d.id)
        .bind(tenant.as_str())
        .execute(&mut *conn)
        .await;
    match result {
        Ok(done) if done.rows_affected() == 1 => Ok(()),
        // Attached already (a no-op), or no such profile in this tenant.
        Ok(_) if exists_in(conn, tenant, id).await? => Ok(()),
        Ok(_) => Err(not_found(id)),
        Err(e) if is_foreign_key_violation(&e) => Err(not_found(id)),
        Err(e) => Err(storage("attach a dependent", e)),
    }
}

async fn exists_in(conn: &mut SqliteConnection, tenant: &TenantId, id: &ProfileId) -> Result<bool> {
    let row = sqlx::query(q::EXISTS)
        .bind(id.as_str())
        .bind(tenant.as_str())
        .fetch_optional(conn)
        .await
        .map_err(|e| storage("look up a profile", e))?;
    Ok(row.is_some())
}

async fn dependents_in(
    conn: &mut SqliteConnection,
    tenant: &TenantId,
    id: &ProfileId,
) -> Result<Vec<Dependent>> {
    let rows: Vec<(String, String)> = sqlx::query_as(q::DEPENDENTS)
        .bind(id.as_str())
        .bind(tenant.as_str())
        .fetch_all(conn)
        .await
        .map_err(|e| storage("list dependents", e))?;
    Ok(rows
        .into_iter()
        .map(|(kind, dep)| Dependent::new(kind, dep))
        .collect())
}
