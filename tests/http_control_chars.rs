//! Control characters in query parameters and cursors, over HTTP: `GET
//! /connection_profiles` and autocomplete answer 400 `VALIDATION_FAILED`
//! naming the parameter, on SQLite and on Postgres (where a NUL reaching
//! the store used to be a 500), and nothing is stored by any of it.

use std::sync::Arc;
use std::time::Duration;

use patchbay::repository::encode_cursor;
use patchbay::testkit::fake::FakeConnector;
use patchbay::{ProfileRepository, ProfileService};
use patchbay_store_postgres::PostgresStore;
use reqwest::Client;
use serde_json::{json, Value};
use sqlx::Connection;

const PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// The API over `repo` on a loopback port, mounted as the server example
/// mounts it; the task ends with the test.
async fn serve(repo: Arc<dyn ProfileRepository>) -> String {
    let service = ProfileService::builder(repo)
        .connector(FakeConnector::default())
        .build()
        .expect("service");
    let app: axum::Router = patchbay_http::HttpApi::new(service)
        .mount_path("/api/v1")
        .allow_anonymous(patchbay_http::Principal::admin())
        .into_mounted_router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    format!("http://{addr}/api/v1")
}

/// Status and the paths of the error's `fields`.
async fn get(client: &Client, url: &str) -> (u16, Value) {
    let r = client.get(url).send().await.expect("request");
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    (status, body)
}

fn paths(body: &Value) -> Vec<String> {
    assert_eq!(body["error"]["code"], "VALIDATION_FAILED", "{body}");
    body["error"]["details"]["fields"]
        .as_array()
        .unwrap_or_else(|| panic!("fields in {body}"))
        .iter()
        .map(|f| f["path"].as_str().expect("path").to_owned())
        .collect()
}

async fn refuses_control_characters(repo: Arc<dyn ProfileRepository>) {
    let base = serve(repo).await;
    let client = Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client");
    let created = client
        .post(format!("{base}/connection_profiles"))
        .json(&json!({
            "name": "hostile-query", "connector": "fake",
            "config": { "host": "127.0.0.1", "password": "pw" }
        }))
        .send()
        .await
        .expect("create");
    assert_eq!(created.status().as_u16(), 201);
    let id = created.json::<Value>().await.unwrap()["data"]["id"]
        .as_str()
        .expect("id")
        .to_owned();

    // NUL, other C0 controls, DEL and a C1 control, percent-encoded.
    let nul_cursor = encode_cursor(&patchbay::TenantId::default(), "a\0");
    for bad in ["%00", "x%01", "%1B%5B2J", "%7F", "%C2%85"] {
        for (query, path) in [
            (format!("prefix={bad}"), "/prefix"),
            (format!("connector=fa{bad}ke"), "/connector"),
            (format!("cursor={bad}"), "/cursor"),
        ] {
            let (status, body) = get(&client, &format!("{base}/connection_profiles?{query}")).await;
            assert_eq!(status, 400, "{query}: {body}");
            assert_eq!(paths(&body), [path], "{query}");
        }
        let url = format!("{base}/connection_profiles/{id}/autocomplete");
        for (query, expected) in [
            (format!("type=things&prefix={bad}"), vec!["/prefix"]),
            (format!("type=things&parent=pub{bad}lic"), vec!["/parent"]),
            (format!("type=thi{bad}ngs"), vec!["/type"]),
            (
                format!("type=things&parent={bad}&prefix={bad}"),
                vec!["/parent", "/prefix"],
            ),
        ] {
            let (status, body) = get(&client, &format!("{url}?{query}")).await;
            assert_eq!(status, 400, "{query}: {body}");
            assert_eq!(paths(&body), expected, "{query}");
        }
    }
    // A well-formed cursor whose name key holds a NUL.
    let (status, body) = get(
        &client,
        &format!("{base}/connection_profiles?cursor={nul_cursor}"),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(paths(&body), ["/cursor"]);

    // Plain values still work, and the one profile is all there is.
    let (status, body) = get(
        &client,
        &format!("{base}/connection_profiles?prefix=hostile"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"].as_array().map(Vec::len), Some(1), "{body}");
}

#[tokio::test]
async fn sqlite_store() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("hostile.db").display());
    let store = patchbay_store_sqlite::SqliteStore::open(&url)
        .await
        .unwrap();
    refuses_control_characters(Arc::new(store)).await;
}

#[tokio::test]
async fn postgres_store() {
    let found = tokio::time::timeout(Duration::from_secs(5), sqlx::PgConnection::connect(PG_URL))
        .await
        .map_err(|_| "connect timed out".to_owned())
        .and_then(|r| r.map_err(|e| e.to_string()));
    let Some(mut admin) = patchbay::testkit::net::require(
        "PostgreSQL",
        "a server on 127.0.0.1:5432 with user postgres and database test",
        found,
    ) else {
        return;
    };
    // Named like the Postgres store's own test schemas, so a killed run's
    // leftover is dropped by their cleanup.
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let suffix = &patchbay::ProfileId::generate().as_str()[5..17].to_owned();
    let schema = format!("pbtest_{secs}_{suffix}");
    let store = PostgresStore::connect(PG_URL, &schema).await.unwrap();
    refuses_control_characters(Arc::new(store)).await;
    sqlx::raw_sql(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
        .execute(&mut admin)
        .await
        .unwrap();
}
