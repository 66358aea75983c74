//! The use path: resolve by id or name, pinning, typed kind-checked access,
//! layered overrides, secrets that cannot be opened, the audit hook, on
//! every store.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{builder, new_profile, ok_config};
use patchbay::secrecy::{ExposeSecret, SecretString};
use patchbay::secret::ResolveError;
use patchbay::testkit::fake::{FakeConfig, FakeConnector};
use patchbay::{
    async_trait, ConnectorConfig, Error, Keyring, OverrideKind, ProfileRepository, ProfileService,
    ProfileUpdate, ResolveRequest, SecretRef, SecretResolver, TenantId,
};
use serde_json::json;

const SENTINEL: &str = "S3NTINEL-resolve-4b2d";

fn field_of(e: &Error) -> Vec<String> {
    match e {
        Error::Validation(v) => v.0.iter().map(|f| f.path.clone()).collect(),
        Error::SecretUnavailable { field, .. } => vec![field.clone()],
        other => panic!("not a field error: {other:?}"),
    }
}

/// Create, resolve by id and by name (any case), typed access, pinning, on
/// the given service's store.
async fn resolves_by_id_and_name(svc: &ProfileService) {
    let name = patchbay::testkit::repository::unique("Orders");
    let p = svc
        .create(new_profile(&name, ok_config(SENTINEL)))
        .await
        .expect("create");
    for req in [
        ResolveRequest::new(&p.id, "test by id"),
        ResolveRequest::new(name.to_lowercase().as_str(), "test by name"),
    ] {
        let r = svc.resolve(req).await.expect("resolve");
        assert_eq!(
            (r.id(), r.name(), r.connector(), r.version()),
            (&p.id, name.as_str(), "fake", 1)
        );
        assert_eq!(
            r.secret("password").map(|s| s.expose_secret()),
            Some(SENTINEL)
        );
        let cfg: FakeConfig = r.config().expect("typed");
        assert_eq!((cfg.host.as_str(), cfg.port), ("127.0.0.1", 9));
        assert_eq!(cfg.password.expect("password").expose(), SENTINEL);
        let debug = format!("{r:?}");
        assert!(
            debug.contains("password") && !debug.contains(SENTINEL),
            "{debug}"
        );
    }
    // Pinning.
    svc.resolve(ResolveRequest::new(&p.id, "pinned").expect_version(1))
        .await
        .expect("at version 1");
    svc.update(
        &p.id,
        ProfileUpdate {
            description: Some(None),
            ..Default::default()
        },
    )
    .await
    .expect("update");
    let err = svc
        .resolve(ResolveRequest::new(&p.id, "pinned").expect_version(1))
        .await
        .expect_err("moved");
    assert!(
        matches!(
            err,
            Error::VersionConflict {
                expected: 1,
                actual: 2,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        svc.resolve(ResolveRequest::new(name.as_str(), "x"))
            .await
            .unwrap()
            .version(),
        2
    );
    // Unknown id and name.
    let missing = patchbay::ProfileId::generate();
    for req in [
        ResolveRequest::new(missing, "x"),
        ResolveRequest::new("no-such-profile-9d1", "x"),
    ] {
        let err = svc.resolve(req).await.expect_err("unknown");
        assert_eq!(err.code(), "NOT_FOUND");
    }
}

#[tokio::test]
async fn memory_store() {
    let (svc, _) = common::service();
    resolves_by_id_and_name(&svc).await;
}

#[tokio::test]
async fn sqlite_store() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("p.db").display());
    let store = patchbay_store_sqlite::SqliteStore::open(&url)
        .await
        .unwrap();
    let svc = ProfileService::builder(Arc::new(store))
        .connector(FakeConnector::default())
        .build()
        .unwrap();
    resolves_by_id_and_name(&svc).await;
}

#[tokio::test]
async fn postgres_store() {
    let url = std::env::var("PATCHBAY_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let schema = format!("pbtest_resolve_{}", &uuid_suffix());
    let found = patchbay_store_postgres::PostgresStore::connect(&url, &schema).await;
    let Some(store) = patchbay::testkit::net::require(
        "PostgreSQL",
        "a PostgreSQL server on 127.0.0.1:5432 (user postgres, database test)",
        found,
    ) else {
        return;
    };
    let pool = store.pool().clone();
    let svc = ProfileService::builder(Arc::new(store))
        .connector(FakeConnector::default())
        .build()
        .unwrap();
    resolves_by_id_and_name(&svc).await;
    sqlx::raw_sql(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
        .execute(&pool)
        .await
        .unwrap();
}

fn uuid_suffix() -> String {
    let id = patchbay::ProfileId::generate();
    id.as_str()[5..17].to_owned()
}

/// A config type of another connector kind.
#[derive(Debug, serde::Deserialize)]
struct OtherConfig {}

impl ConnectorConfig for OtherConfig {
    const KIND: &'static str = "other";
}

#[tokio::test]
async fn wrong_kind_and_unregistered_connector_are_typed_errors() {
    let (svc, _) = common::service();
    let p = svc
        .create(new_profile("kinds", ok_config("pw1")))
        .await
        .unwrap();
    let r = svc
        .resolve(ResolveRequest::new("kinds", "x"))
        .await
        .unwrap();
    let err = r.config::<OtherConfig>().expect_err("wrong kind");
    assert_eq!(err.code(), "VALIDATION_FAILED");
    assert_eq!(field_of(&err), ["/connector"]);
    assert!(err.to_string().contains("fake profile, not other"), "{err}");
    // The same store, a service without the fake connector.
    let bare = ProfileService::builder(svc.repository().clone())
        .build()
        .unwrap();
    let err = bare
        .resolve(ResolveRequest::new(&p.id, "x"))
        .await
        .expect_err("no connector");
    assert_eq!(err.code(), "UNKNOWN_CONNECTOR");
}

#[tokio::test]
async fn a_secret_sealed_with_another_key_is_unavailable_by_field() {
    let (svc, _) = common::service();
    svc.create(new_profile("sealed-elsewhere", ok_config(SENTINEL)))
        .await
        .unwrap();
    let other = ProfileService::builder(svc.repository().clone())
        .connector(FakeConnector::default())
        .sealer(Keyring::ephemeral())
        .build()
        .unwrap();
    let err = other
        .resolve(ResolveRequest::new("sealed-elsewhere", "x"))
        .await
        .expect_err("wrong key");
    assert_eq!(err.code(), "SECRET_UNAVAILABLE");
    let Error::SecretUnavailable {
        field,
        kind,
        message,
    } = &err
    else {
        unreachable!()
    };
    assert_eq!(
        (field.as_str(), kind.as_str()),
        ("/config/password", "sealed")
    );
    assert!(!message.contains(SENTINEL) && !format!("{err:?}").contains(SENTINEL));
}

#[tokio::test]
async fn references_resolve_or_name_their_field() {
    let var = format!("PATCHBAY_TEST_RESOLVE_{}", uuid_suffix().to_uppercase());
    // References are the host's privilege: this host allows the test's prefix.
    let svc = builder(&FakeConnector::default())
        .secret_access(patchbay::SecretAccess::none().allow_env_prefix("PATCHBAY_TEST_RESOLVE_"))
        .build()
        .expect("service");
    svc.create(new_profile(
        "by-ref",
        ok_config(&format!("{{{{ env:{var} }}}}")),
    ))
    .await
    .unwrap();
    let err = svc
        .resolve(ResolveRequest::new("by-ref", "x"))
        .await
        .expect_err("unset");
    let Error::SecretUnavailable { field, kind, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!((field.as_str(), kind.as_str()), ("/config/password", "env"));
    // A variable no other test reads, set once before it is read.
    std::env::set_var(&var, SENTINEL);
    let r = svc
        .resolve(ResolveRequest::new("by-ref", "x"))
        .await
        .expect("resolved");
    assert_eq!(r.secret("password").unwrap().expose_secret(), SENTINEL);
}

/// A resolver that never answers: only the deadline ends the wait.
struct Stuck;

#[async_trait]
impl SecretResolver for Stuck {
    fn supports(&self, scheme: &str) -> bool {
        scheme == "vault"
    }
    async fn resolve(&self, _: &SecretRef) -> Result<SecretString, ResolveError> {
        std::future::pending().await
    }
}

#[tokio::test]
async fn a_stuck_resolver_is_cut_at_the_deadline() {
    let svc = builder(&FakeConnector::default())
        .resolver(Stuck)
        .build()
        .unwrap();
    svc.create(new_profile("stuck", ok_config("{{ vault:db/pw }}")))
        .await
        .unwrap();
    let err = svc
        .resolve(ResolveRequest::new("stuck", "x").timeout(Duration::from_millis(50)))
        .await
        .expect_err("deadline");
    let Error::SecretUnavailable {
        field,
        kind,
        message,
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(
        (field.as_str(), kind.as_str()),
        ("/config/password", "vault")
    );
    assert!(message.contains("deadline"), "{message}");
}

#[tokio::test]
async fn overrides_are_validated_like_the_profile() {
    let (svc, _) = common::service();
    svc.create(new_profile(
        "layered",
        json!({"host": "127.0.0.1", "port": 9, "password": SENTINEL, "mode": "ok"}),
    ))
    .await
    .unwrap();
    let resolve = |o: serde_json::Value, allow: bool| {
        svc.resolve(
            ResolveRequest::new("layered", "x")
                .overrides(o)
                .allow_conflicts(allow),
        )
    };
    // Added field: fine, reported.
    let r = resolve(json!({"sleep_ms": 5}), false).await.expect("added");
    assert_eq!(r.config::<FakeConfig>().unwrap().sleep_ms, 5);
    assert_eq!(r.overrides().len(), 1);
    assert_eq!(
        (r.overrides()[0].path.as_str(), r.overrides()[0].kind),
        ("/config/sleep_ms", OverrideKind::Added)
    );
    // Forbidden: unknown field, secret field, moved endpoint, bad type.
    for (o, path) in [
        (
            json!({"bootstrap_file": "/etc/x"}),
            "/overrides/bootstrap_file",
        ),
        (json!({"password": "other"}), "/overrides/password"),
        (json!({"host": "10.0.0.1"}), "/overrides/host"),
        (json!({"port": 10}), "/overrides/port"),
        (json!({"sleep_ms": "soon"}), "/overrides/sleep_ms"),
    ] {
        let err = resolve(o.clone(), true).await.expect_err("refused");
        assert_eq!(err.code(), "VALIDATION_FAILED", "{o}");
        assert!(
            field_of(&err).contains(&path.to_owned()),
            "{o}: {:?}",
            field_of(&err)
        );
        assert!(!err.to_string().contains(SENTINEL));
    }
    assert_eq!(
        field_of(&resolve(json!([1]), false).await.unwrap_err()),
        ["/overrides"]
    );
    // Conflicts: refused unless allowed, then reported.
    let err = resolve(json!({"mode": "sleep"}), false)
        .await
        .expect_err("conflict");
    assert_eq!(field_of(&err), ["/overrides/mode"]);
    let r = resolve(json!({"mode": "sleep", "sleep_ms": 1}), true)
        .await
        .expect("allowed");
    let kinds: Vec<_> = r
        .overrides()
        .iter()
        .map(|o| (o.path.as_str(), o.kind))
        .collect();
    assert_eq!(
        kinds,
        [
            ("/config/mode", OverrideKind::Replaced),
            ("/config/sleep_ms", OverrideKind::Added)
        ]
    );
    // The same value is no conflict.
    assert!(resolve(json!({"mode": "ok"}), false)
        .await
        .unwrap()
        .overrides()
        .is_empty());
}

#[tokio::test]
async fn every_opening_is_audited_without_values() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let svc = builder(&FakeConnector::default())
        .on_secret_access(move |a| {
            log.lock().unwrap().push(format!(
                "{} v{} {} {} {} {:?}",
                a.id, a.version, a.connector, a.operation, a.purpose, a.fields
            ))
        })
        .build()
        .unwrap();
    let p = svc
        .create(new_profile("audited", ok_config(SENTINEL)))
        .await
        .unwrap();
    svc.resolve(ResolveRequest::new("audited", "nightly export"))
        .await
        .unwrap();
    svc.test_profile(&p.id, None).await.unwrap();
    let got = seen.lock().unwrap().clone();
    assert_eq!(
        got,
        [
            format!("{} v1 fake resolve nightly export [\"password\"]", p.id),
            format!("{} v1 fake test test [\"password\"]", p.id),
        ]
    );
    let err = svc
        .resolve(ResolveRequest::new("audited", ""))
        .await
        .expect_err("purpose");
    assert_eq!(field_of(&err), ["/purpose"]);
}

#[tokio::test]
async fn watch_on_the_service_follows_the_store() {
    let (svc, _) = common::service();
    let mut events = svc.watch().await.expect("memory has a feed");
    let p = svc
        .create(new_profile("watched", ok_config("pw")))
        .await
        .unwrap();
    assert_eq!(
        events.next().await,
        Some(patchbay::ProfileEvent::Created {
            id: p.id.clone(),
            version: 1
        })
    );
    // A store without a feed says so.
    struct NoFeed(patchbay::memory::MemoryStore);
    #[async_trait]
    impl ProfileRepository for NoFeed {
        async fn create(&self, p: &patchbay::Profile) -> patchbay::Result<()> {
            self.0.create(p).await
        }
        async fn tenants(&self) -> patchbay::Result<Vec<TenantId>> {
            self.0.tenants().await
        }
        async fn get(
            &self,
            t: &TenantId,
            id: &patchbay::ProfileId,
        ) -> patchbay::Result<patchbay::Profile> {
            self.0.get(t, id).await
        }
        async fn get_by_name(&self, t: &TenantId, n: &str) -> patchbay::Result<patchbay::Profile> {
            self.0.get_by_name(t, n).await
        }
        async fn list(
            &self,
            t: &TenantId,
            q: &patchbay::ListQuery,
        ) -> patchbay::Result<patchbay::Page<patchbay::Profile>> {
            self.0.list(t, q).await
        }
        async fn update(&self, p: &patchbay::Profile, v: u64) -> patchbay::Result<()> {
            self.0.update(p, v).await
        }
        async fn delete(&self, t: &TenantId, id: &patchbay::ProfileId) -> patchbay::Result<()> {
            self.0.delete(t, id).await
        }
        async fn attach(
            &self,
            t: &TenantId,
            id: &patchbay::ProfileId,
            d: &patchbay::Dependent,
        ) -> patchbay::Result<()> {
            self.0.attach(t, id, d).await
        }
        async fn detach(
            &self,
            t: &TenantId,
            id: &patchbay::ProfileId,
            d: &patchbay::Dependent,
        ) -> patchbay::Result<bool> {
            self.0.detach(t, id, d).await
        }
        async fn dependents(
            &self,
            t: &TenantId,
            id: &patchbay::ProfileId,
        ) -> patchbay::Result<Vec<patchbay::Dependent>> {
            self.0.dependents(t, id).await
        }
    }
    let bare = ProfileService::builder(Arc::new(NoFeed(Default::default())))
        .build()
        .unwrap();
    assert_eq!(
        bare.watch().await.expect_err("no feed").code(),
        "UNSUPPORTED"
    );
}
