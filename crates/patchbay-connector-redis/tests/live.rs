//! Against the local Redis at 127.0.0.1:6379 and loopback failure targets
//! (the conformance suite is in `conformance.rs`).

use std::time::Duration;

use patchbay_connector_redis::RedisConnector;
use patchbay_core::{AutocompleteQuery, Connector, Error, FailureReason, ResolvedConfig};
use patchbay_testkit::net::{refused_port, require};
use redis::aio::MultiplexedConnection;
use serde_json::{json, Value};
use tokio::time::Instant;

const ADDR: &str = "127.0.0.1:6379";

/// An admin connection for setup, or `None` (skip) when Redis is missing.
async fn admin() -> Option<MultiplexedConnection> {
    let found = async {
        let client = redis::Client::open(format!("redis://{ADDR}"))?;
        client.get_multiplexed_async_connection().await
    }
    .await;
    require("redis", "redis-server --daemonize yes", found)
}

fn unique(tag: &str) -> String {
    format!("patchbay-test-{tag}-{}", uuid::Uuid::new_v4().simple())
}

async fn test(config: Value, budget: Duration) -> Result<patchbay_core::TestReport, Error> {
    RedisConnector
        .test(&ResolvedConfig::new(config), Instant::now() + budget)
        .await
}

fn reason(r: Result<patchbay_core::TestReport, Error>) -> (FailureReason, String) {
    match r {
        Err(Error::ConnectionFailed(f)) => (f.reason, f.message),
        other => panic!("expected a connection failure, got {other:?}"),
    }
}

#[tokio::test]
async fn succeeds_with_version() {
    if admin().await.is_none() {
        return;
    }
    let report = test(
        json!({ "addresses": [ADDR], "database": 1 }),
        Duration::from_secs(5),
    )
    .await
    .expect("test");
    assert!(report.success);
    let version = report.details.version.expect("INFO server gives a version");
    assert!(
        version.chars().next().is_some_and(|c| c.is_ascii_digit()),
        "{version}"
    );
    assert_eq!(report.details.extra["redis_mode"], "standalone");
}

/// Removes the ACL user even when the test fails.
struct AclUser(String);

impl Drop for AclUser {
    fn drop(&mut self) {
        // Plain blocking client: Drop cannot await.
        if let Ok(mut c) =
            redis::Client::open(format!("redis://{ADDR}")).and_then(|c| c.get_connection())
        {
            let _: redis::RedisResult<()> =
                redis::cmd("ACL").arg("DELUSER").arg(&self.0).query(&mut c);
        }
    }
}

#[tokio::test]
async fn acl_user_authenticates_and_wrong_password_is_auth() {
    let Some(mut admin) = admin().await else {
        return;
    };
    let user = AclUser(unique("user"));
    let password = "right-horse-battery";
    redis::cmd("ACL")
        .arg("SETUSER")
        .arg(&user.0)
        .arg("on")
        .arg(format!(">{password}"))
        .arg("+info")
        .arg("+ping")
        .query_async::<()>(&mut admin)
        .await
        .expect("ACL SETUSER");
    let ok = test(
        json!({ "addresses": [ADDR], "username": user.0, "password": password }),
        Duration::from_secs(5),
    )
    .await;
    assert!(ok.expect("right password").details.version.is_some());
    let wrong = "wrong-staple-42";
    let (why, message) = reason(
        test(
            json!({ "addresses": [ADDR], "username": user.0, "password": wrong }),
            Duration::from_secs(5),
        )
        .await,
    );
    // The driver logs in (the profile's connection info carries the
    // credentials) and reports a refusal as an authentication failure.
    assert_eq!(why, FailureReason::Auth, "{message}");
    assert!(
        message.to_lowercase().contains("authentication"),
        "says why: {message}"
    );
    assert!(!message.contains(wrong));
}

/// A loopback port that answers any first bytes with plain text and hangs
/// up, as a non-TLS service does to a TLS ClientHello.
async fn plain_text_port() -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let mut buf = [0u8; 512];
            let _ = s.read(&mut buf).await;
            let _ = s.write_all(b"-ERR this is not TLS\r\n").await;
        }
    });
    port
}

#[tokio::test]
async fn tls_to_a_plain_text_server_is_tls() {
    let port = plain_text_port().await;
    let config = json!({ "addresses": [format!("127.0.0.1:{port}")], "tls": { "enabled": true } });
    let (why, message) = reason(test(config, Duration::from_secs(5)).await);
    assert_eq!(why, FailureReason::Tls, "{message}");
}

#[tokio::test]
async fn cluster_mode_on_a_standalone_server_says_so() {
    if admin().await.is_none() {
        return;
    }
    let refused = format!("127.0.0.1:{}", refused_port());
    // The dead first seed is skipped; the live one answers CLUSTER INFO with an error.
    let config = json!({ "mode": "cluster", "addresses": [refused, ADDR] });
    let (why, message) = reason(test(config, Duration::from_secs(5)).await);
    assert_eq!(why, FailureReason::Other);
    assert!(message.to_lowercase().contains("cluster"), "{message}");
}

/// Deletes the test's keys even when it fails.
struct Keys(Vec<String>);

impl Drop for Keys {
    fn drop(&mut self) {
        if let Ok(mut c) =
            redis::Client::open(format!("redis://{ADDR}")).and_then(|c| c.get_connection())
        {
            let _: redis::RedisResult<()> = redis::cmd("DEL").arg(&self.0).query(&mut c);
        }
    }
}

#[tokio::test]
async fn keys_by_prefix_with_types() {
    let Some(mut admin) = admin().await else {
        return;
    };
    let prefix = format!("{}:", unique("keys"));
    let keys = Keys(vec![
        format!("{prefix}b-hash"),
        format!("{prefix}a-string"),
        format!("{prefix}c-list"),
        format!("{prefix}[x]*"),
        // Matches `prefix*` only if the glob were not escaped.
        format!("{}Xother", &prefix[..prefix.len() - 1]),
    ]);
    redis::pipe()
        .cmd("SET")
        .arg(&keys.0[1])
        .arg("v")
        .cmd("HSET")
        .arg(&keys.0[0])
        .arg("f")
        .arg("v")
        .cmd("RPUSH")
        .arg(&keys.0[2])
        .arg("v")
        .cmd("SET")
        .arg(&keys.0[3])
        .arg("v")
        .cmd("SET")
        .arg(&keys.0[4])
        .arg("v")
        .query_async::<()>(&mut admin)
        .await
        .expect("setup");
    let config = ResolvedConfig::new(json!({ "addresses": [ADDR] }));
    let mut query = AutocompleteQuery::new("keys");
    query.prefix = Some(prefix.clone());
    // Three calls share it: generous, so a loaded machine cannot time out.
    let deadline = Instant::now() + Duration::from_secs(30);
    let found = RedisConnector
        .autocomplete(&config, &query, deadline)
        .await
        .expect("keys");
    let got: Vec<(&str, &str)> = found
        .iter()
        .map(|s| {
            (
                s.value.strip_prefix(&prefix).unwrap(),
                s.metadata["type"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("[x]*", "string"),
            ("a-string", "string"),
            ("b-hash", "hash"),
            ("c-list", "list")
        ]
    );
    assert!(found.iter().all(|s| s.kind == "key" && s.label == s.value));

    // Glob characters in the prefix match literally.
    query.prefix = Some(format!("{prefix}[x]"));
    let found = RedisConnector
        .autocomplete(&config, &query, deadline)
        .await
        .expect("keys");
    assert_eq!(found.len(), 1, "{found:?}");

    query.prefix = Some(prefix.clone());
    query.limit = 2;
    let found = RedisConnector
        .autocomplete(&config, &query, deadline)
        .await
        .expect("keys");
    assert_eq!(found.len(), 2);
}

#[tokio::test]
async fn other_autocomplete_types_are_unsupported() {
    let config = ResolvedConfig::new(json!({ "addresses": [ADDR] }));
    let r = RedisConnector
        .autocomplete(
            &config,
            &AutocompleteQuery::new("streams"),
            Instant::now() + Duration::from_secs(1),
        )
        .await;
    assert!(matches!(r, Err(Error::Unsupported(_))), "{r:?}");
}
