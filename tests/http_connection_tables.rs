//! The server example's `connection_tables` resource, end to end: a table
//! referencing a profile makes the seed's `DELETE` answer 409 listing it, and
//! the tables survive a restart because they live in the store (named
//! dependents), where a second create of a name is a 409.

#[path = "../examples/server/tables.rs"]
#[allow(dead_code)]
mod tables;

use std::sync::Arc;

use patchbay::testkit::fake::FakeConnector;
use patchbay::ProfileService;
use patchbay_store_sqlite::SqliteStore;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

/// Serves the API and the tables resource over the SQLite file at `url`.
async fn serve(url: &str) -> (String, tokio::task::JoinHandle<()>) {
    let (store, keyring) = SqliteStore::open_default(url).await.expect("store");
    let service = ProfileService::builder(Arc::new(store))
        .sealer(keyring)
        .connector(FakeConnector::default())
        .build()
        .expect("service");
    let tables = tables::Tables::new(service.clone());
    let api = patchbay_http::HttpApi::new(service)
        .mount_path("/api/v1")
        .into_mounted_router();
    // As the server example without tokens: every caller is admin.
    let app: axum::Router = api
        .merge(tables.router("/api/v1"))
        .layer(axum::Extension(patchbay_http::Principal::admin()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/api/v1", listener.local_addr().unwrap());
    let task = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, task)
}

async fn call(req: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let r = req.send().await.expect("request");
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_table_in_use_blocks_profile_deletion_until_it_is_removed() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("tables.db").display());
    let c = Client::new();
    let (base, server) = serve(&url).await;
    let body = json!({ "name": "orders-db", "connector": "fake",
                       "config": { "host": "127.0.0.1", "port": 9, "password": "pw" } });
    let (status, created) = call(c.post(format!("{base}/connection_profiles")).json(&body)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["data"]["id"].as_str().unwrap().to_owned();

    let table = json!({ "name": "orders", "profile_id": id });
    let (status, reply) = call(c.post(format!("{base}/connection_tables")).json(&table)).await;
    assert!(status.is_success(), "{status} {reply}");
    let (status, reply) = call(c.post(format!("{base}/connection_tables")).json(&table)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{reply}");
    assert_eq!(reply["error"]["code"], "ALREADY_EXISTS");
    let (status, reply) = call(c.delete(format!("{base}/connection_profiles/{id}"))).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(reply["error"]["code"], "PROFILE_IN_USE");
    assert_eq!(
        reply["error"]["details"]["dependents"],
        json!([{ "kind": "connection_table", "id": "orders" }])
    );
    let missing = json!({ "name": "ghost", "profile_id": "prof_0000" });
    let (status, _) = call(c.post(format!("{base}/connection_tables")).json(&missing)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A restart finds the tables in the store.
    server.abort();
    let (base, _server) = serve(&url).await;
    let (status, list) = call(c.get(format!("{base}/connection_tables"))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(list.to_string().contains("orders"), "{list}");
    let (status, _) = call(c.delete(format!("{base}/connection_tables/orders"))).await;
    assert!(status.is_success());
    let (status, reply) = call(c.delete(format!("{base}/connection_profiles/{id}"))).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert_eq!(
        reply["data"]["message"],
        "Connection profile deleted successfully"
    );
}

/// Tables an older build kept as plain attachments are named at start; a
/// second one of the same name stays attached (still blocking its profile).
#[tokio::test(flavor = "multi_thread")]
async fn plain_attachments_of_an_older_build_are_adopted() {
    use patchbay::{Dependent, NewProfile};
    let service = ProfileService::builder(Arc::new(patchbay::memory::MemoryStore::new()))
        .connector(FakeConnector::default())
        .build()
        .expect("service");
    let mut ids = Vec::new();
    for name in ["old-a", "old-b"] {
        let p = service
            .create(NewProfile {
                name: name.into(),
                connector: "fake".into(),
                description: None,
                config: json!({ "host": "127.0.0.1", "port": 9, "password": "pw" }),
                labels: Default::default(),
            })
            .await
            .expect("create");
        let legacy = Dependent::new("connection_table", "orders");
        service.attach(&p.id, &legacy).await.expect("attach");
        ids.push(p.id);
    }
    let tables = tables::Tables::new(service.clone());
    assert_eq!(tables.adopt_plain_attachments().await.expect("adopt"), 1);
    assert_eq!(tables.adopt_plain_attachments().await.expect("again"), 0);
    let named = service
        .named_dependents("connection_table", None, 10)
        .await
        .expect("named");
    assert_eq!(named.len(), 1);
    for id in &ids {
        assert_eq!(
            service.delete(id).await.unwrap_err().code(),
            "PROFILE_IN_USE"
        );
    }
}
