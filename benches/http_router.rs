//! The HTTP adapter's own cost, without sockets: requests driven through the
//! router in-process (`tower::ServiceExt::oneshot`), beside a bare axum router
//! answering the same bytes. Complements `benches/http_load.sh`, whose wrk
//! figures are dominated by the kernel's loopback TCP and drift with the
//! machine's load; these do not.
//!
//! `cargo bench --bench http_router -- --noplot`

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::{header, Request};
use axum::routing::get;
use axum::Router;
use criterion::{criterion_group, criterion_main, Criterion};
use patchbay::memory::MemoryStore;
use patchbay::{NewProfile, ProfileService};
use serde_json::json;
use tower::ServiceExt;

async fn body(app: &Router, uri: &str) -> Bytes {
    let response = app
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).expect("request"))
        .await
        .expect("response");
    assert!(response.status().is_success(), "{uri}");
    axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("body")
}

fn bare(one: Bytes, list: Bytes) -> Router {
    let reply = |b: Bytes| ([(header::CONTENT_TYPE, "application/json")], b);
    Router::new()
        .route(
            "/api/v1/connection_profiles",
            get(move || std::future::ready(reply(list.clone()))),
        )
        .route(
            "/api/v1/connection_profiles/{id}",
            get(move || std::future::ready(reply(one.clone()))),
        )
}

fn routers(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (api, id) = rt.block_on(async {
        let service = ProfileService::builder(Arc::new(MemoryStore::new()))
            .connector(patchbay_connector_postgres::PostgresConnector)
            .build()
            .expect("service");
        let mut id = None;
        for i in 0..1000 {
            let new: NewProfile = serde_json::from_value(json!({
                "name": format!("bench-{i:04}"), "connector": "postgres",
                "description": "router bench profile",
                "config": {"host": "127.0.0.1", "port": 5432, "database": "test",
                           "username": "postgres", "password": "bench-secret"}
            }))
            .expect("profile");
            id = Some(service.create(new).await.expect("create").id);
        }
        let api = |trace: bool| -> Router {
            patchbay_http::HttpApi::new(service.clone())
                .mount_path("/api/v1")
                .trace_requests(trace)
                .allow_anonymous(patchbay_http::Principal::admin())
                .into_mounted_router()
        };
        ((api(false), api(true)), id.expect("an id"))
    });
    // As the server example runs by default (no request spans), and with them.
    let (api, traced) = api;
    let one_uri = format!("/api/v1/connection_profiles/{id}");
    let list_uri = "/api/v1/connection_profiles?prefix=bench-01&limit=100";
    let (one, list) =
        rt.block_on(async { (body(&api, &one_uri).await, body(&api, list_uri).await) });
    let bare = bare(one, list);

    let mut g = c.benchmark_group("router");
    for (name, app, uri) in [
        ("one/bare", &bare, one_uri.as_str()),
        ("one/patchbay", &api, one_uri.as_str()),
        ("one/patchbay_traced", &traced, one_uri.as_str()),
        ("list/bare", &bare, "/api/v1/connection_profiles"),
        ("list/patchbay", &api, list_uri),
        ("list/patchbay_traced", &traced, list_uri),
    ] {
        g.bench_function(name, |b| b.to_async(&rt).iter(|| body(app, uri)));
    }
    g.finish();
}

criterion_group!(benches, routers);
criterion_main!(benches);
