//! The audit trail through the real router: writes and secret openings of a
//! tenant show up in its `GET /audit` (admin only), with the token's name as
//! the principal, filtered by profile and action, never another tenant's,
//! never a config value.

use std::sync::Arc;

use axum::body::{to_bytes, Body};
use axum::http::{header, Request};
use axum::Router;
use patchbay_core::ProfileService;
use patchbay_http::{authenticate_bearer, BearerTokens, HttpApi, MintedToken, Role, TenantId};
use patchbay_testkit::fake::FakeConnector;
use serde_json::{json, Value};
use tower::ServiceExt;

async fn call(
    app: &Router,
    token: &MintedToken,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = Request::builder()
        .method(method)
        .uri(format!("/api/v1{path}"))
        .header(header::AUTHORIZATION, format!("Bearer {}", token.token()));
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

fn actions(page: &Value) -> Vec<(String, String)> {
    page["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|e| {
            (
                e["action"].as_str().expect("action").to_owned(),
                e["outcome"].as_str().expect("outcome").to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_trail_records_writes_and_openings_per_tenant() {
    let tenant = |t: &str| TenantId::new(t).expect("tenant");
    let admin = MintedToken::new(Role::Admin, &tenant("acme"), Some("alice")).expect("token");
    let writer = MintedToken::new(Role::Write, &tenant("acme"), Some("bob")).expect("token");
    let other = MintedToken::new(Role::Admin, &tenant("globex"), Some("carol")).expect("token");
    let service = ProfileService::builder(Arc::new(patchbay_store_memory::MemoryStore::new()))
        .connector(FakeConnector::default())
        .build()
        .expect("service");
    let lines: Vec<&str> = [&admin, &writer, &other].iter().map(|t| t.line()).collect();
    let tokens = BearerTokens::parse(&lines.join("\n")).expect("tokens");
    let app = Router::new()
        .nest("/api/v1", HttpApi::new(service).into_router())
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(tokens),
            authenticate_bearer,
        ));

    let body = json!({ "name": "orders", "connector": "fake",
        "config": { "host": "127.0.0.1", "password": "s3cret-value" } });
    let (status, p) = call(&app, &writer, "POST", "/connection_profiles", Some(body)).await;
    assert_eq!(status, 201, "{p}");
    let id = p["data"]["id"].as_str().expect("id").to_owned();
    let one = format!("/connection_profiles/{id}");
    call(
        &app,
        &writer,
        "PATCH",
        &one,
        Some(json!({"description": "x"})),
    )
    .await;
    call(
        &app,
        &writer,
        "PATCH",
        &one,
        Some(json!({"version": 1, "description": "stale"})),
    )
    .await;
    call(&app, &writer, "POST", &format!("{one}/test"), None).await;
    call(
        &app,
        &writer,
        "GET",
        &format!("{one}/autocomplete?type=things"),
        None,
    )
    .await;
    call(
        &app,
        &writer,
        "DELETE",
        "/connection_profiles/prof_missing",
        None,
    )
    .await;

    let (status, _) = call(&app, &writer, "GET", "/audit", None).await;
    assert_eq!(status, 403, "the trail is for admins");
    let (status, page) = call(&app, &admin, "GET", "/audit", None).await;
    assert_eq!(status, 200, "{page}");
    let expected = [
        ("create", "success"),
        ("update", "success"),
        ("update", "failure"),
        ("test", "success"),
        ("autocomplete", "success"),
        ("delete", "failure"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(a, o)| ((*a).to_owned(), (*o).to_owned()))
        .collect();
    assert_eq!(actions(&page), expected, "{page}");
    let events = page["data"].as_array().expect("data");
    assert!(events.iter().all(|e| e["principal"] == "bob"), "{page}");
    assert_eq!(events[1]["version"], 2);
    assert_eq!(events[2]["error_code"], "VERSION_CONFLICT");
    assert_eq!(events[5]["error_code"], "NOT_FOUND");
    assert!(
        !page.to_string().contains("s3cret-value"),
        "a secret in the trail"
    );

    let (_, updates) = call(
        &app,
        &admin,
        "GET",
        &format!("/audit?profile_id={id}&action=update&limit=1"),
        None,
    )
    .await;
    assert_eq!(
        actions(&updates),
        [("update".to_owned(), "success".to_owned())]
    );
    let after = updates["next_cursor"].as_str().expect("more");
    let (_, rest) = call(
        &app,
        &admin,
        "GET",
        &format!("/audit?profile_id={id}&action=update&after={after}"),
        None,
    )
    .await;
    assert_eq!(
        actions(&rest),
        [("update".to_owned(), "failure".to_owned())]
    );

    let (_, theirs) = call(&app, &other, "GET", "/audit", None).await;
    assert_eq!(theirs["data"], json!([]), "another tenant's trail");
    let (status, _) = call(&app, &other, "GET", &format!("/audit?after={after}"), None).await;
    assert_eq!(status, 400, "a cursor of another tenant");
    let (status, bad) = call(
        &app,
        &admin,
        "GET",
        "/audit?action=explode&profile_id=x",
        None,
    )
    .await;
    assert_eq!(status, 400);
    let paths: Vec<&str> = bad["error"]["details"]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|f| f["path"].as_str().expect("path"))
        .collect();
    assert_eq!(paths, ["/profile_id", "/action"]);
}
