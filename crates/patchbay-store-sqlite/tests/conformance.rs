//! The testkit's repository conformance suite against a SQLite file.

use patchbay_store_sqlite::{SqliteConfig, SqliteStore};

/// A fresh database file per test; the directory goes when the store does.
struct TempStore {
    store: SqliteStore,
    _dir: tempfile::TempDir,
}

async fn make(exclusive: bool) -> TempStore {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("profiles.db").display());
    let store = SqliteStore::open_with(SqliteConfig {
        exclusive,
        ..SqliteConfig::new(url)
    })
    .await
    .expect("open");
    TempStore { store, _dir: dir }
}

mod delegate {
    use patchbay_core::{
        async_trait, Dependent, KeyCheck, ListQuery, Page, Profile, ProfileId, ProfileRepository,
        Result, TenantId,
    };

    #[async_trait]
    impl ProfileRepository for super::TempStore {
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
    }
}

/// The default: the file may be shared with other stores, no revision.
mod shared {
    patchbay_testkit::repository_suite!(super::make(false));
}

/// `exclusive`: this store alone, with a revision.
mod exclusive {
    patchbay_testkit::repository_suite!(super::make(true));

    #[tokio::test]
    async fn reports_a_revision() {
        use patchbay_core::ProfileRepository;
        assert!(super::make(true).await.revision().is_some());
        assert!(super::make(false).await.revision().is_none());
    }
}

/// `sqlite::memory:` keeps its data across pooled connections and idle time,
/// and `open_default` gives it an ephemeral key instead of a key file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_memory_database_is_shared_by_the_pool() {
    use patchbay_core::ProfileRepository;
    let (store, _keyring) = SqliteStore::open_default("sqlite::memory:")
        .await
        .expect("open");
    assert!(store.file().is_none() && store.key_file_path().is_none());
    let p = patchbay_testkit::repository::fixture("mem-1", "fake");
    store.create(&p).await.expect("create");
    let reads: Vec<_> = (0..8)
        .map(|_| {
            let (store, id) = (store.clone(), p.id.clone());
            tokio::spawn(async move { store.get(&patchbay_core::TenantId::default(), &id).await })
        })
        .collect();
    for r in reads {
        assert_eq!(r.await.expect("task").expect("get"), p);
    }
}

/// An exclusive store refuses to share its file, whichever opens first, and
/// lets go when its last clone drops.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exclusive_stores_do_not_share_the_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("profiles.db").display());
    let open = |exclusive: bool| {
        SqliteStore::open_with(SqliteConfig {
            exclusive,
            ..SqliteConfig::new(url.clone())
        })
    };
    let owner = open(true).await.expect("first exclusive open");
    for exclusive in [true, false] {
        let err = open(exclusive).await.expect_err("second open must fail");
        assert_eq!(err.code(), "STORAGE", "{err}");
        assert!(err.to_string().contains("held"), "{err}");
    }
    let clone = owner.clone();
    drop(owner);
    assert!(open(false).await.is_err(), "a clone still holds the lock");
    clone.close().await;
    drop(clone);
    let a = open(false).await.expect("shared after release");
    let b = open(false).await.expect("shared stores coexist");
    assert!(
        open(true).await.is_err(),
        "exclusive while shared holders exist"
    );
    drop((a, b));
    open(true).await.expect("exclusive once everyone left");
}
