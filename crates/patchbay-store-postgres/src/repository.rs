//! [`ProfileRepository`] for [`PostgresStore`]: reads are one statement,
//! writes one transaction (`crate::writes`), the database's constraints
//! deciding every race.

use async_trait::async_trait;
use patchbay_core::profile::name_key;
use patchbay_core::repository::{decode_cursor, encode_cursor, MAX_PAGE_SIZE};
use patchbay_core::{
    Attachment, AuditEvent, AuditSink, Dependent, Error, KeyCheck, ListQuery, Page, Profile,
    ProfileEvents, ProfileId, ProfileRepository, Result, TenantId,
};

use crate::error::storage;
use crate::queries as q;
use crate::store::PostgresStore;

fn not_found(id: &ProfileId) -> Error {
    Error::NotFound(id.to_string())
}

fn attachment(kind: &str, name: String, profile: &str) -> Result<Attachment> {
    let profile_id = ProfileId::parse(profile).ok_or_else(|| {
        crate::error::corrupt(
            profile,
            "profile_id",
            sqlx::Error::Decode("not a profile id".into()),
        )
    })?;
    Ok(Attachment {
        dependent: Dependent::new(kind, name),
        profile_id,
    })
}

#[async_trait]
impl ProfileRepository for PostgresStore {
    async fn create(&self, p: &Profile) -> Result<()> {
        self.create_row(p, None).await
    }

    async fn create_audited(&self, p: &Profile, event: &AuditEvent) -> Result<()> {
        self.create_row(p, Some(event)).await
    }

    async fn update(&self, p: &Profile, expected_version: u64) -> Result<()> {
        self.update_row(p, expected_version, None).await
    }

    async fn update_audited(&self, p: &Profile, expected: u64, event: &AuditEvent) -> Result<()> {
        self.update_row(p, expected, Some(event)).await
    }

    async fn delete(&self, tenant: &TenantId, id: &ProfileId) -> Result<()> {
        self.delete_row(tenant, id, None).await
    }

    async fn delete_audited(&self, t: &TenantId, id: &ProfileId, event: &AuditEvent) -> Result<()> {
        self.delete_row(t, id, Some(event)).await
    }

    async fn attach(&self, tenant: &TenantId, id: &ProfileId, d: &Dependent) -> Result<()> {
        self.attach_row(tenant, id, d, None).await
    }

    async fn attach_audited(
        &self,
        tenant: &TenantId,
        id: &ProfileId,
        d: &Dependent,
        event: &AuditEvent,
    ) -> Result<()> {
        self.attach_row(tenant, id, d, Some(event)).await
    }

    async fn detach(&self, tenant: &TenantId, id: &ProfileId, d: &Dependent) -> Result<bool> {
        self.detach_row(tenant, id, d, None).await
    }

    async fn detach_audited(
        &self,
        tenant: &TenantId,
        id: &ProfileId,
        d: &Dependent,
        event: &AuditEvent,
    ) -> Result<bool> {
        self.detach_row(tenant, id, d, Some(event)).await
    }

    fn audit(&self) -> Option<&dyn AuditSink> {
        Some(self)
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
            .then(|| {
                items
                    .last()
                    .map(|p| encode_cursor(tenant, &name_key(&p.name)))
            })
            .flatten();
        Ok(Page { items, next_cursor })
    }

    async fn attach_named(
        &self,
        tenant: &TenantId,
        id: &ProfileId,
        d: &Dependent,
        event: Option<&AuditEvent>,
    ) -> Result<()> {
        self.attach_named_row(tenant, id, d, event).await
    }

    async fn named_dependents(
        &self,
        tenant: &TenantId,
        kind: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Attachment>> {
        let rows: Vec<(String, String)> = sqlx::query_as(&self.sql.named_dependents)
            .bind(tenant.as_str())
            .bind(kind)
            .bind(after.unwrap_or(""))
            .bind(limit.clamp(1, MAX_PAGE_SIZE) as i64)
            .fetch_all(&self.pool)
            .await
            .map_err(|e| storage("list named dependents", e))?;
        rows.into_iter()
            .map(|(name, profile)| attachment(kind, name, &profile))
            .collect()
    }

    async fn named_dependent(&self, tenant: &TenantId, d: &Dependent) -> Result<Option<ProfileId>> {
        let profile: Option<String> = sqlx::query_scalar(&self.sql.named_dependent)
            .bind(tenant.as_str())
            .bind(&d.kind)
            .bind(&d.id)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| storage("look up a named dependent", e))?;
        profile
            .map(|p| attachment(&d.kind, d.id.clone(), &p).map(|a| a.profile_id))
            .transpose()
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
