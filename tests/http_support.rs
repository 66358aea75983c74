//! Shared by the `http_*` tests (included with `#[path]`): the router on an
//! ephemeral loopback port over a real store, and a real HTTP client.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use patchbay::testkit::fake::FakeConnector;
use patchbay::{NetworkPolicy, ProfileService};
use reqwest::{Client, Method, Response};
use serde_json::{json, Value};

/// A password that must never appear in any response.
pub const SENTINEL: &str = "S3ntinel-Pa55w0rd-7f3a";

/// A running API under `/api/v1`; stops when dropped.
pub struct Server {
    pub base: String,
    pub client: Client,
    pub fake: FakeConnector,
    pub service: ProfileService,
    task: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A reply: status, headers and body (as JSON, or `Value::Null` when not JSON).
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
    pub json: Value,
}

impl Reply {
    async fn from(r: Response) -> Self {
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await.expect("body");
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        assert!(
            !text.contains(SENTINEL),
            "a response leaked the sentinel secret: {text}"
        );
        Reply {
            status,
            headers,
            text,
            json,
        }
    }

    /// Asserts an error envelope with `status` and `code`; returns its details.
    pub fn error(&self, status: u16, code: &str) -> &Value {
        assert_eq!(self.status, status, "{}", self.text);
        assert_eq!(self.json["error"]["code"], code, "{}", self.text);
        assert!(self.json["error"]["message"].is_string(), "{}", self.text);
        assert!(self.json["error"]["details"].is_object(), "{}", self.text);
        assert_eq!(
            self.headers["content-type"], "application/json",
            "error bodies are JSON"
        );
        &self.json["error"]["details"]
    }

    /// The field paths of a `VALIDATION_FAILED` error.
    pub fn field_paths(&self) -> Vec<String> {
        let details = self.error(400, "VALIDATION_FAILED");
        details["fields"]
            .as_array()
            .expect("fields")
            .iter()
            .map(|f| f["path"].as_str().expect("path").to_owned())
            .collect()
    }
}

/// Starts the API with the default network policy.
pub async fn start() -> Server {
    start_with(NetworkPolicy::default()).await
}

/// Starts the API over a SQLite database in a temporary directory, held
/// exclusively as the server example holds it (so the response cache works).
pub async fn start_with(policy: NetworkPolicy) -> Server {
    let (dir, store, keyring) = open_store(true).await;
    serve(store, keyring, policy, dir, None).await
}

/// Like [`start`], over a file other stores may open too (no response cache).
pub async fn start_shared() -> Server {
    let (dir, store, keyring) = open_store(false).await;
    serve(store, keyring, NetworkPolicy::default(), dir, None).await
}

/// Starts the API with one more connector registered beside the fake.
pub async fn start_with_connector(extra: Arc<dyn patchbay::Connector>) -> Server {
    let (dir, store, keyring) = open_store(true).await;
    serve(store, keyring, NetworkPolicy::default(), dir, Some(extra)).await
}

async fn open_store(
    exclusive: bool,
) -> (
    tempfile::TempDir,
    patchbay_store_sqlite::SqliteStore,
    patchbay::Keyring,
) {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("profiles.db").display());
    let (store, keyring) = patchbay_store_sqlite::SqliteStore::open_default_with(
        patchbay_store_sqlite::SqliteConfig {
            exclusive,
            ..patchbay_store_sqlite::SqliteConfig::new(url)
        },
    )
    .await
    .expect("sqlite store");
    (dir, store, keyring)
}

/// The database file behind a server.
pub fn database_file(s: &Server) -> std::path::PathBuf {
    s._dir.path().join("profiles.db")
}

/// A second server over the same database whose keyring cannot open the
/// secrets the first one sealed (built without the startup key check).
pub async fn start_with_wrong_key(first: &Server) -> Server {
    let url = format!(
        "sqlite://{}",
        first._dir.path().join("profiles.db").display()
    );
    let store = patchbay_store_sqlite::SqliteStore::open(&url)
        .await
        .expect("sqlite store");
    let dir = tempfile::tempdir().expect("tempdir");
    serve(
        store,
        patchbay::Keyring::ephemeral(),
        NetworkPolicy::default(),
        dir,
        None,
    )
    .await
}

async fn serve(
    store: patchbay_store_sqlite::SqliteStore,
    keyring: patchbay::Keyring,
    policy: NetworkPolicy,
    dir: tempfile::TempDir,
    extra: Option<Arc<dyn patchbay::Connector>>,
) -> Server {
    let fake = FakeConnector::default();
    let mut builder = ProfileService::builder(Arc::new(store));
    if let Some(extra) = extra {
        builder = builder.connector_arc(extra);
    }
    let service = builder
        .sealer(keyring)
        .connector(fake.clone())
        .network_policy(policy)
        .probe_timeout(Duration::from_secs(5))
        .build()
        .expect("service");
    // Mounted as the server example mounts it (nesting: patchbay-http's unit tests).
    let app: axum::Router = patchbay_http::HttpApi::new(service.clone())
        .mount_path("/api/v1")
        .allow_anonymous(patchbay_http::Principal::admin())
        .into_mounted_router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.expect("serve");
    });
    Server {
        base: format!("http://{addr}/api/v1"),
        client: Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .expect("client"),
        fake,
        service,
        task,
        _dir: dir,
    }
}

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn send(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        let mut req = self.client.request(method, self.url(path));
        if let Some(body) = body {
            req = req.json(&body);
        }
        Reply::from(req.send().await.expect("request")).await
    }

    /// A raw body with an explicit content type.
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Reply {
        let mut req = self.client.request(method, self.url(path)).body(body);
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        Reply::from(req.send().await.expect("request")).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.send(Method::POST, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Reply {
        self.send(Method::PATCH, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.send(Method::DELETE, path, None).await
    }

    /// Creates a fake profile with the sentinel password; returns its JSON.
    pub async fn create(&self, name: &str) -> Value {
        let r = self
            .post("/connection_profiles", new_body(name, ok_config()))
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        r.json["data"].clone()
    }
}

pub fn ok_config() -> Value {
    json!({ "host": "127.0.0.1", "port": 9, "password": SENTINEL })
}

pub fn new_body(name: &str, config: Value) -> Value {
    json!({ "name": name, "connector": "fake", "description": "e2e", "config": config })
}
