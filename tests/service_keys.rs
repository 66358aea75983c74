//! Keys: the keyring checked against the store's key check values, rotation
//! (reseal) against concurrent updates, retiring keys, and updates over
//! secrets that can no longer be opened.

mod common;

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use common::{new_profile, ok_config};
use patchbay::memory::MemoryStore;
use patchbay::secrecy::ExposeSecret;
use patchbay::testkit::fake::FakeConnector;
use patchbay::{
    async_trait, Dependent, Error, Key, KeyCheck, Keyring, ListQuery, Page, Profile, ProfileId,
    ProfileRepository, ProfileService, ProfileUpdate, Result, Sealer, TenantId,
};
use serde_json::json;

fn service(repo: Arc<dyn ProfileRepository>, keyring: Keyring) -> ProfileService {
    ProfileService::builder(repo)
        .connector(FakeConnector::default())
        .sealer(keyring)
        .build()
        .expect("service")
}

fn ring(active: &Key, older: &[&Key]) -> Keyring {
    older.iter().fold(Keyring::new(active.clone()), |r, k| {
        r.with_older((*k).clone())
    })
}

fn password(keyring: &Keyring, p: &Profile) -> String {
    keyring
        .open(&p.id, "password", &p.secrets.0["password"])
        .expect("opens")
        .expose_secret()
        .to_owned()
}

fn describe(update: &str) -> ProfileUpdate {
    ProfileUpdate {
        description: Some(Some(update.to_owned())),
        ..ProfileUpdate::default()
    }
}

#[tokio::test]
async fn startup_check_refuses_a_keyring_that_cannot_open_the_store() {
    let repo: Arc<dyn ProfileRepository> = Arc::new(MemoryStore::new());
    let (a, b) = (Key::generate(), Key::generate());
    let first = service(repo.clone(), ring(&a, &[]));
    assert_eq!(first.verify_keyring().await.expect("empty store"), [a.id()]);
    first
        .create(new_profile("checked", ok_config("pw-1")))
        .await
        .unwrap();

    let err = ProfileService::builder(repo.clone())
        .sealer(ring(&b, &[]))
        .build_checked()
        .await
        .expect_err("another key must be refused");
    assert_eq!(err.code(), "SECRET_UNAVAILABLE");
    assert_eq!(
        err.details(),
        json!({"field": "/keyring", "kind": "sealed"})
    );
    let text = err.to_string();
    assert!(text.contains(a.id()) && text.contains(b.id()), "{text}");
    // Refused before recording anything of its own.
    let ids: Vec<String> = repo
        .key_checks()
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.key_id)
        .collect();
    assert_eq!(ids, [a.id()]);

    // Holding the old key as an older one is enough; the new one is recorded.
    let both = service(repo.clone(), ring(&b, &[&a]));
    let mut expected = vec![a.id().to_owned(), b.id().to_owned()];
    expected.sort();
    assert_eq!(both.verify_keyring().await.unwrap(), expected);
    // Now the old key alone is refused too, naming the new one.
    let err = service(repo, ring(&a, &[]))
        .verify_keyring()
        .await
        .unwrap_err();
    assert!(err.to_string().contains(b.id()), "{err}");
}

#[tokio::test]
async fn a_store_without_checks_is_judged_by_its_envelopes() {
    let repo: Arc<dyn ProfileRepository> = Arc::new(MemoryStore::new());
    let a = Key::generate();
    // Sealed by a service that never checked (as before key checks existed).
    service(repo.clone(), ring(&a, &[]))
        .create(new_profile("legacy", ok_config("pw")))
        .await
        .unwrap();
    assert!(repo.key_checks().await.unwrap().is_empty());
    let err = service(repo.clone(), Keyring::ephemeral())
        .verify_keyring()
        .await
        .unwrap_err();
    assert_eq!(err.code(), "SECRET_UNAVAILABLE");
    assert!(err.to_string().contains(a.id()), "{err}");
    // The right keyring passes and records the key in use and its active key.
    let n = Key::generate();
    let mut ids = service(repo, ring(&n, &[&a]))
        .verify_keyring()
        .await
        .unwrap();
    ids.sort();
    let mut expected = vec![a.id().to_owned(), n.id().to_owned()];
    expected.sort();
    assert_eq!(ids, expected);
}

type Hook = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The memory store, but the first `update` first runs a hook (another
/// writer's update): the write that follows is then stale, every time.
struct Interleaved {
    inner: Arc<MemoryStore>,
    hook: Mutex<Option<Hook>>,
}

#[async_trait]
impl ProfileRepository for Interleaved {
    async fn create(&self, p: &Profile) -> Result<()> {
        self.inner.create(p).await
    }
    async fn tenants(&self) -> Result<Vec<TenantId>> {
        self.inner.tenants().await
    }
    async fn get(&self, tenant: &TenantId, id: &ProfileId) -> Result<Profile> {
        self.inner.get(tenant, id).await
    }
    async fn get_by_name(&self, tenant: &TenantId, name: &str) -> Result<Profile> {
        self.inner.get_by_name(tenant, name).await
    }
    async fn list(&self, tenant: &TenantId, q: &ListQuery) -> Result<Page<Profile>> {
        self.inner.list(tenant, q).await
    }
    async fn update(&self, p: &Profile, v: u64) -> Result<()> {
        let hook = self.hook.lock().unwrap().take();
        if let Some(hook) = hook {
            hook.await;
        }
        self.inner.update(p, v).await
    }
    async fn delete(&self, tenant: &TenantId, id: &ProfileId) -> Result<()> {
        self.inner.delete(tenant, id).await
    }
    async fn attach(&self, tenant: &TenantId, id: &ProfileId, d: &Dependent) -> Result<()> {
        self.inner.attach(tenant, id, d).await
    }
    async fn detach(&self, tenant: &TenantId, id: &ProfileId, d: &Dependent) -> Result<bool> {
        self.inner.detach(tenant, id, d).await
    }
    async fn dependents(&self, tenant: &TenantId, id: &ProfileId) -> Result<Vec<Dependent>> {
        self.inner.dependents(tenant, id).await
    }
    async fn key_checks(&self) -> Result<Vec<KeyCheck>> {
        self.inner.key_checks().await
    }
    async fn add_key_check(&self, check: &KeyCheck) -> Result<bool> {
        self.inner.add_key_check(check).await
    }
    async fn remove_key_check(&self, key_id: &str) -> Result<bool> {
        self.inner.remove_key_check(key_id).await
    }
}

#[tokio::test]
async fn reseal_loses_no_patch_that_lands_between_its_read_and_write() {
    let inner = Arc::new(MemoryStore::new());
    let (old, new) = (Key::generate(), Key::generate());
    let replica = service(inner.clone(), ring(&old, &[]));
    let p = replica
        .create(new_profile("raced", ok_config("first-pw")))
        .await
        .unwrap();

    // A replica still sealing with the old key patches the password and the
    // description after the reseal read the profile, before it writes.
    let id = p.id.clone();
    let patch: Hook = Box::pin(async move {
        let update = ProfileUpdate {
            description: Some(Some("patched".into())),
            config: Some(json!({"password": "second-pw"})),
            ..ProfileUpdate::default()
        };
        let done = replica.update(&id, update).await.expect("patch");
        assert_eq!(done.version, 2);
    });
    let repo = Arc::new(Interleaved {
        inner: inner.clone(),
        hook: Mutex::new(Some(patch)),
    });
    let rotated = ring(&new, &[&old]);
    let report = service(repo.clone(), rotated.clone())
        .reseal()
        .await
        .expect("reseal");
    assert!(repo.hook.lock().unwrap().is_none(), "the patch ran");
    assert_eq!(report.resealed, 1);
    assert!(report.skipped.is_empty());

    let stored = inner.get(&TenantId::default(), &p.id).await.unwrap();
    assert_eq!(stored.version, 3, "create, patch, then the reseal on top");
    assert_eq!(stored.description.as_deref(), Some("patched"));
    assert!(stored.secrets.0["password"].starts_with(&format!("pbs1.{}.", new.id())));
    assert_eq!(password(&ring(&new, &[]), &stored), "second-pw");
    assert!(stored.updated_at >= p.updated_at);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reseal_and_concurrent_patches_keep_every_patch() {
    let repo: Arc<dyn ProfileRepository> = Arc::new(MemoryStore::new());
    let (old, new) = (Key::generate(), Key::generate());
    let before = service(repo.clone(), ring(&old, &[]));
    let mut ids = Vec::new();
    for i in 0..40 {
        let p = before
            .create(new_profile(
                &format!("busy-{i:02}"),
                ok_config(&format!("pw-{i}")),
            ))
            .await
            .unwrap();
        ids.push(p.id);
    }
    let rotated = service(repo.clone(), ring(&new, &[&old]));
    let patches: Vec<_> = ids
        .iter()
        .cloned()
        .map(|id| {
            let svc = before.clone();
            tokio::spawn(async move {
                // Without If-Match the store may still report a conflict
                // (the reseal wrote in between): nothing is lost, the caller
                // is told, and tries again as a client would.
                loop {
                    match svc.update(&id, describe(&format!("patched {id}"))).await {
                        Err(Error::VersionConflict { .. }) => continue,
                        other => return other,
                    }
                }
            })
        })
        .collect();
    let report = rotated.reseal().await.expect("reseal");
    for p in patches {
        p.await.unwrap().expect("patch");
    }
    assert_eq!(report.resealed, ids.len());
    let only_new = ring(&new, &[]);
    for (i, id) in ids.iter().enumerate() {
        let p = repo.get(&TenantId::default(), id).await.unwrap();
        assert_eq!(p.description, Some(format!("patched {id}")), "patch lost");
        assert_eq!(p.version, 3, "one patch and one reseal");
        assert_eq!(password(&only_new, &p), format!("pw-{i}"));
    }
}

#[tokio::test]
async fn unopenable_profiles_are_skipped_reported_and_block_retirement() {
    let repo: Arc<dyn ProfileRepository> = Arc::new(MemoryStore::new());
    let (a, lost, n) = (Key::generate(), Key::generate(), Key::generate());
    let svc_a = service(repo.clone(), ring(&a, &[]));
    svc_a.verify_keyring().await.unwrap();
    let kept = svc_a
        .create(new_profile("kept", ok_config("kept-pw")))
        .await
        .unwrap();
    // A profile sealed with a key nobody has any more.
    let orphan = service(repo.clone(), ring(&lost, &[]))
        .create(new_profile("orphan", ok_config("ORPHAN-SECRET")))
        .await
        .unwrap();

    let rotated = ring(&n, &[&a]);
    let svc = ProfileService::builder(repo.clone())
        .connector(FakeConnector::default())
        .sealer(rotated.clone())
        .build_checked()
        .await
        .expect("a and n open what the checks name");
    // Retiring the active key, or a key still in use, is refused.
    for (key, names) in [(n.id(), None), (a.id(), Some(kept.id.as_str()))] {
        let err = svc.retire_key(key).await.unwrap_err();
        assert_eq!(err.code(), "VALIDATION_FAILED", "{err}");
        let text = err.to_string();
        assert!(text.contains("/key_id") && text.contains(key), "{text}");
        if let Some(id) = names {
            assert!(text.contains(id), "{text}");
        }
    }

    let report = svc.reseal().await.expect("reseal");
    assert_eq!(report.resealed, 1);
    assert_eq!(report.skipped.len(), 1);
    assert_eq!(report.skipped[0].id, orphan.id);
    assert_eq!(report.skipped[0].fields, ["/config/password"]);
    assert!(!format!("{report:?}").contains("ORPHAN-SECRET"));
    assert_eq!(
        repo.get(&TenantId::default(), &orphan.id).await.unwrap(),
        orphan,
        "left alone"
    );
    assert_eq!(svc.reseal().await.unwrap().resealed, 0, "idempotent");

    // `a` seals nothing now: it retires, and the new key alone opens the store.
    assert!(svc.retire_key(a.id()).await.expect("retire a"));
    let only_new = service(repo.clone(), ring(&n, &[]));
    only_new
        .verify_keyring()
        .await
        .expect("a is no longer required");
    let err = only_new.retire_key(lost.id()).await.unwrap_err();
    assert!(err.to_string().contains(orphan.id.as_str()), "{err}");

    // The orphan: probing names the field; a patch leaving the secret is
    // refused the same way; one replacing it works, and then `lost` retires.
    let err = only_new.test_profile(&orphan.id, None).await.unwrap_err();
    assert_eq!(err.code(), "SECRET_UNAVAILABLE");
    assert_eq!(
        err.details(),
        json!({"field": "/config/password", "kind": "sealed"})
    );
    only_new
        .update(&orphan.id, describe("description only"))
        .await
        .expect("no secret needed");
    let port_only = ProfileUpdate {
        config: Some(json!({"port": 10})),
        ..ProfileUpdate::default()
    };
    let err = only_new.update(&orphan.id, port_only).await.unwrap_err();
    assert_eq!(err.code(), "SECRET_UNAVAILABLE");
    assert!(err.to_string().contains("replace"), "{err}");
    assert_eq!(
        repo.get(&TenantId::default(), &orphan.id)
            .await
            .unwrap()
            .version,
        2,
        "nothing stored"
    );
    let replace = ProfileUpdate {
        config: Some(json!({"port": 10, "password": "fresh-pw"})),
        ..ProfileUpdate::default()
    };
    let fixed = only_new.update(&orphan.id, replace).await.expect("replace");
    assert_eq!(fixed.config["port"], 10);
    assert_eq!(password(&ring(&n, &[]), &fixed), "fresh-pw");
    only_new
        .test_profile(&orphan.id, None)
        .await
        .expect("probe");
    assert!(!only_new.retire_key(lost.id()).await.expect("retire lost"));
}
