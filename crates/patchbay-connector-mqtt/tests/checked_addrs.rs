//! The probe and the builder's client connect to the addresses the service
//! checked, with no lookup of their own: a broker name that cannot
//! resolve, carrying the local Mosquitto's address as its checked one,
//! connects. With TLS (a TLS front for the local broker), the certificate
//! is checked against the name behind the address.

use std::net::SocketAddr;
use std::time::Duration;

use patchbay_connector_mqtt::rumqttc::{AsyncClient, Event, Packet};
use patchbay_connector_mqtt::{mqtt_options_via, MqttConfig, MqttConnector};
use patchbay_core::{Connector, Endpoint, Error, FailureReason, ResolvedConfig};
use patchbay_testkit::net::{refused_port, require, UNRESOLVABLE_HOST};
use patchbay_testkit::tls_proxy::TlsProxy;
use serde_json::{json, Value};
use tokio::time::Instant;

const LOCAL: &str = "127.0.0.1:1883";
/// A name a certificate can carry; `.invalid` never resolves.
const TLS_NAME: &str = "mqtt.patchbay.invalid";

async fn broker_here() -> bool {
    let found = tokio::net::TcpStream::connect(LOCAL).await.map(drop);
    require("mosquitto", "systemctl start mosquitto", found).is_some()
}

fn deadline() -> Instant {
    Instant::now() + Duration::from_secs(10)
}

fn resolved(cfg: Value, host: &str, port: u16, addrs: Vec<SocketAddr>) -> ResolvedConfig {
    ResolvedConfig::new(cfg).with_checked_addrs(Endpoint::new(host, port), addrs)
}

/// The builder's client: the first options whose broker sends CONNACK.
async fn builder_connack(resolved: &ResolvedConfig) -> Result<(), String> {
    let config: MqttConfig = resolved.parse().unwrap();
    let mut last = String::new();
    for options in mqtt_options_via(&config, resolved.checked()).unwrap() {
        let (client, mut events) = AsyncClient::new(options, 10);
        let acked = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                match events.poll().await {
                    Ok(Event::Incoming(Packet::ConnAck(_))) => return Ok(()),
                    Ok(_) => continue,
                    Err(e) => return Err(e.to_string()),
                }
            }
        })
        .await
        .unwrap_or_else(|_| Err("no CONNACK".to_owned()));
        match acked {
            Ok(()) => {
                let _ = client.disconnect().await;
                return Ok(());
            }
            Err(e) => last = e,
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
    let cfg = json!({ "url": format!("mqtt://{UNRESOLVABLE_HOST}:1883") });
    let (reason, message) = failure(
        MqttConnector
            .test(&ResolvedConfig::new(cfg.clone()), deadline())
            .await,
    );
    assert_eq!(reason, FailureReason::Dns, "{message}");

    let local: SocketAddr = LOCAL.parse().unwrap();
    let pinned = resolved(cfg.clone(), UNRESOLVABLE_HOST, 1883, vec![local]);
    MqttConnector.test(&pinned, deadline()).await.unwrap();
    builder_connack(&pinned).await.unwrap();

    // A refusing address before the live one: the next is used.
    let refusing: SocketAddr = format!("127.0.0.1:{}", refused_port()).parse().unwrap();
    let both = resolved(cfg.clone(), UNRESOLVABLE_HOST, 1883, vec![refusing, local]);
    MqttConnector.test(&both, deadline()).await.unwrap();
    builder_connack(&both).await.unwrap();

    // Only the refusing one: refused, not dns.
    let refused = resolved(cfg, UNRESOLVABLE_HOST, 1883, vec![refusing]);
    let (reason, message) = failure(MqttConnector.test(&refused, deadline()).await);
    assert_eq!(reason, FailureReason::Refused, "{message}");
}

#[tokio::test]
async fn tls_verifies_the_name_behind_the_address() {
    if !broker_here().await {
        return;
    }
    let proxy = TlsProxy::start(&[TLS_NAME], LOCAL.parse().unwrap()).await;
    let port = proxy.addr().port();
    let cfg = json!({
        "url": format!("mqtts://{TLS_NAME}:{port}"),
        "tls": { "ca_cert_pem": proxy.ca_pem() }
    });
    let pinned = resolved(cfg, TLS_NAME, port, vec![proxy.addr()]);
    MqttConnector.test(&pinned, deadline()).await.unwrap();
    builder_connack(&pinned).await.unwrap();
    // rumqttc asked TLS for the address: no SNI (the documented cost).
    assert_eq!(proxy.server_names(), [None, None]);

    // A certificate for another name is refused at the address too.
    let stranger = TlsProxy::start(&["other.patchbay.invalid"], LOCAL.parse().unwrap()).await;
    let port = stranger.addr().port();
    let cfg = json!({
        "url": format!("mqtts://{TLS_NAME}:{port}"),
        "tls": { "ca_cert_pem": stranger.ca_pem() }
    });
    let pinned = resolved(cfg, TLS_NAME, port, vec![stranger.addr()]);
    let (reason, message) = failure(MqttConnector.test(&pinned, deadline()).await);
    assert_eq!(reason, FailureReason::Tls, "{message}");
    assert!(builder_connack(&pinned).await.is_err());
}
