//! End to end over HTTP: tests of unsaved and saved profiles, autocomplete,
//! and the statuses of probes (200, 403, 422, 400).

#[path = "http_support.rs"]
mod support;

use patchbay::NetworkPolicy;
use serde_json::json;
use support::{new_body, ok_config, start, start_with, SENTINEL};

#[tokio::test(flavor = "multi_thread")]
async fn test_of_an_unsaved_config() {
    let s = start().await;
    let ok = s
        .post("/connection_profiles/test", new_body("t", ok_config()))
        .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert_eq!(ok.json["data"]["success"], true);
    assert_eq!(ok.json["data"]["message"], "Connection successful");
    assert_eq!(ok.json["data"]["details"]["version"], "fake-1.0");
    assert!(ok.json["data"]["details"]["latency_ms"].is_u64());

    let leaky = json!({"host": "127.0.0.1", "password": SENTINEL, "mode": "leaky_auth_failure"});
    let failed = s
        .post("/connection_profiles/test", new_body("t", leaky))
        .await;
    let d = failed.error(422, "CONNECTION_FAILED");
    assert_eq!(d["reason_code"], "auth");
    assert!(d["reason"]
        .as_str()
        .unwrap()
        .starts_with("Authentication failed: "));
    assert!(d["upstream_message"].as_str().unwrap().contains("****"));

    let unknown = s
        .post(
            "/connection_profiles/test",
            json!({"name": "", "connector": "nope", "config": {}}),
        )
        .await;
    assert_eq!(unknown.error(400, "UNKNOWN_CONNECTOR")["connector"], "nope");
    let invalid = s
        .post(
            "/connection_profiles/test",
            new_body("t", json!({"host": "", "port": "x", "extra": 1})),
        )
        .await;
    let paths = invalid.field_paths();
    assert!(paths.contains(&"/config/host".to_owned()), "{paths:?}");
    assert!(paths.contains(&"/config/port".to_owned()), "{paths:?}");
    // Nothing was stored by tests.
    let list = s.get("/connection_profiles").await;
    assert_eq!(list.json["data"], json!([]));
}

#[tokio::test(flavor = "multi_thread")]
async fn forbidden_targets_are_403_and_never_probed() {
    let s = start_with(NetworkPolicy::default().deny_private_networks()).await;
    let r = s
        .post("/connection_profiles/test", new_body("t", ok_config()))
        .await;
    let d = r.error(403, "TARGET_FORBIDDEN");
    assert_eq!(d["address"], "127.0.0.1");
    let p = s.create("forbidden").await;
    let id = p["id"].as_str().unwrap();
    s.post(&format!("/connection_profiles/{id}/test"), json!({}))
        .await
        .error(403, "TARGET_FORBIDDEN");
    s.get(&format!(
        "/connection_profiles/{id}/autocomplete?type=things"
    ))
    .await
    .error(403, "TARGET_FORBIDDEN");
    assert_eq!(
        s.fake
            .calls
            .started
            .load(std::sync::atomic::Ordering::SeqCst),
        0
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn test_of_a_saved_profile() {
    let s = start().await;
    let p = s.create("saved").await;
    let id = p["id"].as_str().unwrap();
    // No body, no content type: the route takes none.
    let r = s
        .client
        .post(s.url(&format!("/connection_profiles/{id}/test")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    s.post("/connection_profiles/prof_nothere/test", json!({}))
        .await
        .error(404, "NOT_FOUND");
}

#[tokio::test(flavor = "multi_thread")]
async fn autocomplete_in_the_seed_shape() {
    let s = start().await;
    let p = s.create("auto").await;
    let path = format!(
        "/connection_profiles/{}/autocomplete",
        p["id"].as_str().unwrap()
    );
    let r = s
        .get(&format!("{path}?type=things&prefix=ab&parent=x&limit=2"))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.json,
        json!({"data": {"suggestions": [
            {"value": "abthing0", "label": "abthing0", "type": "thing", "metadata": {}},
            {"value": "abthing1", "label": "abthing1", "type": "thing", "metadata": {}},
        ]}})
    );
    assert_eq!(s.get(&path).await.field_paths(), ["/type"]);
    let bad = s.get(&format!("{path}?type=things&limit=5000")).await;
    assert_eq!(bad.field_paths(), ["/limit"]);
    s.get(&format!("{path}?type=tables"))
        .await
        .error(400, "UNSUPPORTED");
    s.get("/connection_profiles/prof_gone/autocomplete?type=things")
        .await
        .error(404, "NOT_FOUND");
}
