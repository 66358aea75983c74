//! The served OpenAPI document: version, every route, the mount point and
//! the registered connector kinds.

#[path = "http_support.rs"]
mod support;

use serde_json::json;
use support::start;

#[tokio::test(flavor = "multi_thread")]
async fn the_document_describes_the_routes_served() {
    let s = start().await;
    let r = s.get("/openapi.json").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.headers["content-type"], "application/json");
    let doc = &r.json;
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["servers"], json!([{"url": "/api/v1"}]));
    let mut paths: Vec<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(p, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .map(move |m| (m.clone(), p.clone()))
        })
        .collect();
    paths.sort();
    let want = [
        ("delete", "/connection_profiles/{id}"),
        ("get", "/connection_profiles"),
        ("get", "/connection_profiles/{id}"),
        ("get", "/connection_profiles/{id}/autocomplete"),
        ("get", "/connection_profiles/{id}/dependents"),
        ("get", "/connectors"),
        ("get", "/openapi.json"),
        ("patch", "/connection_profiles/{id}"),
        ("post", "/connection_profiles"),
        ("post", "/connection_profiles/test"),
        ("post", "/connection_profiles/{id}/test"),
    ];
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(paths, want);
    // Every documented route answers (not with the router's 404 fallback).
    for (method, path) in &want {
        let path = path.replace("{id}", "prof_0");
        let req = s
            .client
            .request(method.to_uppercase().parse().unwrap(), s.url(&path));
        let res = req.send().await.unwrap();
        let body: serde_json::Value = res.json().await.unwrap_or_default();
        assert_ne!(
            body["error"]["details"]["path"],
            json!(format!("/api/v1{path}")),
            "{method} {path} is not routed"
        );
    }
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["NewProfileRequest"]["properties"]["connector"]["enum"],
        json!(["fake"])
    );
    assert_eq!(schemas["NewProfileRequest"]["additionalProperties"], false);
    assert_eq!(
        schemas["UpdateProfileRequest"]["additionalProperties"],
        false
    );
    let errors = &doc["paths"]["/connection_profiles"]["post"]["responses"];
    for status in ["201", "400", "409", "413", "415", "500"] {
        assert!(errors.get(status).is_some(), "create documents {status}");
    }
}
