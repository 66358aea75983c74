//! Secrets sealed at rest in Postgres: never in the row in plain text,
//! restored with the right key, a clear error with the wrong one, and
//! rotation plus reseal through the service.

mod common;

use std::sync::Arc;

use patchbay_core::{
    Key, Keyring, NewProfile, ProfileId, ProfileRepository, ProfileService, Sealer,
};
use patchbay_testkit::fake::FakeConnector;
use secrecy::ExposeSecret;
use serde_json::json;

use common::TestStore;

fn service(store: &Arc<TestStore>, keyring: Keyring) -> ProfileService {
    ProfileService::builder(store.clone())
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

/// Every stored row as Postgres renders it, all columns.
async fn raw_rows(store: &TestStore) -> String {
    let sql = format!(
        "SELECT t::text FROM \"{}\".profiles t",
        store.store.schema()
    );
    let rows: Vec<String> = sqlx::query_scalar(&sql)
        .fetch_all(store.store.pool())
        .await
        .expect("raw");
    rows.join("\n")
}

async fn stored_key_ids(store: &TestStore) -> Vec<String> {
    let sql = format!(
        "SELECT v FROM \"{}\".profiles, jsonb_each_text(secrets) AS s(k, v)",
        store.store.schema()
    );
    let envs: Vec<String> = sqlx::query_scalar(&sql)
        .fetch_all(store.store.pool())
        .await
        .expect("raw");
    envs.iter()
        .map(|e| e.split('.').nth(1).expect("key id").to_owned())
        .collect()
}

async fn password(keyring: &Keyring, store: &TestStore, id: &ProfileId) -> String {
    let p = store
        .get(&patchbay_core::TenantId::default(), id)
        .await
        .expect("get");
    let env = p.secrets.0.get("password").expect("sealed password");
    keyring
        .open(id, "password", env)
        .expect("open")
        .expose_secret()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_sealed_at_rest_rotated_and_resealed() {
    let Some(store) = TestStore::new().await else {
        return;
    };
    let store = Arc::new(store);
    let old = Key::generate();
    let keyring = Keyring::new(old.clone());
    let svc = service(&store, keyring.clone());
    assert_eq!(svc.verify_keyring().await.expect("check"), [old.id()]);
    let mut made = Vec::new();
    for i in 0..3 {
        let s = sentinel();
        made.push((create(&svc, &format!("seal-{i}"), &s).await, s));
    }
    let raw = raw_rows(&store).await;
    for (id, secret) in &made {
        assert!(raw.contains(id.as_str()), "raw rows are readable");
        assert!(
            !raw.contains(secret.as_str()),
            "a plain secret reached the row"
        );
        assert_eq!(&password(&keyring, &store, id).await, secret);
        svc.test_profile(id, None)
            .await
            .expect("probe with the right key");
    }

    // A store reconnected to the same schema reads them with the same key.
    let again =
        patchbay_store_postgres::PostgresStore::connect(&common::url(), store.store.schema())
            .await
            .expect("reconnect");
    let p = again
        .get(&patchbay_core::TenantId::default(), &made[0].0)
        .await
        .expect("get");
    assert_eq!(
        keyring
            .open(&p.id, "password", &p.secrets.0["password"])
            .expect("open")
            .expose_secret(),
        made[0].1
    );

    // Wrong key: refused by the startup check naming the key ids, and a
    // probe is SECRET_UNAVAILABLE naming the profile, no secret.
    let wrong = service(&store, Keyring::ephemeral());
    let err = wrong.verify_keyring().await.expect_err("wrong keyring");
    assert_eq!(err.code(), "SECRET_UNAVAILABLE");
    assert!(err.to_string().contains(old.id()), "{err}");
    let err = wrong
        .test_profile(&made[0].0, None)
        .await
        .expect_err("wrong key");
    assert_eq!(err.code(), "SECRET_UNAVAILABLE");
    let text = format!("{err} {err:?}");
    assert!(
        text.contains(made[0].0.as_str()) && !text.contains(&made[0].1),
        "{text}"
    );

    // Rotation: reseal rewrites every envelope with the new key.
    let new = Key::generate();
    let svc = service(&store, Keyring::new(new.clone()).with_older(old.clone()));
    svc.verify_keyring().await.expect("old and new");
    assert_eq!(svc.reseal().await.expect("reseal").resealed, made.len());
    assert!(svc.retire_key(old.id()).await.expect("retire the old key"));
    let ids = stored_key_ids(&store).await;
    assert_eq!(ids.len(), made.len());
    assert!(
        ids.iter().all(|k| k == new.id()),
        "old key ids remain: {ids:?}"
    );
    let only_new = Keyring::new(new);
    for (id, secret) in &made {
        assert_eq!(&password(&only_new, &store, id).await, secret);
        service(&store, only_new.clone())
            .test_profile(id, None)
            .await
            .expect("probe");
    }
    assert!(!raw_rows(&store).await.contains(made[1].1.as_str()));
    service(&store, only_new.clone())
        .verify_keyring()
        .await
        .expect("the new key alone opens the store");
}
