//! The authorization hook through the real router: for every route, no
//! principal is a 401, each role weaker than the route's a 403 that changes
//! nothing, and the route's own role succeeds. The OpenAPI document states
//! the same roles.

use std::sync::Arc;

use axum::body::{to_bytes, Body};
use axum::http::{header, Request};
use axum::Router;
use patchbay_core::{NewProfile, ProfileId, ProfileService};
use patchbay_http::{HttpApi, Principal, Role, TenantId};
use patchbay_testkit::fake::FakeConnector;
use serde_json::{json, Value};
use tower::ServiceExt;

fn service() -> ProfileService {
    ProfileService::builder(Arc::new(patchbay_store_memory::MemoryStore::new()))
        .connector(FakeConnector::default())
        .build()
        .expect("service")
}

async fn create(service: &ProfileService, name: &str) -> ProfileId {
    let new: NewProfile = serde_json::from_value(json!({
        "name": name, "connector": "fake",
        "config": { "host": "127.0.0.1", "password": "pw" }
    }))
    .expect("profile");
    service.create(new).await.expect("create").id
}

/// Sends `method uri` (with `body` as JSON) as `who`; status, headers, body.
async fn send(
    app: &Router,
    method: &str,
    uri: &str,
    body: Option<&Value>,
    who: Option<Principal>,
) -> (u16, axum::http::HeaderMap, Value) {
    let mut req = Request::builder().method(method).uri(uri);
    if body.is_some() {
        req = req.header(header::CONTENT_TYPE, "application/json");
    }
    let mut req = req
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
        .expect("request");
    if let Some(p) = who {
        req.extensions_mut().insert(p);
    }
    let res = app.clone().oneshot(req).await.expect("response");
    let (parts, body) = res.into_parts();
    let bytes = to_bytes(body, 1 << 22).await.expect("body");
    let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (parts.status.as_u16(), parts.headers, json)
}

fn holding(role: Role) -> Principal {
    Principal::new(TenantId::new("acme").expect("tenant"), [role])
}

/// Method, OpenAPI path, concrete URI, body, role needed, success status.
type Route = (&'static str, &'static str, String, Option<Value>, Role, u16);

/// Every route of the adapter.
fn routes(id: &str, victim: &str) -> Vec<Route> {
    let new = json!({ "name": "made", "connector": "fake", "config": { "host": "127.0.0.1" } });
    let unsaved = json!({ "name": "", "connector": "fake", "config": { "host": "127.0.0.1" } });
    vec![
        (
            "GET",
            "/connection_profiles",
            "/connection_profiles".into(),
            None,
            Role::Read,
            200,
        ),
        (
            "POST",
            "/connection_profiles",
            "/connection_profiles".into(),
            Some(new),
            Role::Write,
            201,
        ),
        (
            "POST",
            "/connection_profiles/test",
            "/connection_profiles/test".into(),
            Some(unsaved),
            Role::Test,
            200,
        ),
        (
            "GET",
            "/connection_profiles/{id}",
            format!("/connection_profiles/{id}"),
            None,
            Role::Read,
            200,
        ),
        (
            "PATCH",
            "/connection_profiles/{id}",
            format!("/connection_profiles/{id}"),
            Some(json!({ "description": "changed" })),
            Role::Write,
            200,
        ),
        (
            "DELETE",
            "/connection_profiles/{id}",
            format!("/connection_profiles/{victim}"),
            None,
            Role::Write,
            200,
        ),
        (
            "POST",
            "/connection_profiles/{id}/test",
            format!("/connection_profiles/{id}/test"),
            None,
            Role::Test,
            200,
        ),
        (
            "GET",
            "/connection_profiles/{id}/autocomplete",
            format!("/connection_profiles/{id}/autocomplete?type=things"),
            None,
            Role::Test,
            200,
        ),
        (
            "GET",
            "/connection_profiles/{id}/dependents",
            format!("/connection_profiles/{id}/dependents"),
            None,
            Role::Read,
            200,
        ),
        (
            "GET",
            "/connectors",
            "/connectors".into(),
            None,
            Role::Read,
            200,
        ),
        (
            "GET",
            "/openapi.json",
            "/openapi.json".into(),
            None,
            Role::Read,
            200,
        ),
        ("GET", "/audit", "/audit".into(), None, Role::Admin, 200),
    ]
}

#[tokio::test]
async fn every_route_needs_its_role() {
    // The principals below act in `acme`: the profiles live there.
    let service = service().tenant(TenantId::new("acme").expect("tenant"));
    let kept = create(&service, "kept").await;
    let id = kept.to_string();
    let victim = create(&service, "victim").await.to_string();
    let app: Router = Router::new().nest("/api/v1", HttpApi::new(service.clone()).into_router());
    let state = || async {
        let version = service.get(&kept).await.unwrap().version;
        (
            version,
            service.list(&Default::default()).await.unwrap().items.len(),
        )
    };

    for (method, _, uri, body, needed, ok) in routes(&id, &victim) {
        let before = state().await;
        let uri = format!("/api/v1{uri}");
        let (status, headers, reply) = send(&app, method, &uri, body.as_ref(), None).await;
        assert_eq!(
            (status, &reply["error"]["code"]),
            (401, &json!("UNAUTHENTICATED")),
            "{method} {uri}"
        );
        assert_eq!(
            headers[header::WWW_AUTHENTICATE],
            "Bearer",
            "{method} {uri}"
        );

        for weaker in Role::ALL.into_iter().filter(|r| *r < needed) {
            let (status, _, reply) =
                send(&app, method, &uri, body.as_ref(), Some(holding(weaker))).await;
            assert_eq!(status, 403, "{method} {uri} as {weaker}: {reply}");
            assert_eq!(reply["error"]["code"], "FORBIDDEN");
            assert_eq!(reply["error"]["details"]["required_role"], needed.as_str());
        }
        // Nothing a refused request asked for happened.
        assert_eq!(state().await, before, "{method} {uri}");

        let (status, _, reply) =
            send(&app, method, &uri, body.as_ref(), Some(holding(needed))).await;
        assert_eq!(status, ok, "{method} {uri} as {needed}: {reply}");
        // Roles are a chain: admin passes everywhere too (reads only, to
        // leave the writes above as the one that happened).
        if method == "GET" {
            let (status, _, _) = send(&app, method, &uri, None, Some(holding(Role::Admin))).await;
            assert_eq!(status, ok, "{method} {uri} as admin");
        }
    }
}

#[tokio::test]
async fn anonymous_requests_are_served_only_when_allowed_and_as_whom() {
    let service = service();
    let reader = Principal::new(TenantId::default(), [Role::Read]);
    let app: Router = HttpApi::new(service).allow_anonymous(reader).into_router();
    let new = json!({ "name": "n", "connector": "fake", "config": { "host": "127.0.0.1" } });
    assert_eq!(
        send(&app, "GET", "/connection_profiles", None, None)
            .await
            .0,
        200
    );
    let (status, _, reply) = send(&app, "POST", "/connection_profiles", Some(&new), None).await;
    assert_eq!(
        (status, &reply["error"]["code"]),
        (403, &json!("FORBIDDEN"))
    );
    // A principal the host did put in is checked as itself, not as the anonymous one.
    let (status, _, _) = send(
        &app,
        "POST",
        "/connection_profiles",
        Some(&new),
        Some(holding(Role::Write)),
    )
    .await;
    assert_eq!(status, 201);
    let (status, _, _) = send(
        &app,
        "GET",
        "/connection_profiles",
        None,
        Some(holding(Role::Read)),
    )
    .await;
    assert_eq!(status, 200);
    let none = Principal::new(TenantId::default(), Vec::new());
    let (status, _, _) = send(&app, "GET", "/connectors", None, Some(none)).await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn unknown_paths_and_methods_keep_their_answers() {
    let app: Router = HttpApi::new(service()).into_router();
    assert_eq!(send(&app, "GET", "/nothing", None, None).await.0, 404);
    assert_eq!(send(&app, "PUT", "/connectors", None, None).await.0, 405);
}

#[tokio::test]
async fn the_document_states_the_scheme_and_each_routes_role() {
    let doc = HttpApi::new(service()).openapi();
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert_eq!(doc["security"], json!([{ "bearer": [] }, {}]));
    let mut operations = 0;
    for (method, path, _, _, role, _) in routes("x", "y") {
        let op = &doc["paths"][path][method.to_ascii_lowercase()];
        assert_eq!(op["x-required-role"], role.as_str(), "{method} {path}");
        let text = op["description"].as_str().unwrap_or_default();
        assert!(
            text.contains(&format!("`{role}` role")),
            "{method} {path}: {text}"
        );
        for status in ["401", "403"] {
            assert!(
                op["responses"][status].is_object(),
                "{method} {path} {status}"
            );
        }
        operations += 1;
    }
    // And no operation of the document is missing from the table above.
    let documented: usize = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|item| {
            item.as_object()
                .unwrap()
                .keys()
                .filter(|k| k.as_str() != "parameters")
                .count()
        })
        .sum();
    assert_eq!(documented, operations);
}
