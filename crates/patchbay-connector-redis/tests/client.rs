//! A native client from a profile's config (`client`) doing SET/GET on the
//! local Redis, and the probe following the same connection info: a change
//! to the config changes both, the same way.

use std::time::Duration;

use patchbay_connector_redis::{client, connection_info, RedisConfig, RedisConnector};
use patchbay_core::{Connector, Error, FailureReason, ResolvedConfig};
use patchbay_testkit::net::{refused_port, require};
use redis::aio::MultiplexedConnection;
use serde_json::{json, Value};
use tokio::time::{timeout, Instant};

const ADDR: &str = "127.0.0.1:6379";

async fn admin() -> Option<MultiplexedConnection> {
    let found = async {
        let client = redis::Client::open(format!("redis://{ADDR}"))?;
        client.get_multiplexed_async_connection().await
    }
    .await;
    require("redis", "redis-server --daemonize yes", found)
}

fn unique(tag: &str) -> String {
    format!("patchbay-client-{tag}-{}", uuid::Uuid::new_v4().simple())
}

fn typed(cfg: &Value) -> RedisConfig {
    serde_json::from_value(cfg.clone()).expect("a valid config")
}

/// Removes the ACL user and the test's keys even when the test fails.
struct Cleanup {
    user: String,
    keys: Vec<(u32, String)>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        // Plain blocking client: Drop cannot await.
        if let Ok(mut c) =
            redis::Client::open(format!("redis://{ADDR}")).and_then(|c| c.get_connection())
        {
            let _: redis::RedisResult<()> = redis::cmd("ACL")
                .arg("DELUSER")
                .arg(&self.user)
                .query(&mut c);
            for (db, key) in &self.keys {
                let _: redis::RedisResult<()> = redis::cmd("SELECT").arg(db).query(&mut c);
                let _: redis::RedisResult<()> = redis::cmd("DEL").arg(key).query(&mut c);
            }
        }
    }
}

/// An ACL user allowed everything on keys starting with `prefix`.
async fn acl_user(admin: &mut MultiplexedConnection, prefix: &str, password: &str) -> String {
    let user = unique("user");
    redis::cmd("ACL")
        .arg("SETUSER")
        .arg(&user)
        .arg("on")
        .arg(format!(">{password}"))
        .arg(format!("~{prefix}*"))
        .arg("+@all")
        .query_async::<()>(admin)
        .await
        .expect("ACL SETUSER");
    user
}

#[tokio::test]
async fn set_and_get_with_a_client_from_the_profile() {
    let Some(mut admin) = admin().await else {
        return;
    };
    let prefix = unique("kv");
    let key = format!("{prefix}:greeting");
    let user = acl_user(&mut admin, &prefix, "pw-set-get").await;
    let _cleanup = Cleanup {
        user: user.clone(),
        keys: vec![(3, key.clone())],
    };
    let cfg = json!({
        "addresses": [ADDR], "database": 3, "username": user, "password": "pw-set-get"
    });
    let mut conn = client(&typed(&cfg))
        .expect("client")
        .get_multiplexed_async_connection()
        .await
        .expect("connect as the profile's user");
    redis::cmd("SET")
        .arg(&key)
        .arg("hello")
        .query_async::<()>(&mut conn)
        .await
        .expect("SET");
    let got: String = redis::cmd("GET")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .expect("GET");
    assert_eq!(got, "hello");
    let whoami: String = redis::cmd("ACL")
        .arg("WHOAMI")
        .query_async(&mut conn)
        .await
        .expect("WHOAMI");
    assert_eq!(whoami, user);
    // The profile's database was selected: the key is in 3, not in 0.
    let in_db0: Option<String> = redis::cmd("GET")
        .arg(&key)
        .query_async(&mut admin)
        .await
        .unwrap();
    assert_eq!(in_db0, None);
    redis::cmd("SELECT")
        .arg(3)
        .query_async::<()>(&mut admin)
        .await
        .unwrap();
    let in_db3: Option<String> = redis::cmd("GET")
        .arg(&key)
        .query_async(&mut admin)
        .await
        .unwrap();
    assert_eq!(in_db3.as_deref(), Some("hello"));
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

/// Whether the builder's client gets a working connection (bounded).
async fn builder_connects(cfg: &Value) -> bool {
    let attempt = async {
        let mut conn = client(&typed(cfg))
            .ok()?
            .get_multiplexed_async_connection()
            .await
            .ok()?;
        redis::cmd("PING")
            .query_async::<String>(&mut conn)
            .await
            .ok()
    };
    timeout(Duration::from_secs(10), attempt)
        .await
        .expect("the builder's client answers within 10 s")
        .is_some()
}

async fn probe(cfg: &Value) -> Result<patchbay_core::TestReport, Error> {
    RedisConnector
        .test(
            &ResolvedConfig::new(cfg.clone()),
            Instant::now() + Duration::from_secs(10),
        )
        .await
}

fn reason(result: Result<patchbay_core::TestReport, Error>) -> FailureReason {
    match result {
        Err(Error::ConnectionFailed(f)) => f.reason,
        other => panic!("expected a connection failure, got {other:?}"),
    }
}

#[tokio::test]
async fn probe_and_builder_cannot_drift() {
    let Some(mut admin) = admin().await else {
        return;
    };
    let prefix = unique("drift");
    let user = acl_user(&mut admin, &prefix, "pw-drift").await;
    let _cleanup = Cleanup {
        user: user.clone(),
        keys: Vec::new(),
    };
    let good = json!({ "addresses": [ADDR], "username": user, "password": "pw-drift" });
    assert!(builder_connects(&good).await, "builder: as configured");
    probe(&good).await.expect("probe: as configured");

    // Another password: both are refused.
    let mut cfg = good.clone();
    cfg["password"] = json!("pw-other");
    assert!(!builder_connects(&cfg).await, "builder: password");
    assert_eq!(reason(probe(&cfg).await), FailureReason::Auth);

    // TLS on: both speak TLS, which a plain-text server cannot answer.
    let port = plain_text_port().await;
    let mut cfg = good.clone();
    cfg["addresses"] = json!([format!("127.0.0.1:{port}")]);
    cfg["tls"] = json!({ "enabled": true });
    let info = connection_info(&typed(&cfg), &typed(&cfg).endpoints()[0]).unwrap();
    assert!(matches!(info.addr(), redis::ConnectionAddr::TcpTls { .. }));
    assert!(!builder_connects(&cfg).await, "builder: tls");
    assert_eq!(reason(probe(&cfg).await), FailureReason::Tls);

    // Another port: both go there and find nothing listening.
    let port = refused_port();
    let mut cfg = good.clone();
    cfg["addresses"] = json!([format!("127.0.0.1:{port}")]);
    assert_eq!(
        client(&typed(&cfg))
            .unwrap()
            .get_connection_info()
            .addr()
            .to_string(),
        format!("127.0.0.1:{port}")
    );
    assert!(!builder_connects(&cfg).await, "builder: port");
    assert_eq!(reason(probe(&cfg).await), FailureReason::Refused);
}

#[test]
fn a_hand_filled_config_is_checked_too() {
    // The service refuses such a profile; a host building a config by hand
    // gets the same answer from the builder instead of a skipped address.
    let cfg = json!({ "mode": "cluster", "addresses": ["bad host:1", ADDR] });
    let err = client(&typed(&cfg)).unwrap_err();
    assert!(err.to_string().contains("/config/addresses"), "{err}");
}
