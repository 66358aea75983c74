//! A write that lands while a read is in flight: the read's rendering must not
//! be reused after the write, whatever the timing. The store here pauses
//! after reading until told to go on, so the interleaving is exact.

use std::sync::{Arc, Mutex};

use axum::body::{to_bytes, Body};
use axum::http::Request;
use axum::Router;
use patchbay_core::{
    async_trait, Dependent, ListQuery, NewProfile, Page, Profile, ProfileId, ProfileRepository,
    ProfileService, ProfileUpdate, Result, TenantId,
};
use patchbay_store_memory::MemoryStore;
use patchbay_testkit::fake::FakeConnector;
use serde_json::{json, Value};
use tokio::sync::oneshot;

type Pause = (oneshot::Sender<()>, oneshot::Receiver<()>);

/// The memory store, with reads that can be held after they have read.
#[derive(Default)]
struct Held {
    inner: MemoryStore,
    pause: Mutex<Option<Pause>>,
}

impl Held {
    /// The next read signals `reached` once it has its data, then waits for `go`.
    fn hold_next(&self) -> (oneshot::Receiver<()>, oneshot::Sender<()>) {
        let (reached_tx, reached_rx) = oneshot::channel();
        let (go_tx, go_rx) = oneshot::channel();
        *self.pause.lock().unwrap() = Some((reached_tx, go_rx));
        (reached_rx, go_tx)
    }

    async fn after_read(&self) {
        let pause = self.pause.lock().unwrap().take();
        if let Some((reached, go)) = pause {
            let _ = reached.send(());
            let _ = go.await;
        }
    }
}

#[async_trait]
impl ProfileRepository for Held {
    async fn create(&self, p: &Profile) -> Result<()> {
        self.inner.create(p).await
    }
    async fn tenants(&self) -> Result<Vec<TenantId>> {
        self.inner.tenants().await
    }
    async fn get(&self, tenant: &TenantId, id: &ProfileId) -> Result<Profile> {
        let read = self.inner.get(tenant, id).await;
        self.after_read().await;
        read
    }
    async fn get_by_name(&self, tenant: &TenantId, name: &str) -> Result<Profile> {
        self.inner.get_by_name(tenant, name).await
    }
    async fn list(&self, tenant: &TenantId, q: &ListQuery) -> Result<Page<Profile>> {
        let read = self.inner.list(tenant, q).await;
        self.after_read().await;
        read
    }
    async fn update(&self, p: &Profile, v: u64) -> Result<()> {
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
    fn revision(&self) -> Option<u64> {
        self.inner.revision()
    }
}

async fn get(app: &Router, uri: &str) -> Value {
    use tower::ServiceExt;
    let response = app
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    serde_json::from_slice(&to_bytes(response.into_body(), 1 << 20).await.unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_overtaken_by_a_write_is_not_reused() {
    let store = Arc::new(Held::default());
    let service = ProfileService::builder(store.clone())
        .connector(FakeConnector::default())
        .build()
        .unwrap();
    let app: Router = patchbay_http::HttpApi::new(service.clone())
        .allow_anonymous(patchbay_http::Principal::admin())
        .into_router();
    let new: NewProfile = serde_json::from_value(json!({
        "name": "raced", "connector": "fake", "description": "before",
        "config": {"host": "127.0.0.1"}
    }))
    .unwrap();
    let id = service.create(new).await.unwrap().id;

    for uri in [
        format!("/connection_profiles/{id}"),
        "/connection_profiles?prefix=race".to_owned(),
    ] {
        let before = service.get(&id).await.unwrap().description.unwrap();
        let (reached, go) = store.hold_next();
        let slow = tokio::spawn({
            let (app, uri) = (app.clone(), uri.clone());
            async move { get(&app, &uri).await }
        });
        reached.await.unwrap();
        let update: ProfileUpdate =
            serde_json::from_value(json!({ "description": format!("{before}+") })).unwrap();
        service.update(&id, update).await.unwrap();
        go.send(()).unwrap();
        let stale = slow.await.unwrap();
        let stale = stale["data"].get(0).unwrap_or(&stale["data"]);
        assert_eq!(
            stale["description"],
            before.as_str(),
            "{uri}: read began first"
        );

        let next = get(&app, &uri).await;
        let next = next["data"].get(0).unwrap_or(&next["data"]);
        assert_eq!(
            next["description"],
            format!("{before}+"),
            "{uri}: stale reuse"
        );
    }
}
