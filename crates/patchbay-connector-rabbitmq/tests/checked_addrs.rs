//! The probe and the builder's client connect to the addresses the service
//! checked, with no lookup of their own: a host name that cannot resolve,
//! carrying the local RabbitMQ's address as its checked one, connects.
//! amqprs takes the TLS name apart from the address, so with TLS (a TLS
//! front for the local broker) the name goes out as SNI and is verified.

use std::net::SocketAddr;
use std::time::Duration;

use amqprs::connection::Connection;
use patchbay_connector_rabbitmq::{
    open_connection_arguments_via, RabbitMqConfig, RabbitMqConnector,
};
use patchbay_core::{Connector, Endpoint, Error, FailureReason, ResolvedConfig};
use patchbay_testkit::net::{refused_port, require, UNRESOLVABLE_HOST};
use patchbay_testkit::tls_proxy::TlsProxy;
use serde_json::{json, Value};
use tokio::time::Instant;

const LOCAL: &str = "127.0.0.1:5672";
/// A name a certificate can carry; `.invalid` never resolves.
const TLS_NAME: &str = "mq.patchbay.invalid";

async fn broker_here() -> bool {
    let found = tokio::net::TcpStream::connect(LOCAL).await.map(drop);
    require("rabbitmq", "systemctl start rabbitmq-server", found).is_some()
}

fn deadline() -> Instant {
    Instant::now() + Duration::from_secs(10)
}

fn guest(host: &str, port: u16) -> Value {
    json!({ "host": host, "port": port, "username": "guest", "password": "guest" })
}

fn resolved(cfg: Value, host: &str, port: u16, addrs: Vec<SocketAddr>) -> ResolvedConfig {
    ResolvedConfig::new(cfg).with_checked_addrs(Endpoint::new(host, port), addrs)
}

/// The builder's client: the first arguments that open a connection, a
/// channel on it, then close.
async fn builder_opens(resolved: &ResolvedConfig) -> Result<(), String> {
    let config: RabbitMqConfig = resolved.parse().unwrap();
    let mut last = String::new();
    for args in open_connection_arguments_via(&config, resolved.checked()).unwrap() {
        let opened = tokio::time::timeout(Duration::from_secs(10), Connection::open(&args)).await;
        match opened {
            Ok(Ok(conn)) => {
                let channel = conn.open_channel(None).await.map_err(|e| e.to_string())?;
                channel.close().await.map_err(|e| e.to_string())?;
                return conn.close().await.map_err(|e| e.to_string());
            }
            Ok(Err(e)) => last = e.to_string(),
            Err(_) => last = "no handshake".to_owned(),
        }
    }
    Err(last)
}

fn failure(result: Result<impl std::fmt::Debug, Error>) -> (FailureReason, String) {
    match result {
        Err(Error::ConnectionFailed(f)) => (f.reason, f.message),
        other => panic!("expected a connection failure, got {other:?}"),
    }
}

#[tokio::test]
async fn probe_and_builder_connect_to_the_checked_address() {
    if !broker_here().await {
        return;
    }
    let cfg = guest(UNRESOLVABLE_HOST, 5672);
    let (reason, message) = failure(
        RabbitMqConnector
            .test(&ResolvedConfig::new(cfg.clone()), deadline())
            .await,
    );
    assert_eq!(reason, FailureReason::Dns, "{message}");

    let local: SocketAddr = LOCAL.parse().unwrap();
    let pinned = resolved(cfg.clone(), UNRESOLVABLE_HOST, 5672, vec![local]);
    let report = RabbitMqConnector.test(&pinned, deadline()).await.unwrap();
    assert!(report.details.version.is_some(), "{report:?}");
    builder_opens(&pinned).await.unwrap();

    // A refusing address before the live one: the next is used.
    let refusing: SocketAddr = format!("127.0.0.1:{}", refused_port()).parse().unwrap();
    let both = resolved(cfg.clone(), UNRESOLVABLE_HOST, 5672, vec![refusing, local]);
    RabbitMqConnector.test(&both, deadline()).await.unwrap();
    builder_opens(&both).await.unwrap();

    // Only the refusing one: refused, not dns.
    let refused = resolved(cfg, UNRESOLVABLE_HOST, 5672, vec![refusing]);
    let (reason, message) = failure(RabbitMqConnector.test(&refused, deadline()).await);
    assert_eq!(reason, FailureReason::Refused, "{message}");
}

#[tokio::test]
async fn tls_sends_and_verifies_the_name_at_the_checked_address() {
    if !broker_here().await {
        return;
    }
    let proxy = TlsProxy::start(&[TLS_NAME], LOCAL.parse().unwrap()).await;
    let port = proxy.addr().port();
    let mut cfg = guest(TLS_NAME, port);
    cfg["tls"] = json!({ "enabled": true, "ca_cert_pem": proxy.ca_pem() });
    let pinned = resolved(cfg, TLS_NAME, port, vec![proxy.addr()]);
    RabbitMqConnector.test(&pinned, deadline()).await.unwrap();
    builder_opens(&pinned).await.unwrap();
    assert_eq!(
        proxy.server_names(),
        [Some(TLS_NAME.to_owned()), Some(TLS_NAME.to_owned())]
    );

    // A certificate for another name is refused.
    let stranger = TlsProxy::start(&["other.patchbay.invalid"], LOCAL.parse().unwrap()).await;
    let port = stranger.addr().port();
    let mut cfg = guest(TLS_NAME, port);
    cfg["tls"] = json!({ "enabled": true, "ca_cert_pem": stranger.ca_pem() });
    let pinned = resolved(cfg, TLS_NAME, port, vec![stranger.addr()]);
    let (reason, message) = failure(RabbitMqConnector.test(&pinned, deadline()).await);
    assert_eq!(reason, FailureReason::Tls, "{message}");
    assert!(builder_opens(&pinned).await.is_err());
}
