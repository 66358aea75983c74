//! Labels through the real router: set on create, merged by PATCH, shown on
//! every read, filtered on in lists (`?label=k:v`, repeatable, ANDed), and
//! bad keys, values and filters refused naming the field.

use std::sync::Arc;

use axum::body::{to_bytes, Body};
use axum::http::{header, Request};
use axum::Router;
use patchbay_core::ProfileService;
use patchbay_http::{HttpApi, Principal};
use patchbay_testkit::fake::FakeConnector;
use serde_json::{json, Value};
use tower::ServiceExt;

fn app() -> Router {
    let service = ProfileService::builder(Arc::new(patchbay_store_memory::MemoryStore::new()))
        .connector(FakeConnector::default())
        .build()
        .expect("service");
    HttpApi::new(service)
        .allow_anonymous(Principal::admin())
        .into_router()
}

async fn call(app: &Router, method: &str, uri: &str, body: Option<Value>) -> (u16, Value) {
    let mut req = Request::builder().method(method).uri(uri);
    if body.is_some() {
        req = req.header(header::CONTENT_TYPE, "application/json");
    }
    let req = req
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
        .expect("request");
    let res = app.clone().oneshot(req).await.expect("response");
    let status = res.status().as_u16();
    let bytes = to_bytes(res.into_body(), 1 << 22).await.expect("body");
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

async fn create(app: &Router, name: &str, labels: Value) -> (u16, Value) {
    let body = json!({ "name": name, "connector": "fake", "config": { "host": "127.0.0.1" }, "labels": labels });
    call(app, "POST", "/connection_profiles", Some(body)).await
}

fn names(list: &Value) -> Vec<&str> {
    list["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|p| p["name"].as_str().expect("name"))
        .collect()
}

#[tokio::test]
async fn labels_are_set_merged_and_filtered() {
    let app = app();
    let (status, a) = create(&app, "a", json!({"env": "prod", "team/owner": "payments"})).await;
    assert_eq!(status, 201, "{a}");
    assert_eq!(
        a["data"]["labels"],
        json!({"env": "prod", "team/owner": "payments"})
    );
    create(&app, "b", json!({"env": "prod"})).await;
    create(&app, "c", json!({"env": "dev", "team/owner": "payments"})).await;
    let (_, none) = call(
        &app,
        "POST",
        "/connection_profiles",
        Some(json!({ "name": "d", "connector": "fake", "config": { "host": "127.0.0.1" } })),
    )
    .await;
    assert_eq!(none["data"]["labels"], json!({}), "labels: {{}} when none");

    let list = |q: &str| format!("/connection_profiles?{q}");
    let (_, l) = call(&app, "GET", &list("label=env:prod"), None).await;
    assert_eq!(names(&l), ["a", "b"]);
    let (_, l) = call(
        &app,
        "GET",
        &list("label=env:prod&label=team/owner:payments"),
        None,
    )
    .await;
    assert_eq!(names(&l), ["a"]);

    // PATCH merges: null removes, a string sets, the rest stays.
    let id = a["data"]["id"].as_str().expect("id");
    let (status, p) = call(
        &app,
        "PATCH",
        &format!("/connection_profiles/{id}"),
        Some(json!({"labels": {"env": null, "tier": "gold"}})),
    )
    .await;
    assert_eq!(status, 200, "{p}");
    assert_eq!(
        p["data"]["labels"],
        json!({"team/owner": "payments", "tier": "gold"})
    );
    let (_, l) = call(&app, "GET", &list("label=env:prod"), None).await;
    assert_eq!(names(&l), ["b"]);
    let (_, l) = call(
        &app,
        "GET",
        &list("label=team/owner:payments&limit=1"),
        None,
    )
    .await;
    assert_eq!(names(&l), ["a"]);
    let cursor = l["next_cursor"].as_str().expect("more");
    let (_, l) = call(
        &app,
        "GET",
        &list(&format!(
            "label=team/owner:payments&limit=1&cursor={cursor}"
        )),
        None,
    )
    .await;
    assert_eq!(names(&l), ["c"]);

    // Refusals name the field; nothing is stored.
    let (status, e) = create(&app, "e", json!({"Env": "x"})).await;
    assert_eq!(
        (status, &e["error"]["details"]["fields"][0]["path"]),
        (400, &json!("/labels/Env"))
    );
    let (status, e) = create(&app, "e", json!({"env": "a\u{7}b"})).await;
    assert_eq!(
        (status, &e["error"]["details"]["fields"][0]["path"]),
        (400, &json!("/labels/env"))
    );
    let many: serde_json::Map<String, Value> =
        (0..17).map(|i| (format!("k{i}"), json!("v"))).collect();
    let (status, _) = create(&app, "e", Value::Object(many)).await;
    assert_eq!(status, 400);
    let (status, e) = create(&app, "e", json!({"env": 1})).await;
    assert_eq!(status, 400, "{e}");
    let (status, e) = call(&app, "GET", &list("label=env"), None).await;
    assert_eq!(
        (status, &e["error"]["details"]["fields"][0]["path"]),
        (400, &json!("/label"))
    );
    let (status, _) = call(&app, "GET", "/connection_profiles/nope", None).await;
    assert_eq!(status, 404);
    let (_, all) = call(&app, "GET", &list(""), None).await;
    assert_eq!(names(&all), ["a", "b", "c", "d"]);
}
