//! End to end over HTTP: create, read, list with pagination, update with
//! versions, delete with dependents.

#[path = "http_support.rs"]
mod support;

use patchbay::Dependent;
use reqwest::Method;
use serde_json::{json, Value};
use support::{new_body, ok_config, start};

#[tokio::test(flavor = "multi_thread")]
async fn create_get_delete_in_the_seed_shapes() {
    let s = start().await;
    let created = s
        .post("/connection_profiles", new_body("Prod-Fake", ok_config()))
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let p = &created.json["data"];
    let id = p["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("prof_"));
    assert_eq!(p["name"], "Prod-Fake");
    assert_eq!(p["connector"], "fake");
    assert_eq!(p["description"], "e2e");
    assert_eq!(p["config"], json!({"host": "127.0.0.1", "port": 9}));
    assert_eq!(p["secret_fields"], json!(["password"]));
    assert_eq!(p["version"], 1);
    assert!(p["created_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(created.headers["etag"], "\"1\"");

    let got = s.get(&format!("/connection_profiles/{id}")).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.json["data"], *p);

    let dup = s
        .post("/connection_profiles", new_body("prod-fake", ok_config()))
        .await;
    assert_eq!(dup.error(409, "ALREADY_EXISTS")["name"], "prod-fake");

    let deleted = s.delete(&format!("/connection_profiles/{id}")).await;
    assert_eq!(deleted.status, 200);
    assert_eq!(
        deleted.json,
        json!({"data": {"message": "Connection profile deleted successfully"}})
    );
    s.get(&format!("/connection_profiles/{id}"))
        .await
        .error(404, "NOT_FOUND");
    s.delete(&format!("/connection_profiles/{id}"))
        .await
        .error(404, "NOT_FOUND");
    // Ids that cannot exist are plain 404s too.
    s.get("/connection_profiles/not-an-id")
        .await
        .error(404, "NOT_FOUND");
    s.get("/connection_profiles/prof_..%2F")
        .await
        .error(404, "NOT_FOUND");
}

#[tokio::test(flavor = "multi_thread")]
async fn list_filters_and_paginates_across_pages() {
    let s = start().await;
    for i in 0..7 {
        s.create(&format!("alpha-{i}")).await;
    }
    s.create("beta-0").await;
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let q = match &cursor {
            Some(c) => format!("/connection_profiles?prefix=ALPHA&limit=3&cursor={c}"),
            None => "/connection_profiles?prefix=ALPHA&limit=3".to_owned(),
        };
        let r = s.get(&q).await;
        assert_eq!(r.status, 200, "{}", r.text);
        pages += 1;
        for p in r.json["data"].as_array().unwrap() {
            seen.push(p["name"].as_str().unwrap().to_owned());
        }
        match &r.json["next_cursor"] {
            Value::String(c) => cursor = Some(c.clone()),
            Value::Null => break,
            other => panic!("next_cursor {other}"),
        }
    }
    assert_eq!(pages, 3);
    let want: Vec<String> = (0..7).map(|i| format!("alpha-{i}")).collect();
    assert_eq!(seen, want);

    let all = s.get("/connection_profiles").await;
    assert_eq!(all.json["data"].as_array().unwrap().len(), 8);
    assert_eq!(all.json["next_cursor"], Value::Null);
    let none = s.get("/connection_profiles?connector=kafka").await;
    assert_eq!(none.json["data"], json!([]));

    let bad = s
        .get("/connection_profiles?limit=0&cursor=%%%&prefix=a&prefix=b")
        .await;
    let mut paths = bad.field_paths();
    paths.sort();
    assert_eq!(paths, ["/limit", "/prefix"]);
    let bad = s.get("/connection_profiles?limit=abc").await;
    assert_eq!(bad.field_paths(), ["/limit"]);
    let bad = s.get("/connection_profiles?cursor=not-a-cursor!").await;
    assert_eq!(bad.field_paths(), ["/cursor"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn patch_keeps_secrets_and_guards_versions() {
    let s = start().await;
    let p = s.create("patched").await;
    let path = format!("/connection_profiles/{}", p["id"].as_str().unwrap());

    let r = s
        .patch(
            &path,
            json!({"description": "new", "config": {"sleep_ms": 10}, "version": 1}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["data"]["version"], 2);
    assert_eq!(r.json["data"]["config"]["sleep_ms"], 10);
    assert_eq!(r.json["data"]["secret_fields"], json!(["password"]));
    assert_eq!(r.headers["etag"], "\"2\"");

    // The omitted secret was kept: a test of the saved profile still sees it
    // (the leaky mode quotes it, and the service scrubs it to ****).
    let r = s
        .patch(&path, json!({"config": {"mode": "leaky_auth_failure"}}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let t = s.post(&format!("{path}/test"), json!({})).await;
    let upstream = t.error(422, "CONNECTION_FAILED")["upstream_message"]
        .as_str()
        .unwrap();
    assert!(upstream.contains("'****'"), "{upstream}");

    // Stale version, in the body and as If-Match.
    let stale = s
        .patch(&path, json!({"description": "x", "version": 1}))
        .await;
    let d = stale.error(409, "VERSION_CONFLICT");
    assert_eq!(
        (d["expected_version"].clone(), d["current_version"].clone()),
        (json!(1), json!(3))
    );
    let stale = s
        .client
        .patch(s.url(&path))
        .header("if-match", "\"2\"")
        .json(&json!({"description": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 409);
    let fresh = s
        .client
        .patch(s.url(&path))
        .header("if-match", "W/\"3\"")
        .header("content-type", "application/merge-patch+json")
        .body(r#"{"description": null}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(fresh.status(), 200);
    let body: Value = fresh.json().await.unwrap();
    assert_eq!(body["data"]["version"], 4);
    assert!(body["data"].get("description").is_none());

    let r = s
        .client
        .patch(s.url(&path))
        .header("if-match", "yesterday")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let mismatch = s
        .client
        .patch(s.url(&path))
        .header("if-match", "\"4\"")
        .json(&json!({"version": 3}))
        .send()
        .await
        .unwrap();
    assert_eq!(mismatch.status(), 400);

    let bad = s
        .patch(
            &path,
            json!({"name": "bad name", "description": "é".repeat(1025)}),
        )
        .await;
    let mut paths = bad.field_paths();
    paths.sort();
    assert_eq!(paths, ["/description", "/name"]);
    s.patch("/connection_profiles/prof_missing", json!({}))
        .await
        .error(404, "NOT_FOUND");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_profile_in_use_is_not_deleted() {
    let s = start().await;
    let p = s.create("used").await;
    let id = patchbay::ProfileId::parse(p["id"].as_str().unwrap()).unwrap();
    let path = format!("/connection_profiles/{id}");
    let table = Dependent::new("connection_table", "orders");
    s.service.attach(&id, &table).await.unwrap();

    let deps = s.get(&format!("{path}/dependents")).await;
    assert_eq!(
        deps.json,
        json!({"data": [{"kind": "connection_table", "id": "orders"}]})
    );
    let r = s.delete(&path).await;
    let details = r.error(409, "PROFILE_IN_USE");
    assert_eq!(
        details["dependents"],
        json!([{"kind": "connection_table", "id": "orders"}])
    );

    s.service.detach(&id, &table).await.unwrap();
    assert_eq!(s.delete(&path).await.status, 200);
    s.get(&format!("{path}/dependents"))
        .await
        .error(404, "NOT_FOUND");
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_routes_and_methods_get_the_envelope() {
    let s = start().await;
    let r = s.get("/nope").await;
    assert_eq!(r.error(404, "NOT_FOUND")["path"], "/api/v1/nope");
    let r = s
        .send(Method::PUT, "/connection_profiles", Some(json!({})))
        .await;
    r.error(405, "METHOD_NOT_ALLOWED");
    assert!(r.headers.contains_key("allow"), "405 says what is allowed");
    s.get("/connection_profiles/test")
        .await
        .error(405, "METHOD_NOT_ALLOWED");
}

#[tokio::test(flavor = "multi_thread")]
async fn connectors_are_described_with_their_schemas() {
    let s = start().await;
    let r = s.get("/connectors").await;
    assert_eq!(r.status, 200);
    let fake = &r.json["data"][0];
    assert_eq!(fake["kind"], "fake");
    assert!(fake["description"].is_string());
    assert_eq!(fake["secret_fields"], json!(["password"]));
    assert_eq!(fake["schema"]["properties"]["password"]["writeOnly"], true);
    assert_eq!(fake["autocomplete_types"], json!(["things"]));
}
