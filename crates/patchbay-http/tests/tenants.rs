//! Two tenants through the real router, each with its bearer token: the same
//! profile name in both, each sees only its own in list, get, test,
//! autocomplete, dependents, update and delete; the other's ids are 404 and
//! its cursors 400. Reads are cached per tenant (the memory store reports a
//! revision, so the response cache is on).

use std::sync::Arc;

use axum::body::{to_bytes, Body};
use axum::http::{header, Request};
use axum::Router;
use patchbay_core::ProfileService;
use patchbay_http::{authenticate_bearer, BearerTokens, HttpApi, MintedToken, Role, TenantId};
use patchbay_testkit::fake::FakeConnector;
use serde_json::{json, Value};
use tower::ServiceExt;

fn app(tokens: &[&MintedToken]) -> Router {
    let service = ProfileService::builder(Arc::new(patchbay_store_memory::MemoryStore::new()))
        .connector(FakeConnector::default())
        .build()
        .expect("service");
    let lines: Vec<&str> = tokens.iter().map(|t| t.line()).collect();
    let tokens = BearerTokens::parse(&lines.join("\n")).expect("token file");
    Router::new()
        .nest("/api/v1", HttpApi::new(service).into_router())
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(tokens),
            authenticate_bearer,
        ))
}

/// `method /api/v1{path}` with `token`; status and JSON body.
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

fn profile(name: &str) -> Value {
    json!({ "name": name, "connector": "fake", "config": { "host": "127.0.0.1", "password": "pw" } })
}

fn names(list: &Value) -> Vec<String> {
    list["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|p| p["name"].as_str().expect("name").to_owned())
        .collect()
}

#[tokio::test]
async fn two_tenants_see_only_their_own() {
    let tenant = |t: &str| TenantId::new(t).expect("tenant");
    let acme = MintedToken::new(Role::Admin, &tenant("acme"), Some("acme-ci")).expect("token");
    let globex =
        MintedToken::new(Role::Admin, &tenant("globex"), Some("globex-ci")).expect("token");
    let app = app(&[&acme, &globex]);

    let (status, a) = call(
        &app,
        &acme,
        "POST",
        "/connection_profiles",
        Some(profile("orders")),
    )
    .await;
    assert_eq!(status, 201, "{a}");
    let (status, g) = call(
        &app,
        &globex,
        "POST",
        "/connection_profiles",
        Some(profile("ORDERS")),
    )
    .await;
    assert_eq!(status, 201, "the same name in another tenant: {g}");
    let (status, dup) = call(
        &app,
        &acme,
        "POST",
        "/connection_profiles",
        Some(profile("Orders")),
    )
    .await;
    assert_eq!(
        (status, &dup["error"]["code"]),
        (409, &json!("ALREADY_EXISTS"))
    );
    let ids = [
        (&acme, a["data"]["id"].as_str().expect("id").to_owned()),
        (&globex, g["data"]["id"].as_str().expect("id").to_owned()),
    ];

    for (i, (me, mine)) in ids.iter().enumerate() {
        let (_, theirs) = &ids[1 - i];
        let (status, list) = call(&app, me, "GET", "/connection_profiles", None).await;
        assert_eq!(status, 200);
        assert_eq!(list["data"].as_array().expect("data").len(), 1, "{list}");
        assert_eq!(list["data"][0]["id"], json!(mine));

        for (method, path, body) in [
            ("GET", "/connection_profiles/{}", None),
            ("POST", "/connection_profiles/{}/test", None),
            (
                "GET",
                "/connection_profiles/{}/autocomplete?type=things",
                None,
            ),
            ("GET", "/connection_profiles/{}/dependents", None),
            (
                "PATCH",
                "/connection_profiles/{}",
                Some(json!({"description": "x"})),
            ),
        ] {
            let (status, reply) =
                call(&app, me, method, &path.replace("{}", mine), body.clone()).await;
            assert_eq!(status, 200, "{method} {path} own: {reply}");
            let (status, reply) = call(&app, me, method, &path.replace("{}", theirs), body).await;
            assert_eq!(
                (status, &reply["error"]["code"]),
                (404, &json!("NOT_FOUND")),
                "{method} {path} of the other tenant"
            );
        }
        let other = format!("/connection_profiles/{theirs}");
        let (status, _) = call(&app, me, "DELETE", &other, None).await;
        assert_eq!(status, 404, "DELETE of the other tenant's profile");
    }
    // Both still there, each unchanged by the other.
    for (me, mine) in &ids {
        let (status, p) = call(
            &app,
            me,
            "GET",
            &format!("/connection_profiles/{mine}"),
            None,
        )
        .await;
        assert_eq!((status, &p["data"]["description"]), (200, &json!("x")));
    }

    // A cursor does not cross tenants.
    for n in ["p1", "p2"] {
        call(
            &app,
            &acme,
            "POST",
            "/connection_profiles",
            Some(profile(n)),
        )
        .await;
    }
    let (_, page) = call(&app, &acme, "GET", "/connection_profiles?limit=1", None).await;
    let cursor = page["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    let path = format!("/connection_profiles?limit=1&cursor={cursor}");
    let (status, reply) = call(&app, &globex, "GET", &path, None).await;
    assert_eq!(status, 400, "{reply}");
    assert_eq!(reply["error"]["details"]["fields"][0]["path"], "/cursor");
    let (status, _) = call(&app, &acme, "GET", &path, None).await;
    assert_eq!(status, 200);

    // Deletes: each its own.
    for (me, mine) in &ids {
        let (status, _) = call(
            &app,
            me,
            "DELETE",
            &format!("/connection_profiles/{mine}"),
            None,
        )
        .await;
        assert_eq!(status, 200);
    }
    let (_, left) = call(&app, &acme, "GET", "/connection_profiles", None).await;
    assert_eq!(names(&left), ["p1", "p2"]);
    let (_, left) = call(&app, &globex, "GET", "/connection_profiles", None).await;
    assert!(names(&left).is_empty(), "{left}");
}
