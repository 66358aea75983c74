//! The served OpenAPI document: version, every route, the mount point, the
//! request bodies as unions of the registered connectors' configs, and the
//! enums (error codes, autocomplete types) taken from the code.

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
        ("get", "/audit"),
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
    assert_eq!(schemas["NewFakeProfile"]["additionalProperties"], false);
    assert_eq!(
        schemas["UpdateProfileRequest"]["additionalProperties"],
        false
    );
    let errors = &doc["paths"]["/connection_profiles"]["post"]["responses"];
    for status in ["201", "400", "409", "413", "415", "500"] {
        assert!(errors.get(status).is_some(), "create documents {status}");
    }
}

/// Each body that names a connector is a union discriminated by `connector`,
/// one variant per registered connector, whose `config` is the very schema
/// `/connectors` serves; PATCH's `config` is a merge patch over any of them.
#[tokio::test(flavor = "multi_thread")]
async fn the_bodies_are_unions_of_the_served_config_schemas() {
    let s = start().await;
    let doc = s.get("/openapi.json").await.json;
    let served = s.get("/connectors").await.json;
    let schemas = &doc["components"]["schemas"];
    let fake = served["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "fake")
        .expect("the fake connector is served");
    // The same schema, self-contained: `$defs` inlined where referenced.
    let config = &fake["schema"];
    let published = &schemas["FakeConfig"];
    assert!(!published.to_string().contains("$defs"));
    assert_eq!(published["required"], config["required"]);
    assert_eq!(published["additionalProperties"], false);
    for (name, property) in config["properties"].as_object().unwrap() {
        if property.get("$ref").is_none() {
            assert_eq!(published["properties"][name], *property, "{name}");
        }
    }
    // The field's own description wins over the definition's.
    for (key, value) in config["$defs"]["Mode"].as_object().unwrap() {
        if key == "description" || key == "title" {
            continue;
        }
        assert_eq!(published["properties"]["mode"][key], *value, "mode {key}");
    }
    assert_eq!(
        schemas["FakeConfig"]["properties"]["password"]["writeOnly"],
        true
    );
    for (body, variant) in [
        ("NewProfileRequest", "NewFakeProfile"),
        ("TestProfileRequest", "TestFakeProfile"),
    ] {
        let reference = format!("#/components/schemas/{variant}");
        assert_eq!(schemas[body]["oneOf"], json!([{ "$ref": reference }]));
        assert_eq!(
            schemas[body]["discriminator"],
            json!({"propertyName": "connector", "mapping": {"fake": reference}})
        );
        let v = &schemas[variant];
        assert_eq!(v["properties"]["connector"]["const"], "fake");
        assert_eq!(
            v["properties"]["config"]["$ref"],
            "#/components/schemas/FakeConfig"
        );
        assert_eq!(v["additionalProperties"], false);
    }
    assert_eq!(
        schemas["NewFakeProfile"]["properties"]["name"]["pattern"],
        "^[A-Za-z0-9][A-Za-z0-9._-]*$"
    );
    assert_eq!(
        schemas["NewFakeProfile"]["properties"]["name"]["maxLength"],
        128
    );
    // PATCH: no field required, optional fields nullable, no unknown field.
    assert_eq!(
        schemas["UpdateProfileRequest"]["properties"]["config"]["anyOf"],
        json!([{ "$ref": "#/components/schemas/FakeConfigPatch" }])
    );
    let patch = &schemas["FakeConfigPatch"];
    assert!(patch.get("required").is_none());
    assert_eq!(patch["additionalProperties"], false);
    assert_eq!(patch["properties"]["password"]["writeOnly"], true);
    assert_eq!(patch["properties"]["host"], config["properties"]["host"]);
    // The autocomplete type is the enum of the types connectors serve.
    let params = doc["paths"]["/connection_profiles/{id}/autocomplete"]["get"]["parameters"]
        .as_array()
        .unwrap();
    let kind = params.iter().find(|p| p["name"] == "type").unwrap();
    assert_eq!(kind["schema"]["enum"], fake["autocomplete_types"]);
    assert_eq!(kind["required"], true);
}

/// The error `code` enum is the codes a response can carry, from the code.
#[tokio::test(flavor = "multi_thread")]
async fn error_codes_are_an_enum() {
    let s = start().await;
    let doc = s.get("/openapi.json").await.json;
    let codes = doc["components"]["schemas"]["ErrorBody"]["properties"]["code"]["enum"]
        .as_array()
        .unwrap()
        .clone();
    for code in [
        "VALIDATION_FAILED",
        "NOT_FOUND",
        "SECRET_UNAVAILABLE",
        "CONNECTION_FAILED",
        "MALFORMED_JSON",
        "INTERNAL",
    ] {
        assert!(codes.contains(&json!(code)), "{code}");
    }
    assert!(
        !codes.contains(&json!("STORAGE")),
        "storage errors are sent as INTERNAL"
    );
    // A real error response carries one of them.
    let r = s.get("/connection_profiles/prof_missing").await;
    assert!(codes.contains(&r.json["error"]["code"]));
}
