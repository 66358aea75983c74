//! A native client from a profile's config (`connect_options` and
//! `server_addrs`) publishing and subscribing on the local NATS, and the
//! probe following the same options: a change to the config changes both,
//! the same way.

use std::time::Duration;

use futures_util::StreamExt;
use patchbay_connector_nats::{connect_options, server_addrs, NatsConfig, NatsConnector};
use patchbay_core::{Connector, Error, FailureReason, ResolvedConfig};
use patchbay_testkit::net::{refused_port, require};
use serde_json::{json, Value};
use tokio::time::{timeout, Instant};

const ADDR: &str = "127.0.0.1:4222";

async fn shared() -> Option<async_nats::Client> {
    let found = async_nats::connect(ADDR).await;
    require("nats", "nats-server -js -a 127.0.0.1 -p 4222", found)
}

fn typed(cfg: &Value) -> NatsConfig {
    serde_json::from_value(cfg.clone()).expect("a valid config")
}

/// The builder's client, bounded: `None` when it cannot connect.
async fn builder_client(cfg: &Value) -> Option<async_nats::Client> {
    let cfg = typed(cfg);
    let connect = async {
        connect_options(&cfg)
            .ok()?
            .connect(server_addrs(&cfg).ok()?)
            .await
            .ok()
    };
    timeout(Duration::from_secs(10), connect)
        .await
        .expect("the builder's client connects or fails within 10 s")
}

#[tokio::test]
async fn publish_and_subscribe_with_a_client_from_the_profile() {
    if shared().await.is_none() {
        return;
    }
    let subject = format!("patchbay.client.{}", uuid::Uuid::new_v4().simple());
    let cfg = json!({ "servers": [format!("nats://{ADDR}")] });
    let subscriber = builder_client(&cfg).await.expect("subscriber");
    let publisher = builder_client(&cfg).await.expect("publisher");
    let mut messages = subscriber.subscribe(subject.clone()).await.expect("sub");
    // The SUB is registered once the subscriber's own message comes back:
    // one connection keeps order, while `flush` does not wait for the server.
    subscriber
        .publish(subject.clone(), "ready".into())
        .await
        .expect("ready");
    let ready = timeout(Duration::from_secs(10), messages.next())
        .await
        .expect("the ready message within 10 s")
        .expect("subscription open");
    assert_eq!(&ready.payload[..], b"ready");
    for n in 0..3 {
        publisher
            .publish(subject.clone(), format!("reading {n}").into())
            .await
            .expect("pub");
    }
    publisher.flush().await.expect("flush");
    let mut got = Vec::new();
    while got.len() < 3 {
        let message = timeout(Duration::from_secs(10), messages.next())
            .await
            .expect("a message within 10 s")
            .expect("subscription open");
        got.push(String::from_utf8(message.payload.to_vec()).unwrap());
    }
    assert_eq!(got, ["reading 0", "reading 1", "reading 2"]);
    let _ = publisher.drain().await;
    let _ = subscriber.drain().await;
}

async fn probe(cfg: &Value) -> Result<patchbay_core::TestReport, Error> {
    NatsConnector
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
    if shared().await.is_none() {
        return;
    }
    let good = json!({ "servers": [ADDR] });
    let client = builder_client(&good).await.expect("builder: as configured");
    let _ = client.drain().await;
    probe(&good).await.expect("probe: as configured");

    // TLS required (by the field or the scheme) of a plain server: both refuse.
    for cfg in [
        json!({ "servers": [ADDR], "tls": { "enabled": true } }),
        json!({ "servers": [format!("tls://{ADDR}")] }),
    ] {
        assert!(builder_client(&cfg).await.is_none(), "builder: {cfg}");
        assert_eq!(reason(probe(&cfg).await), FailureReason::Tls, "{cfg}");
    }

    // Another port: both go there and find nothing listening.
    let port = refused_port();
    let cfg = json!({ "servers": [format!("127.0.0.1:{port}")] });
    let ports: Vec<u16> = server_addrs(&typed(&cfg))
        .unwrap()
        .iter()
        .map(|s| s.port())
        .collect();
    assert_eq!(ports, [port]);
    assert!(builder_client(&cfg).await.is_none(), "builder: port");
    assert_eq!(reason(probe(&cfg).await), FailureReason::Refused);
}
