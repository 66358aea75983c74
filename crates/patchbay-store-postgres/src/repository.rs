//! [`ProfileRepository`] for [`PostgresStore`]: each call one statement, with the
//! database's constraints deciding every race.

use async_trait::async_trait;
use patchbay_core::profile::name_key;
use patchbay_core::repository::{decode_cursor, encode_cursor, MAX_PAGE_SIZE};
use patchbay_core::{
    Dependent, Error, KeyCheck, ListQuery, Page, Profile, ProfileEvents, ProfileId,
    ProfileRepository, Result, TenantId,
};
use sqlx::types::Json;

use crate::error::{is_foreign_key_violation, is_unique_violation, storage};
use crate::queries as q;
use crate::store::PostgresStore;

fn not_found(id: &ProfileId) -> Error {
    Error::NotFound(id.to_string())
}

#[async_trait]
impl ProfileRepository for PostgresStore {
    async fn create(&self, p: &Profile) -> Result<()> {
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
            .execute(&self.pool)
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_unique_violation(&e) => Err(Error::AlreadyExists {
                name: p.name.clone(),
            }),
            Err(e) => Err(storage("create a profile", e)),
        }
    }

    async fn get(&self, tenant: &TenantId, id: &ProfileId) -> Result<Profile> {
        let row = sqlx::query(&self.sql.select_by_id)
            .bind(id.as_str())
            .bind(tenant.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| storage("read a profile", e))?;
        row.as_ref()
            .map(q::profile)
            .transpose()?
            .ok_or_else(|| not_found(id))
    }

    async fn get_by_name(&self, tenant: &TenantId, name: &str) -> Result<Profile> {
        let row = sqlx::query(&self.sql.select_by_name_key)
            .bind(tenant.as_str())
            .bind(name_key(name))
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| storage("read a profile by name", e))?;
        row.as_ref()
            .map(q::profile)
            .transpose()?
            .ok_or_else(|| Error::NotFound(name.to_owned()))
    }

    async fn list(&self, tenant: &TenantId, query: &ListQuery) -> Result<Page<Profile>> {
        let limit = query.limit.clamp(1, MAX_PAGE_SIZE);
        let after = query
            .after
            .as_deref()
            .map(|c| decode_cursor(tenant, c))
            .transpose()?;
        let (sql, binds) = self.sql.list(tenant, query, after);
        let mut stmt = sqlx::query(&sql);
        for b in &binds {
            stmt = stmt.bind(b);
        }
        let rows = stmt
            .bind(limit as i64 + 1)
            .fetch_all(&self.pool)
            .await
            .map_err(|e| storage("list profiles", e))?;
        let more = rows.len() > limit;
        let items = rows
            .iter()
            .take(limit)
            .map(q::profile)
            .collect::<Result<Vec<_>>>()?;
        let next_cursor = more
            .then(|| items.last().map(|p| encode_cursor(tenant, &name_key(&p.name))))
            .flatten();
        Ok(Page { items, next_cursor })
    }

    async fn update(&self, p: &Profile, expected_version: u64) -> Result<()> {
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
            .execute(&self.pool)
            .await;
        match result {
            Ok(done) if done.rows_affected() == 1 => Ok(()),
            Ok(_) => {
                let actual: Option<i64> = sqlx::query_scalar(&self.sql.version_of)
                    .bind(p.id.as_str())
                    .bind(p.tenant.as_str())
                    .fetch_optional(&self.pool)
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

    async fn delete(&self, tenant: &TenantId, id: &ProfileId) -> Result<()> {
        // The foreign key decides; a refusal is then explained by reading
        // the dependents. If they were detached in between, try again.
        for _ in 0..3 {
            match sqlx::query(&self.sql.delete)
                .bind(id.as_str())
                .bind(tenant.as_str())
                .execute(&self.pool)
                .await
            {
                Ok(done) if done.rows_affected() == 1 => return Ok(()),
                Ok(_) => return Err(not_found(id)),
                Err(e) if is_foreign_key_violation(&e) => {
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

    async fn attach(&self, tenant: &TenantId, id: &ProfileId, d: &Dependent) -> Result<()> {
        match sqlx::query(&self.sql.attach)
            .bind(id.as_str())
            .bind(&d.kind)
            .bind(&d.id)
            .bind(tenant.as_str())
            .execute(&self.pool)
            .await
        {
            Ok(done) if done.rows_affected() == 1 => Ok(()),
            // Attached already (a no-op), or no such profile in this tenant.
            Ok(_) if self.exists(tenant, id).await? => Ok(()),
            Ok(_) => Err(not_found(id)),
            Err(e) if is_foreign_key_violation(&e) => Err(not_found(id)),
            Err(e) => Err(storage("attach a dependent", e)),
        }
    }

    async fn detach(&self, tenant: &TenantId, id: &ProfileId, d: &Dependent) -> Result<bool> {
        let done = sqlx::query(&self.sql.detach)
            .bind(id.as_str())
            .bind(&d.kind)
            .bind(&d.id)
            .bind(tenant.as_str())
            .execute(&self.pool)
            .await
            .map_err(|e| storage("detach a dependent", e))?;
        if done.rows_affected() == 1 {
            Ok(true)
        } else if self.exists(tenant, id).await? {
            Ok(false)
        } else {
            Err(not_found(id))
        }
    }

    async fn dependents(&self, tenant: &TenantId, id: &ProfileId) -> Result<Vec<Dependent>> {
        let deps = self.dependents_of(tenant, id).await?;
        if deps.is_empty() && !self.exists(tenant, id).await? {
            return Err(not_found(id));
        }
        Ok(deps)
    }

    /// `LISTEN/NOTIFY`: writes from every replica, one pooled connection per
    /// watcher while it reads.
    async fn watch(&self, tenant: &TenantId) -> Result<ProfileEvents> {
        self.listen(tenant).await
    }

    async fn tenants(&self) -> Result<Vec<TenantId>> {
        let rows: Vec<String> = sqlx::query_scalar(&self.sql.tenants)
            .fetch_all(&self.pool)
            .await
            .map_err(|e| storage("list tenants", e))?;
        rows.iter()
            .map(|t| {
                TenantId::new(t).map_err(|e| {
                    crate::error::corrupt("?", "tenant", sqlx::Error::Decode(e.to_string().into()))
                })
            })
            .collect()
    }

    async fn key_checks(&self) -> Result<Vec<KeyCheck>> {
        self.select_key_checks().await
    }

    async fn add_key_check(&self, check: &KeyCheck) -> Result<bool> {
        self.insert_key_check(check).await
    }

    async fn remove_key_check(&self, key_id: &str) -> Result<bool> {
        self.delete_key_check(key_id).await
    }
}
