//! Against the local NATS (JetStream) at 127.0.0.1:4222, private
//! `nats-server` processes with auth on free loopback ports, and loopback
//! failure targets.

mod common;

use std::time::Duration;

use async_nats::jetstream;
use common::private_server;
use patchbay_connector_nats::NatsConnector;
use patchbay_core::{
    AutocompleteQuery, Connector, Error, FailureReason, ResolvedConfig, Suggestion, TestReport,
};
use patchbay_testkit::net::{refused_port, require};
use serde_json::{json, Value};
use tokio::time::Instant;

const ADDR: &str = "127.0.0.1:4222";

async fn shared() -> Option<async_nats::Client> {
    let found = async_nats::connect(ADDR).await;
    require("nats", "nats-server -js -a 127.0.0.1 -p 4222", found)
}

async fn test(config: Value) -> Result<TestReport, Error> {
    NatsConnector
        .test(
            &ResolvedConfig::new(config),
            Instant::now() + Duration::from_secs(10),
        )
        .await
}

fn reason(r: Result<TestReport, Error>) -> (FailureReason, String) {
    match r {
        Err(Error::ConnectionFailed(f)) => (f.reason, f.message),
        other => panic!("expected a connection failure, got {other:?}"),
    }
}

#[tokio::test]
async fn succeeds_with_version_and_jetstream() {
    if shared().await.is_none() {
        return;
    }
    // A dead first server is skipped.
    let dead = format!("nats://127.0.0.1:{}", refused_port());
    let report = test(json!({ "servers": [dead, ADDR] }))
        .await
        .expect("test");
    let version = report.details.version.expect("INFO has the version");
    assert!(
        version.chars().next().is_some_and(|c| c.is_ascii_digit()),
        "{version}"
    );
    assert_eq!(report.details.extra["jetstream"], true);
}

#[tokio::test]
async fn user_password_and_token_auth() {
    let Some(users) = private_server(&["--user", "app", "--pass", "right-pass-1"]).await else {
        return;
    };
    let servers = json!([format!("127.0.0.1:{}", users.port)]);
    let ok =
        test(json!({ "servers": servers, "username": "app", "password": "right-pass-1" })).await;
    assert!(ok.expect("right password").details.version.is_some());
    let wrong = "wrong-pass-2";
    let (why, message) =
        reason(test(json!({ "servers": servers, "username": "app", "password": wrong })).await);
    eprintln!("auth failure as reported: {message}");
    assert_eq!(why, FailureReason::Auth, "{message}");
    assert!(!message.contains(wrong));
    let (why, _) = reason(test(json!({ "servers": servers })).await);
    assert_eq!(why, FailureReason::Auth, "no credentials");

    let Some(tokens) = private_server(&["--auth", "right-token-3"]).await else {
        return;
    };
    let servers = json!([format!("127.0.0.1:{}", tokens.port)]);
    assert!(
        test(json!({ "servers": servers, "token": "right-token-3" }))
            .await
            .is_ok()
    );
    let (why, message) =
        reason(test(json!({ "servers": servers, "token": "wrong-token-4" })).await);
    assert_eq!(why, FailureReason::Auth, "{message}");
}

#[tokio::test]
async fn malformed_credentials_are_a_validation_error() {
    let config = json!({ "servers": [ADDR], "credentials": "not a creds file" });
    let r = test(config).await;
    assert!(matches!(r, Err(Error::Validation(_))), "{r:?}");
}

#[tokio::test]
async fn tls_required_by_a_plain_server_is_tls() {
    if shared().await.is_none() {
        return;
    }
    let (why, message) =
        reason(test(json!({ "servers": [ADDR], "tls": { "enabled": true } })).await);
    eprintln!("tls failure as reported: {message}");
    assert_eq!(why, FailureReason::Tls, "{message}");
}

async fn suggest(kind: &str, parent: Option<&str>, prefix: &str) -> Result<Vec<Suggestion>, Error> {
    let mut query = AutocompleteQuery::new(kind);
    query.parent = parent.map(str::to_owned);
    query.prefix = Some(prefix.to_owned());
    let config = ResolvedConfig::new(json!({ "servers": [ADDR] }));
    NatsConnector
        .autocomplete(&config, &query, Instant::now() + Duration::from_secs(10))
        .await
}

#[tokio::test]
async fn streams_and_subjects_from_jetstream() {
    let Some(client) = shared().await else { return };
    let id = uuid::Uuid::new_v4().simple().to_string();
    let stream = format!("PBTEST_{id}");
    let js = jetstream::new(client);
    js.create_stream(jetstream::stream::Config {
        name: stream.clone(),
        subjects: vec![format!("pbtest.{id}.>")],
        ..Default::default()
    })
    .await
    .expect("create stream");
    for subject in ["a", "b", "b"] {
        js.publish(format!("pbtest.{id}.{subject}"), "x".into())
            .await
            .expect("publish")
            .await
            .expect("ack");
    }
    let streams = suggest("streams", None, &stream).await;
    let configured = suggest("subjects", None, &format!("pbtest.{id}")).await;
    let stored = suggest("subjects", Some(&stream), &format!("pbtest.{id}.")).await;
    let missing = suggest("subjects", Some("PBTEST_NO_SUCH_STREAM"), "").await;
    js.delete_stream(&stream).await.expect("delete stream");

    let streams = streams.expect("streams");
    assert_eq!(streams.len(), 1);
    assert_eq!(
        (streams[0].value.as_str(), streams[0].kind.as_str()),
        (stream.as_str(), "stream")
    );
    assert_eq!(streams[0].metadata["messages"], 3);
    let configured = configured.expect("configured subjects");
    assert_eq!(configured.len(), 1);
    assert_eq!(configured[0].value, format!("pbtest.{id}.>"));
    assert_eq!(configured[0].metadata["stream"], stream.as_str());
    let stored = stored.expect("stored subjects");
    let got: Vec<(String, &Value)> = stored
        .iter()
        .map(|s| (s.value.clone(), &s.metadata["messages"]))
        .collect();
    assert_eq!(
        got,
        [
            (format!("pbtest.{id}.a"), &json!(1)),
            (format!("pbtest.{id}.b"), &json!(2))
        ]
    );
    assert!(matches!(missing, Err(Error::Validation(_))), "{missing:?}");
}
