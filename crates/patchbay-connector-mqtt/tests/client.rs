//! Native clients from a profile's config (`mqtt_options`) publishing and
//! subscribing on the local Mosquitto, and the probe following the same
//! options: a change to the config changes both, the same way.

use std::time::Duration;

use patchbay_connector_mqtt::{mqtt_options, MqttConfig, MqttConnector};
use patchbay_core::{Connector, Error, FailureReason, ResolvedConfig};
use patchbay_testkit::net::{refused_port, require};
use rumqttc::{AsyncClient, Event, Outgoing, Packet, QoS, Transport};
use serde_json::{json, Value};
use tokio::time::{timeout, Instant};

const URL: &str = "mqtt://127.0.0.1:1883";

async fn shared() -> Option<()> {
    let found = tokio::net::TcpStream::connect("127.0.0.1:1883")
        .await
        .map(drop);
    require("mosquitto", "systemctl start mosquitto", found)
}

fn typed(cfg: &Value) -> MqttConfig {
    serde_json::from_value(cfg.clone()).expect("a valid config")
}

#[tokio::test]
async fn publish_and_subscribe_with_clients_from_the_profile() {
    if shared().await.is_none() {
        return;
    }
    let topic = format!("patchbay/client/{}", uuid::Uuid::new_v4().simple());
    let cfg = typed(&json!({ "url": URL, "client_id_prefix": "pb-client" }));
    // Two clients of one profile: distinct ids, or the broker would drop one.
    let (sub_opts, pub_opts) = (mqtt_options(&cfg).unwrap(), mqtt_options(&cfg).unwrap());
    assert_ne!(sub_opts.client_id(), pub_opts.client_id());
    let (subscriber, mut sub_events) = AsyncClient::new(sub_opts, 10);
    let (publisher, mut pub_events) = AsyncClient::new(pub_opts, 10);
    // The publisher's loop runs until its client's DISCONNECT is written.
    let pub_loop = tokio::spawn(async move {
        loop {
            match pub_events.poll().await {
                Ok(Event::Outgoing(Outgoing::Disconnect)) | Err(_) => return,
                Ok(_) => continue,
            }
        }
    });

    let work = async {
        subscriber
            .subscribe(&topic, QoS::AtLeastOnce)
            .await
            .expect("subscribe");
        loop {
            if let Event::Incoming(Packet::SubAck(_)) = sub_events.poll().await.expect("suback") {
                break;
            }
        }
        for n in 0..3 {
            publisher
                .publish(&topic, QoS::AtLeastOnce, false, format!("reading {n}"))
                .await
                .expect("publish");
        }
        let mut got = Vec::new();
        while got.len() < 3 {
            if let Event::Incoming(Packet::Publish(p)) = sub_events.poll().await.expect("poll") {
                assert_eq!(p.topic, topic);
                got.push(String::from_utf8(p.payload.to_vec()).unwrap());
            }
        }
        got
    };
    let got = timeout(Duration::from_secs(10), work)
        .await
        .expect("three messages within 10 s");
    assert_eq!(got, ["reading 0", "reading 1", "reading 2"]);
    publisher.disconnect().await.expect("disconnect");
    timeout(Duration::from_secs(10), pub_loop)
        .await
        .expect("the publisher's loop ends with its DISCONNECT")
        .unwrap();
    // The subscriber's connection closes with its event loop.
    drop((subscriber, sub_events));
}

/// Whether the builder's client gets a CONNACK (bounded).
async fn builder_connects(cfg: &Value) -> bool {
    let (_client, mut events) = AsyncClient::new(mqtt_options(&typed(cfg)).unwrap(), 10);
    let connack = async {
        loop {
            match events.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(_))) => return true,
                Ok(_) => continue,
                Err(_) => return false,
            }
        }
    };
    timeout(Duration::from_secs(10), connack)
        .await
        .expect("the builder's client connects or fails within 10 s")
}

async fn probe(cfg: &Value) -> Result<patchbay_core::TestReport, Error> {
    MqttConnector
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
    let good = json!({ "url": URL });
    assert!(builder_connects(&good).await, "builder: as configured");
    probe(&good).await.expect("probe: as configured");

    // TLS on (by the field or the scheme) against a plain broker: both fail.
    for cfg in [
        json!({ "url": URL, "tls": { "enabled": true } }),
        json!({ "url": "mqtts://127.0.0.1:1883" }),
    ] {
        let options = mqtt_options(&typed(&cfg)).unwrap();
        assert!(matches!(options.transport(), Transport::Tls(_)), "{cfg}");
        assert!(!builder_connects(&cfg).await, "builder: {cfg}");
        assert_eq!(reason(probe(&cfg).await), FailureReason::Tls, "{cfg}");
    }

    // Another port: both go there and find nothing listening.
    let port = refused_port();
    let cfg = json!({ "url": format!("mqtt://127.0.0.1:{port}") });
    let options = mqtt_options(&typed(&cfg)).unwrap();
    assert_eq!(options.broker_address(), ("127.0.0.1".to_owned(), port));
    assert!(!builder_connects(&cfg).await, "builder: port");
    assert_eq!(reason(probe(&cfg).await), FailureReason::Refused);
}
