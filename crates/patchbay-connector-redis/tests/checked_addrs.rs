//! The probe and the builder's client connect to the addresses the service
//! checked, with no lookup of their own: a host name that cannot resolve,
//! carrying the local Redis's address as its checked one, connects. With
//! TLS (a TLS front for the local Redis), the driver keeps the name for
//! the certificate check and SNI.

use std::net::SocketAddr;
use std::time::Duration;

use patchbay_connector_redis::{client, connection_config_via, RedisConfig, RedisConnector};
use patchbay_core::{AutocompleteQuery, Connector, Endpoint, Error, FailureReason, ResolvedConfig};
use patchbay_testkit::net::{refused_port, require, UNRESOLVABLE_HOST};
use patchbay_testkit::tls_proxy::TlsProxy;
use redis::AsyncCommands;
use serde_json::{json, Value};
use tokio::time::Instant;

const LOCAL: &str = "127.0.0.1:6379";
/// A name the certificate can carry (the unresolvable one's 70-character
/// label cannot be a TLS name); `.invalid` never resolves.
const TLS_NAME: &str = "cache.patchbay.invalid";

/// Whether the local Redis answers (skip, or fail under CI, when not).
async fn redis_here() -> bool {
    let found = async {
        let c = redis::Client::open(format!("redis://{LOCAL}"))?;
        c.get_multiplexed_async_connection().await.map(drop)
    }
    .await;
    require("redis", "redis-server --daemonize yes", found).is_some()
}

fn deadline() -> Instant {
    Instant::now() + Duration::from_secs(10)
}

fn resolved(cfg: Value, host: &str, port: u16, addrs: Vec<SocketAddr>) -> ResolvedConfig {
    ResolvedConfig::new(cfg).with_checked_addrs(Endpoint::new(host, port), addrs)
}

/// The builder's client, connected with the resolver for the checked
/// addresses: a round trip through the server.
async fn builder_roundtrip(resolved: &ResolvedConfig) -> redis::RedisResult<()> {
    let config: RedisConfig = resolved.parse().unwrap();
    let client = client(&config).unwrap();
    let settings = connection_config_via(resolved.checked());
    let mut conn = client
        .get_multiplexed_async_connection_with_config(&settings)
        .await?;
    let key = format!("patchbay-test-checked-{}", uuid::Uuid::new_v4().simple());
    let () = conn.set_ex(&key, "here", 60).await?;
    let back: String = conn.get(&key).await?;
    let () = conn.del(&key).await?;
    assert_eq!(back, "here");
    Ok(())
}

fn failure(result: Result<impl std::fmt::Debug, Error>) -> (FailureReason, String) {
    match result {
        Err(Error::ConnectionFailed(f)) => (f.reason, f.message),
        other => panic!("expected a connection failure, got {other:?}"),
    }
}

#[tokio::test]
async fn probe_and_builder_connect_to_the_checked_address() {
    if !redis_here().await {
        return;
    }
    let cfg = json!({ "addresses": [format!("{UNRESOLVABLE_HOST}:6379")] });

    // The name alone does not resolve.
    let (reason, message) = failure(
        RedisConnector
            .test(&ResolvedConfig::new(cfg.clone()), deadline())
            .await,
    );
    assert_eq!(reason, FailureReason::Dns, "{message}");

    // With its checked address, the probe, autocomplete and the builder's
    // client all reach the server.
    let local: SocketAddr = LOCAL.parse().unwrap();
    let pinned = resolved(cfg.clone(), UNRESOLVABLE_HOST, 6379, vec![local]);
    let report = RedisConnector.test(&pinned, deadline()).await.unwrap();
    assert!(report.details.version.is_some(), "{report:?}");
    let mut query = AutocompleteQuery::new("keys");
    query.prefix = Some("patchbay-test-none-".into());
    RedisConnector
        .autocomplete(&pinned, &query, deadline())
        .await
        .unwrap();
    builder_roundtrip(&pinned).await.unwrap();

    // A refusing address before the live one: the next is used.
    let refusing: SocketAddr = format!("127.0.0.1:{}", refused_port()).parse().unwrap();
    let both = resolved(cfg.clone(), UNRESOLVABLE_HOST, 6379, vec![refusing, local]);
    RedisConnector.test(&both, deadline()).await.unwrap();
    builder_roundtrip(&both).await.unwrap();

    // Only the refusing one: refused, not dns.
    let refused = resolved(cfg, UNRESOLVABLE_HOST, 6379, vec![refusing]);
    let (reason, message) = failure(RedisConnector.test(&refused, deadline()).await);
    assert_eq!(reason, FailureReason::Refused, "{message}");
}

#[tokio::test]
async fn an_endpoint_that_was_not_checked_is_not_looked_up() {
    if !redis_here().await {
        return;
    }
    // Checked addresses for another port than the config names: the
    // resolver refuses rather than asking DNS.
    let cfg = json!({ "addresses": ["localhost:6379"] });
    let other = resolved(cfg, "localhost", 6380, vec![LOCAL.parse().unwrap()]);
    let (_, message) = failure(RedisConnector.test(&other, deadline()).await);
    assert!(message.contains("not among the addresses"), "{message}");
}

#[tokio::test]
async fn tls_verifies_the_name_at_the_checked_address() {
    if !redis_here().await {
        return;
    }
    let proxy = TlsProxy::start(&[TLS_NAME], LOCAL.parse().unwrap()).await;
    let port = proxy.addr().port();
    let cfg = json!({
        "addresses": [format!("{TLS_NAME}:{port}")],
        "tls": { "enabled": true, "ca_cert_pem": proxy.ca_pem() }
    });
    let pinned = resolved(cfg, TLS_NAME, port, vec![proxy.addr()]);
    RedisConnector.test(&pinned, deadline()).await.unwrap();
    builder_roundtrip(&pinned).await.unwrap();
    // The name went out as SNI on both connections.
    assert_eq!(
        proxy.server_names(),
        [Some(TLS_NAME.to_owned()), Some(TLS_NAME.to_owned())]
    );

    // A certificate for another name is still refused.
    let stranger = TlsProxy::start(&["other.patchbay.invalid"], LOCAL.parse().unwrap()).await;
    let port = stranger.addr().port();
    let cfg = json!({
        "addresses": [format!("{TLS_NAME}:{port}")],
        "tls": { "enabled": true, "ca_cert_pem": stranger.ca_pem() }
    });
    let pinned = resolved(cfg, TLS_NAME, port, vec![stranger.addr()]);
    let (reason, message) = failure(RedisConnector.test(&pinned, deadline()).await);
    assert_eq!(reason, FailureReason::Tls, "{message}");
    assert!(builder_roundtrip(&pinned).await.is_err());
}
