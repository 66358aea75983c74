//! Test plumbing: the local Postgres, one schema per test, cleanup.
#![allow(dead_code)]

use std::time::{SystemTime, UNIX_EPOCH};

use patchbay_core::{
    async_trait, Dependent, KeyCheck, ListQuery, Page, Profile, ProfileId, ProfileRepository,
    Result, TenantId,
};
use patchbay_store_postgres::{PostgresConfig, PostgresStore};
use sqlx::Connection;

/// Schemas made by these tests start with this, then creation time in unix seconds.
pub const PREFIX: &str = "pbtest_";
pub const HOW_TO_START: &str =
    "a PostgreSQL server on 127.0.0.1:5432 with user postgres and database test (e.g. `pg_ctlcluster 15 main start`), \
     or set PATCHBAY_TEST_POSTGRES_URL";

/// The test database URL (`PATCHBAY_TEST_POSTGRES_URL` overrides).
pub fn url() -> String {
    std::env::var("PATCHBAY_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

/// A fresh schema name: prefix, creation time, random suffix.
pub fn schema_name() -> String {
    format!(
        "{PREFIX}{}_{}",
        now_secs(),
        &uuid::Uuid::new_v4().simple().to_string()[..10]
    )
}

/// Connects to the test database, or `None` (skip) outside CI when it is
/// unreachable; panics under `CI=true`. Drops leftovers of killed runs:
/// schemas with our prefix created over an hour ago.
pub async fn admin() -> Option<sqlx::PgConnection> {
    let found = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        sqlx::PgConnection::connect(&url()),
    )
    .await
    .map_err(|_| "connect timed out".to_owned())
    .and_then(|r| r.map_err(|e| e.to_string()));
    let mut conn = patchbay_testkit::net::require("PostgreSQL", HOW_TO_START, found)?;
    let schemas: Vec<String> = sqlx::query_scalar(
        "SELECT nspname::text FROM pg_namespace WHERE nspname LIKE 'pbtest\\_%'",
    )
    .fetch_all(&mut conn)
    .await
    .expect("list schemas");
    let cutoff = now_secs().saturating_sub(3600);
    for s in schemas {
        let created = s[PREFIX.len()..]
            .split('_')
            .next()
            .and_then(|t| t.parse::<u64>().ok());
        if created.is_some_and(|t| t < cutoff) {
            let _ = sqlx::raw_sql(&format!("DROP SCHEMA IF EXISTS \"{s}\" CASCADE"))
                .execute(&mut conn)
                .await;
        }
    }
    Some(conn)
}

/// A store in its own schema, dropped with the value.
pub struct TestStore {
    pub store: PostgresStore,
}

impl TestStore {
    /// `None` when Postgres is unreachable outside CI.
    pub async fn new() -> Option<Self> {
        admin().await?;
        let mut config = PostgresConfig::new(url(), schema_name());
        config.max_connections = 5;
        Some(Self {
            store: PostgresStore::connect_with(config)
                .await
                .expect("connect store"),
        })
    }
}

impl Drop for TestStore {
    fn drop(&mut self) {
        // Drop the schema on a thread of its own: this may run inside a runtime.
        let (url, schema) = (url(), self.store.schema().to_owned());
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async {
                if let Ok(mut c) = sqlx::PgConnection::connect(&url).await {
                    let _ = sqlx::raw_sql(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
                        .execute(&mut c)
                        .await;
                }
            });
        })
        .join();
    }
}

#[async_trait]
impl ProfileRepository for TestStore {
    async fn create(&self, p: &Profile) -> Result<()> {
        self.store.create(p).await
    }
    async fn tenants(&self) -> Result<Vec<TenantId>> {
        self.store.tenants().await
    }
    async fn get(&self, tenant: &TenantId, id: &ProfileId) -> Result<Profile> {
        self.store.get(tenant, id).await
    }
    async fn get_by_name(&self, tenant: &TenantId, name: &str) -> Result<Profile> {
        self.store.get_by_name(tenant, name).await
    }
    async fn list(&self, tenant: &TenantId, q: &ListQuery) -> Result<Page<Profile>> {
        self.store.list(tenant, q).await
    }
    async fn update(&self, p: &Profile, v: u64) -> Result<()> {
        self.store.update(p, v).await
    }
    async fn delete(&self, tenant: &TenantId, id: &ProfileId) -> Result<()> {
        self.store.delete(tenant, id).await
    }
    async fn attach(&self, tenant: &TenantId, id: &ProfileId, d: &Dependent) -> Result<()> {
        self.store.attach(tenant, id, d).await
    }
    async fn detach(&self, tenant: &TenantId, id: &ProfileId, d: &Dependent) -> Result<bool> {
        self.store.detach(tenant, id, d).await
    }
    async fn dependents(&self, tenant: &TenantId, id: &ProfileId) -> Result<Vec<Dependent>> {
        self.store.dependents(tenant, id).await
    }
    // Passed through, so the suite judges the store's answer, not the
    // trait's default.
    fn revision(&self) -> Option<u64> {
        self.store.revision()
    }
    fn audit(&self) -> Option<&dyn patchbay_core::AuditSink> {
        self.store.audit()
    }
    async fn create_audited(&self, p: &Profile, e: &patchbay_core::AuditEvent) -> Result<()> {
        self.store.create_audited(p, e).await
    }
    async fn update_audited(
        &self,
        p: &Profile,
        v: u64,
        e: &patchbay_core::AuditEvent,
    ) -> Result<()> {
        self.store.update_audited(p, v, e).await
    }
    async fn delete_audited(
        &self,
        t: &TenantId,
        id: &ProfileId,
        e: &patchbay_core::AuditEvent,
    ) -> Result<()> {
        self.store.delete_audited(t, id, e).await
    }
    async fn attach_audited(
        &self,
        t: &TenantId,
        id: &ProfileId,
        d: &Dependent,
        e: &patchbay_core::AuditEvent,
    ) -> Result<()> {
        self.store.attach_audited(t, id, d, e).await
    }
    async fn detach_audited(
        &self,
        t: &TenantId,
        id: &ProfileId,
        d: &Dependent,
        e: &patchbay_core::AuditEvent,
    ) -> Result<bool> {
        self.store.detach_audited(t, id, d, e).await
    }
    async fn watch(&self, tenant: &TenantId) -> Result<patchbay_core::ProfileEvents> {
        self.store.watch(tenant).await
    }
    async fn key_checks(&self) -> Result<Vec<KeyCheck>> {
        self.store.key_checks().await
    }
    async fn add_key_check(&self, check: &KeyCheck) -> Result<bool> {
        self.store.add_key_check(check).await
    }
    async fn remove_key_check(&self, key_id: &str) -> Result<bool> {
        self.store.remove_key_check(key_id).await
    }
}
