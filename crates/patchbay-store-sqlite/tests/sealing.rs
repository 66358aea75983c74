//! Secrets sealed at rest in SQLite: never in the file in plain text,
//! restored with the right key, a clear error with the wrong one, and
//! rotation plus reseal through the service.

use std::sync::Arc;

use patchbay_core::{Key, Keyring, NewProfile, ProfileId, ProfileService, ProfileUpdate, Sealer};
use patchbay_store_sqlite::SqliteStore;
use patchbay_testkit::fake::FakeConnector;
use secrecy::ExposeSecret;
use serde_json::json;

fn service(store: &SqliteStore, keyring: Keyring) -> ProfileService {
    ProfileService::builder(Arc::new(store.clone()))
        .connector(FakeConnector::default())
        .sealer(keyring)
        .build()
        .expect("service")
}

fn sentinel() -> String {
    format!("sentinel-{}", uuid::Uuid::new_v4().simple())
}

async fn create(svc: &ProfileService, name: &str, password: &str) -> ProfileId {
    let new = NewProfile {
        name: name.into(),
        connector: "fake".into(),
        description: None,
        config: json!({"host": "127.0.0.1", "password": password}),
        labels: Default::default(),
    };
    svc.create(new).await.expect("create").id
}

/// Every byte SQLite wrote: the database, its WAL and shared-memory index.
fn raw_bytes(store: &SqliteStore) -> Vec<u8> {
    let db = store.file().expect("a file").to_owned();
    let mut all = Vec::new();
    for suffix in ["", "-wal", "-shm"] {
        let mut path = db.clone().into_os_string();
        path.push(suffix);
        all.extend(std::fs::read(&path).unwrap_or_default());
    }
    all
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// The key ids of every stored envelope, read from the raw rows.
async fn stored_key_ids(store: &SqliteStore) -> Vec<String> {
    let rows: Vec<String> = sqlx::query_scalar("SELECT secrets FROM profiles")
        .fetch_all(store.pool())
        .await
        .expect("raw rows");
    rows.iter()
        .flat_map(|s| {
            let map: std::collections::BTreeMap<String, String> =
                serde_json::from_str(s).expect("json");
            map.into_values()
                .map(|env| env.split('.').nth(1).expect("key id").to_owned())
        })
        .collect()
}

async fn password(svc_keyring: &Keyring, store: &SqliteStore, id: &ProfileId) -> String {
    let p = patchbay_core::ProfileRepository::get(store, &patchbay_core::TenantId::default(), id)
        .await
        .expect("get");
    let env = p.secrets.0.get("password").expect("sealed password");
    svc_keyring
        .open(id, "password", env)
        .expect("open")
        .expose_secret()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_sealed_at_rest_and_restored() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}", dir.path().join("profiles.db").display());
    let (store, keyring) = SqliteStore::open_default(&url).await.expect("open");
    let key_file = store.key_file_path().expect("key file path");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file)
            .expect("key file created")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    let secret = sentinel();
    let svc = service(&store, keyring.clone());
    let id = create(&svc, "sealed-one", &secret).await;
    svc.test_profile(&id, None)
        .await
        .expect("probe with the right key");
    assert!(
        !contains(&raw_bytes(&store), &secret),
        "the plain secret reached the database file"
    );
    assert_eq!(
        stored_key_ids(&store).await,
        [keyring.active_id().to_owned()]
    );

    // An update that leaves the secret alone keeps it.
    let update = ProfileUpdate {
        config: Some(json!({"sleep_ms": 2})),
        ..ProfileUpdate::default()
    };
    svc.update(&id, update).await.expect("update");
    assert_eq!(password(&keyring, &store, &id).await, secret);

    // Reopen: the key comes back from the key file, and so does the secret.
    store.close().await;
    assert!(!contains(&raw_bytes(&store), &secret));
    let (store, again) = SqliteStore::open_default(&url).await.expect("reopen");
    assert_eq!(again.active_id(), keyring.active_id());
    assert_eq!(password(&again, &store, &id).await, secret);
    service(&store, again)
        .test_profile(&id, None)
        .await
        .expect("probe after reopen");

    // A wrong key: a clear SECRET_UNAVAILABLE naming the profile, no secret.
    let wrong = service(&store, Keyring::ephemeral());
    let err = wrong
        .test_profile(&id, None)
        .await
        .expect_err("wrong key must fail");
    assert_eq!(err.code(), "SECRET_UNAVAILABLE");
    let text = format!("{err} {err:?}");
    assert!(
        text.contains(id.as_str()) && !text.contains(&secret),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_and_reseal() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}", dir.path().join("profiles.db").display());
    let store = SqliteStore::open(&url).await.expect("open");
    let old = Key::generate();
    let svc = service(&store, Keyring::new(old.clone()));
    let mut made = Vec::new();
    for i in 0..5 {
        let s = sentinel();
        made.push((create(&svc, &format!("rot-{i}"), &s).await, s));
    }
    // One profile without secrets is left alone by reseal.
    let plain = NewProfile {
        name: "no-secret".into(),
        connector: "fake".into(),
        description: None,
        config: json!({"host": "127.0.0.1"}),
        labels: Default::default(),
    };
    svc.create(plain).await.expect("create");

    let new = Key::generate();
    let rotated = Keyring::new(new.clone()).with_older(old.clone());
    let svc = service(&store, rotated.clone());
    assert_eq!(svc.reseal().await.expect("reseal").resealed, made.len());
    assert_eq!(
        svc.reseal().await.expect("reseal again").resealed,
        0,
        "reseal must be idempotent"
    );
    let ids = stored_key_ids(&store).await;
    assert_eq!(ids.len(), made.len());
    assert!(
        ids.iter().all(|k| k == new.id()),
        "old key ids remain: {ids:?}"
    );

    // Readable with the new key alone; the old key alone no longer opens them.
    let only_new = Keyring::new(new);
    let old_only = service(&store, Keyring::new(old));
    for (id, secret) in &made {
        assert_eq!(&password(&only_new, &store, id).await, secret);
        service(&store, only_new.clone())
            .test_profile(id, None)
            .await
            .expect("probe");
        assert_eq!(
            old_only
                .test_profile(id, None)
                .await
                .expect_err("old key")
                .code(),
            "SECRET_UNAVAILABLE"
        );
    }
    assert!(!contains(&raw_bytes(&store), &made[0].1));
}
