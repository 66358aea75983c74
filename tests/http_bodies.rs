//! End to end over HTTP: hostile and odd bodies, secrets in no response,
//! and a real internal failure that says nothing.

#[path = "http_support.rs"]
mod support;

use reqwest::Method;
use serde_json::{json, Value};
use support::{
    database_file, new_body, ok_config, start, start_shared, start_with_connector,
    start_with_wrong_key, SENTINEL,
};

const CREATE: &str = "/connection_profiles";

#[tokio::test(flavor = "multi_thread")]
async fn malformed_json_is_400_with_a_position() {
    let s = start().await;
    for body in [
        &b"{"[..],
        b"{\"name\": }",
        b"",
        b"nul",
        b"{\"a\":1} trailing",
        b"\xff\xfe{}",
    ] {
        let r = s
            .raw(
                Method::POST,
                CREATE,
                Some("application/json"),
                body.to_vec(),
            )
            .await;
        let d = r.error(400, "MALFORMED_JSON");
        assert!(d["line"].is_u64() && d["column"].is_u64(), "{}", r.text);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_content_type_is_415() {
    let s = start().await;
    let body = serde_json::to_vec(&new_body("ct", ok_config())).unwrap();
    for ct in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("json"),
    ] {
        let r = s.raw(Method::POST, CREATE, ct, body.clone()).await;
        r.error(415, "UNSUPPORTED_MEDIA_TYPE");
    }
    let r = s
        .raw(
            Method::POST,
            CREATE,
            Some("Application/JSON; charset=utf-8"),
            body,
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
}

#[tokio::test(flavor = "multi_thread")]
async fn huge_bodies_are_413() {
    let s = start().await;
    let big = new_body(
        "big",
        json!({"host": "127.0.0.1", "pad": "x".repeat(70 * 1024)}),
    );
    s.post(CREATE, big).await.error(413, "PAYLOAD_TOO_LARGE");
    // A declared 4 GiB body is refused from its headers, without reading it.
    let reply = announce_huge_body(&s.base).await;
    assert!(reply.starts_with("HTTP/1.1 413"), "{reply}");
    assert!(reply.contains(r#""limit_bytes":65536"#), "{reply}");
    // Just under the limit is parsed (and refused for its unknown config field).
    let fits = new_body(
        "fits",
        json!({"host": "127.0.0.1", "pad": "x".repeat(60 * 1024)}),
    );
    assert_eq!(s.post(CREATE, fits).await.field_paths(), ["/config/pad"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn deeply_nested_bodies_are_refused_without_harm() {
    let s = start().await;
    for depth in [200, 20_000] {
        let body = format!("{}{}", "[".repeat(depth), "]".repeat(depth)).into_bytes();
        let r = s
            .raw(Method::POST, CREATE, Some("application/json"), body)
            .await;
        r.error(400, "MALFORMED_JSON");
    }
    // Nested inside config, under the parser's limit: a field error.
    let mut nested = json!(1);
    for _ in 0..100 {
        nested = json!({ "a": nested });
    }
    let r = s
        .post(
            CREATE,
            new_body("nested", json!({"host": "127.0.0.1", "deep": nested})),
        )
        .await;
    assert_eq!(r.field_paths(), ["/config/deep"]);
    // The server is still fine.
    assert_eq!(s.get(CREATE).await.status, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_shapes_list_every_field() {
    let s = start().await;
    let r = s
        .post(
            CREATE,
            json!({"name": 1, "description": 2, "config": "x", "bogus": true}),
        )
        .await;
    let mut paths = r.field_paths();
    paths.sort();
    assert_eq!(
        paths,
        ["/bogus", "/config", "/connector", "/description", "/name"]
    );
    assert_eq!(s.post(CREATE, json!([1, 2])).await.field_paths(), [""]);
    let r = s
        .post(
            CREATE,
            json!({"name": "-bad", "connector": "fake", "description": "d".repeat(1100),
            "config": {"host": 5, "port": 70000}}),
        )
        .await;
    let mut paths = r.field_paths();
    paths.sort();
    assert_eq!(
        paths,
        ["/config/host", "/config/port", "/description", "/name"]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn unicode_is_kept_where_allowed_and_refused_where_not() {
    let s = start().await;
    // Control characters (U+0000 here) are refused; see hostile_input.rs.
    let text = "Prod 🚀 — données 東京 \u{200b}";
    let r = s
        .post(
            CREATE,
            json!({"name": "uni", "connector": "fake", "description": text, "config": ok_config()}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.json["data"]["id"].as_str().unwrap().to_owned();
    let got = s.get(&format!("/connection_profiles/{id}")).await;
    assert_eq!(got.json["data"]["description"], text);
    let r = s.post(CREATE, new_body("東京", ok_config())).await;
    assert_eq!(r.field_paths(), ["/name"]);
    let r = s
        .get("/connection_profiles?prefix=%F0%9F%9A%80&connector=%E6%9D%B1")
        .await;
    assert_eq!(r.json["data"], json!([]));
    s.get("/connection_profiles/prof_%E6%9D%B1")
        .await
        .error(404, "NOT_FOUND");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_sentinel_secret_is_in_no_response() {
    // support::Reply asserts the sentinel's absence on every reply; this test
    // visits every route with a profile that holds it.
    let s = start().await;
    let p = s.create("secretive").await;
    let id = p["id"].as_str().unwrap();
    let path = format!("/connection_profiles/{id}");
    let leaky = json!({"host": "127.0.0.1", "password": SENTINEL, "mode": "leaky_auth_failure"});
    let replies = [
        s.get(&path).await,
        s.get(CREATE).await,
        s.post(&format!("{path}/test"), json!({})).await,
        s.get(&format!("{path}/autocomplete?type=things")).await,
        s.get(&format!("{path}/dependents")).await,
        s.patch(&path, json!({"config": {"mode": "leaky_auth_failure"}}))
            .await,
        s.post(&format!("{path}/test"), json!({})).await,
        s.post("/connection_profiles/test", new_body("x", leaky.clone()))
            .await,
        s.post(CREATE, new_body("secretive", ok_config())).await,
        s.post(
            CREATE,
            new_body("bad name", json!({"host": 1, "password": SENTINEL})),
        )
        .await,
        s.get("/connectors").await,
        s.get("/openapi.json").await,
    ];
    assert!(replies.iter().all(|r| r.status != 500));
    let text: Vec<&Value> = replies.iter().map(|r| &r.json).collect();
    assert!(!serde_json::to_string(&text).unwrap().contains(SENTINEL));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_key_is_422_secret_unavailable_naming_the_field() {
    let s = start_shared().await;
    let p = s.create("sealed").await;
    let other = start_with_wrong_key(&s).await;
    let r = other
        .post(
            &format!("/connection_profiles/{}/test", p["id"].as_str().unwrap()),
            json!({}),
        )
        .await;
    let d = r.error(422, "SECRET_UNAVAILABLE");
    assert_eq!(d, &json!({"field": "/config/password", "kind": "sealed"}));
}

#[tokio::test(flavor = "multi_thread")]
async fn internal_failures_are_500_and_say_nothing() {
    let s = start_shared().await;
    let p = s.create("broken").await;
    // Break the store under the server: its next read of dependents fails.
    let url = format!("sqlite://{}", database_file(&s).display());
    let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url)
        .await
        .expect("connect");
    sqlx::query("DROP TABLE profile_dependents")
        .execute(&mut conn)
        .await
        .expect("drop");
    let r = s
        .get(&format!(
            "/connection_profiles/{}/dependents",
            p["id"].as_str().unwrap()
        ))
        .await;
    r.error(500, "INTERNAL");
    assert_eq!(r.json["error"]["message"], "internal server error");
    assert_eq!(r.json["error"]["details"], json!({}));
    assert!(
        !r.text.contains("sqlite") && !r.text.contains("profile_dependents"),
        "{}",
        r.text
    );
}

async fn announce_huge_body(base: &str) -> String {
    let authority = base
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(&authority).unwrap();
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        let head = format!(
            "POST /api/v1/connection_profiles/test HTTP/1.1\r\nHost: {authority}\r\n\
             Content-Type: application/json\r\nContent-Length: 4294967296\r\n\r\n{{\"name\": \""
        );
        stream.write_all(head.as_bytes()).unwrap();
        let mut reply = Vec::new();
        // The server answers and closes; a reset after the answer is fine.
        let _ = stream.read_to_end(&mut reply);
        String::from_utf8_lossy(&reply).into_owned()
    })
    .await
    .unwrap()
}

/// A connector whose probe panics: a bug in a third-party connector must
/// cost one 500, not the connection or the server.
struct Panicky;

#[patchbay::async_trait]
impl patchbay::Connector for Panicky {
    fn kind(&self) -> &'static str {
        "panicky"
    }
    fn description(&self) -> &'static str {
        "panics when probed"
    }
    fn config_schema(&self) -> Value {
        json!({"type": "object", "additionalProperties": false,
               "properties": {"host": {"type": "string"}}, "required": ["host"]})
    }
    fn endpoints(&self, _: &patchbay::ResolvedConfig) -> patchbay::Result<Vec<patchbay::Endpoint>> {
        Ok(vec![patchbay::Endpoint::new("127.0.0.1", 9)])
    }
    async fn test(
        &self,
        _: &patchbay::ResolvedConfig,
        _: tokio::time::Instant,
    ) -> patchbay::Result<patchbay::TestReport> {
        panic!("connector bug with {SENTINEL}")
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_panic_is_a_bare_500_and_the_server_lives_on() {
    let s = start_with_connector(std::sync::Arc::new(Panicky)).await;
    let body = json!({"name": "p", "connector": "panicky", "config": {"host": "127.0.0.1"}});
    for _ in 0..3 {
        let r = s.post("/connection_profiles/test", body.clone()).await;
        r.error(500, "INTERNAL");
        assert_eq!(r.json["error"]["details"], json!({}));
    }
    assert_eq!(s.get(CREATE).await.status, 200);
}
