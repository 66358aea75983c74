//! The writes, each in one transaction that also records its audit event
//! when given one: a committed write always has its event, a rolled-back
//! one never. The database's constraints decide every race.

use patchbay_core::profile::name_key;
use patchbay_core::{AuditEvent, Dependent, Error, Profile, ProfileId, Result, TenantId};
use sqlx::types::Json;
use sqlx::{Postgres, Transaction};

use crate::error::{is_foreign_key_violation, is_unique_violation, storage};
use crate::store::PostgresStore;

fn not_found(id: &ProfileId) -> Error {
    Error::NotFound(id.to_string())
}

impl PostgresStore {
    async fn begin(&self) -> Result<Transaction<'static, Postgres>> {
        self.pool
            .begin()
            .await
            .map_err(|e| storage("begin a write", e))
    }

    /// Records `event` in `tx`, then commits.
    async fn finish(
        &self,
        mut tx: Transaction<'static, Postgres>,
        event: Option<&AuditEvent>,
    ) -> Result<()> {
        if let Some(event) = event {
            self.audit_sql.insert(&mut tx, event).await?;
        }
        tx.commit().await.map_err(|e| storage("commit a write", e))
    }

    pub(crate) async fn create_row(&self, p: &Profile, event: Option<&AuditEvent>) -> Result<()> {
        let mut tx = self.begin().await?;
        let result = sqlx::query(&self.sql.insert)
            .bind(p.id.as_str())
            .bind(p.tenant.as_str())
            .bind(&p.name)
            .bind(name_key(&p.name))
            .bind(&p.connector)
            .bind(&p.description)
            .bind(Json(&p.config))
            .bind(Json(&p.secrets.0))
            .bind(p.created_at)
            .bind(p.updated_at)
            .bind(p.version as i64)
            .bind(Json(&p.labels))
            .execute(&mut *tx)
            .await;
        match result {
            Ok(_) => self.finish(tx, event).await,
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
        let mut tx = self.begin().await?;
        let result = sqlx::query(&self.sql.update)
            .bind(&p.name)
            .bind(name_key(&p.name))
            .bind(&p.connector)
            .bind(&p.description)
            .bind(Json(&p.config))
            .bind(Json(&p.secrets.0))
            .bind(p.created_at)
            .bind(p.updated_at)
            .bind(p.version as i64)
            .bind(p.id.as_str())
            .bind(p.tenant.as_str())
            .bind(expected_version as i64)
            .bind(Json(&p.labels))
            .execute(&mut *tx)
            .await;
        match result {
            Ok(done) if done.rows_affected() == 1 => self.finish(tx, event).await,
            Ok(_) => {
                let actual: Option<i64> = sqlx::query_scalar(&self.sql.version_of)
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
        // The foreign key decides; a refusal is then explained by reading
        // the dependents (after the failed transaction rolled back). If they
        // were detached in between, try again.
        for _ in 0..3 {
            let mut tx = self.begin().await?;
            match sqlx::query(&self.sql.delete)
                .bind(id.as_str())
                .bind(tenant.as_str())
                .execute(&mut *tx)
                .await
            {
                Ok(done) if done.rows_affected() == 1 => return self.finish(tx, event).await,
                Ok(_) => return Err(not_found(id)),
                Err(e) if is_foreign_key_violation(&e) => {
                    drop(tx);
                    let dependents = self.dependents_of(tenant, id).await?;
                    if !dependents.is_empty() {
                        return Err(Error::InUse {
                            id: id.to_string(),
                            dependents,
                        });
                    }
                }
                Err(e) => return Err(storage("delete a profile", e)),
            }
        }
        Err(Error::Storage {
            message: format!(
                "postgres store: profile {id} kept gaining and losing dependents during delete"
            ),
            source: None,
        })
    }

    pub(crate) async fn attach_row(
        &self,
        tenant: &TenantId,
        id: &ProfileId,
        d: &Dependent,
        event: Option<&AuditEvent>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        self.attach_in(&mut tx, tenant, id, d).await?;
        self.finish(tx, event).await
    }

    /// The attachment and its name row in one transaction: a name taken
    /// rolls the attachment back too. Of two claims of one name, the second
    /// waits on the first's row and fails once it commits.
    pub(crate) async fn attach_named_row(
        &self,
        tenant: &TenantId,
        id: &ProfileId,
        d: &Dependent,
        event: Option<&AuditEvent>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        self.attach_in(&mut tx, tenant, id, d).await?;
        let claimed = sqlx::query(&self.sql.claim_name)
            .bind(tenant.as_str())
            .bind(&d.kind)
            .bind(&d.id)
            .bind(id.as_str())
            .execute(&mut *tx)
            .await;
        match claimed {
            Ok(_) => self.finish(tx, event).await,
            Err(e) if is_unique_violation(&e) => Err(Error::AlreadyExists { name: d.id.clone() }),
            Err(e) => Err(storage("name a dependent", e)),
        }
    }

    /// Attaches in `tx`; attached already is a no-op.
    async fn attach_in(
        &self,
        tx: &mut Transaction<'static, Postgres>,
        tenant: &TenantId,
        id: &ProfileId,
        d: &Dependent,
    ) -> Result<()> {
        let result = sqlx::query(&self.sql.attach)
            .bind(id.as_str())
            .bind(&d.kind)
            .bind(&d.id)
            .bind(tenant.as_str())
            .execute(&mut **tx)
            .await;
        match result {
            Ok(done) if done.rows_affected() == 1 => Ok(()),
            // Attached already (a no-op), or no such profile in this tenant.
            Ok(_) => {
                let found = sqlx::query(&self.sql.exists)
                    .bind(id.as_str())
                    .bind(tenant.as_str())
                    .fetch_optional(&mut **tx)
                    .await
                    .map_err(|e| storage("look up a profile", e))?;
                found.map(|_| ()).ok_or_else(|| not_found(id))
            }
            Err(e) if is_foreign_key_violation(&e) => Err(not_found(id)),
            Err(e) => Err(storage("attach a dependent", e)),
        }
    }

    pub(crate) async fn detach_row(
        &self,
        tenant: &TenantId,
        id: &ProfileId,
        d: &Dependent,
        event: Option<&AuditEvent>,
    ) -> Result<bool> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(&self.sql.detach)
            .bind(id.as_str())
            .bind(&d.kind)
            .bind(&d.id)
            .bind(tenant.as_str())
            .execute(&mut *tx)
            .await
            .map_err(|e| storage("detach a dependent", e))?;
        let detached = done.rows_affected() == 1;
        if !detached {
            let found = sqlx::query(&self.sql.exists)
                .bind(id.as_str())
                .bind(tenant.as_str())
                .fetch_optional(&mut *tx)
                .await
                .map_err(|e| storage("look up a profile", e))?;
            if found.is_none() {
                return Err(not_found(id));
            }
        }
        self.finish(tx, event).await?;
        Ok(detached)
    }
}
