//! The probe and the builder's client connect to the addresses the service
//! checked, with no lookup of their own: a server name that cannot
//! resolve, carrying the local NATS's address as its checked one, connects.
//! With TLS (a TLS front for the local server, handshake first), the
//! certificate is checked against the name behind the address.

use std::net::SocketAddr;
use std::time::Duration;

use patchbay_connector_nats::{connect_via, NatsConfig, NatsConnector};
use patchbay_core::{AutocompleteQuery, Connector, Endpoint, Error, FailureReason, ResolvedConfig};
use patchbay_testkit::net::{refused_port, require, UNRESOLVABLE_HOST};
use patchbay_testkit::tls_proxy::TlsProxy;
use serde_json::{json, Value};
use tokio::time::Instant;

const LOCAL: &str = "127.0.0.1:4222";
/// A name a certificate can carry; `.invalid` never resolves.
const TLS_NAME: &str = "nats.patchbay.invalid";

async fn nats_here() -> bool {
    let found = async_nats::connect(LOCAL).await.map(drop);
    require("nats", "nats-server -js -a 127.0.0.1 -p 4222", found).is_some()
}

fn deadline() -> Instant {
    Instant::now() + Duration::from_secs(10)
}

fn resolved(cfg: Value, host: &str, port: u16, addrs: Vec<SocketAddr>) -> ResolvedConfig {
    ResolvedConfig::new(cfg).with_checked_addrs(Endpoint::new(host, port), addrs)
}

/// The builder's client: connect, a request the server answers (a
/// subscription's own message back), close.
async fn builder_roundtrip(resolved: &ResolvedConfig) -> Result<(), String> {
    use futures_util::StreamExt;
    let config: NatsConfig = resolved.parse().unwrap();
    let (options, servers) = connect_via(&config, resolved.checked()).unwrap();
    let client = options.connect(servers).await.map_err(|e| e.to_string())?;
    let subject = format!("patchbay.test.checked.{}", uuid::Uuid::new_v4().simple());
    let mut sub = client
        .subscribe(subject.clone())
        .await
        .map_err(|e| e.to_string())?;
    client
        .publish(subject, "here".into())
        .await
        .map_err(|e| e.to_string())?;
    let got = tokio::time::timeout(Duration::from_secs(10), sub.next())
        .await
        .map_err(|_| "no message back".to_owned())?
        .ok_or("subscription ended")?;
    assert_eq!(&got.payload[..], b"here");
    client.drain().await.map_err(|e| e.to_string())
}

fn failure(result: Result<impl std::fmt::Debug, Error>) -> (FailureReason, String) {
    match result {
        Err(Error::ConnectionFailed(f)) => (f.reason, f.message),
        other => panic!("expected a connection failure, got {other:?}"),
    }
}

#[tokio::test]
async fn probe_and_builder_connect_to_the_checked_address() {
    if !nats_here().await {
        return;
    }
    let cfg = json!({ "servers": [format!("{UNRESOLVABLE_HOST}:4222")] });
    let (reason, message) = failure(
        NatsConnector
            .test(&ResolvedConfig::new(cfg.clone()), deadline())
            .await,
    );
    assert_eq!(reason, FailureReason::Dns, "{message}");

    let local: SocketAddr = LOCAL.parse().unwrap();
    let pinned = resolved(cfg.clone(), UNRESOLVABLE_HOST, 4222, vec![local]);
    let report = NatsConnector.test(&pinned, deadline()).await.unwrap();
    assert!(report.details.version.is_some(), "{report:?}");
    NatsConnector
        .autocomplete(&pinned, &AutocompleteQuery::new("streams"), deadline())
        .await
        .unwrap();
    builder_roundtrip(&pinned).await.unwrap();

    // A refusing address before the live one: the next is used.
    let refusing: SocketAddr = format!("127.0.0.1:{}", refused_port()).parse().unwrap();
    let both = resolved(cfg, UNRESOLVABLE_HOST, 4222, vec![refusing, local]);
    NatsConnector.test(&both, deadline()).await.unwrap();
}

#[tokio::test]
async fn tls_verifies_the_name_behind_the_address() {
    if !nats_here().await {
        return;
    }
    let proxy = TlsProxy::start(&[TLS_NAME], LOCAL.parse().unwrap()).await;
    let port = proxy.addr().port();
    let cfg = json!({
        "servers": [format!("{TLS_NAME}:{port}")],
        "tls": { "enabled": true, "handshake_first": true, "ca_cert_pem": proxy.ca_pem() }
    });
    let pinned = resolved(cfg, TLS_NAME, port, vec![proxy.addr()]);
    NatsConnector.test(&pinned, deadline()).await.unwrap();
    builder_roundtrip(&pinned).await.unwrap();
    // The client asked TLS for the address: no SNI (the documented cost).
    assert_eq!(proxy.server_names(), [None, None]);

    // A certificate for another name is refused at the address too.
    let stranger = TlsProxy::start(&["other.patchbay.invalid"], LOCAL.parse().unwrap()).await;
    let port = stranger.addr().port();
    let cfg = json!({
        "servers": [format!("{TLS_NAME}:{port}")],
        "tls": { "enabled": true, "handshake_first": true, "ca_cert_pem": stranger.ca_pem() }
    });
    let pinned = resolved(cfg, TLS_NAME, port, vec![stranger.addr()]);
    let (reason, message) = failure(NatsConnector.test(&pinned, deadline()).await);
    assert!(
        matches!(reason, FailureReason::Tls),
        "{reason:?}: {message}"
    );
    assert!(stranger.server_names().is_empty(), "no handshake completed");
}
