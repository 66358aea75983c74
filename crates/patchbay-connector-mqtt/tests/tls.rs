//! Certificate checks against a real TLS listener (a Mosquitto of its own,
//! started by `scripts/services/tls.sh` with a test CA): the right CA and
//! name succeed, a wrong CA or host name fails as `tls`. The connector has
//! no switch to skip verification, so no config gets past a bad certificate.

use std::time::Duration;

use patchbay_connector_mqtt::{mqtt_options, MqttConfig, MqttConnector};
use patchbay_core::{Connector, Error, FailureReason, ResolvedConfig};
use patchbay_testkit::tls::TlsListener;
use rumqttc::{AsyncClient, Event, Outgoing, Packet, QoS};
use serde_json::{json, Value};
use tokio::time::{timeout, Instant};

fn listener() -> Option<TlsListener> {
    TlsListener::require("MQTT")
}

fn config(addr: String, ca: Option<&str>) -> Value {
    json!({ "url": format!("mqtts://{addr}"), "tls": { "ca_cert_pem": ca } })
}

fn typed(cfg: &Value) -> MqttConfig {
    serde_json::from_value(cfg.clone()).expect("config")
}

async fn probe(cfg: &Value) -> Result<patchbay_core::TestReport, Error> {
    MqttConnector
        .test(
            &ResolvedConfig::new(cfg.clone()),
            Instant::now() + Duration::from_secs(10),
        )
        .await
}

/// Whether the public builder's client gets a CONNACK (bounded).
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

#[tokio::test]
async fn trusted_ca_probe_and_client_work() {
    let Some(l) = listener() else { return };
    // TLS asked for by the scheme or by the field.
    for cfg in [
        config(l.host_port(), Some(&l.ca_pem)),
        json!({ "url": format!("mqtt://{}", l.host_port()), "tls": { "enabled": true, "ca_cert_pem": l.ca_pem } }),
    ] {
        let report = probe(&cfg).await.unwrap_or_else(|e| panic!("{cfg}: {e}"));
        // Mosquitto's retained version arrived over the TLS session.
        assert!(report.details.version.is_some(), "{report:?}");
    }

    // Real work with the builder's client: subscribe, publish, receive.
    let topic = format!("patchbay/tls/{}", uuid::Uuid::new_v4().simple());
    let (client, mut events) = AsyncClient::new(
        mqtt_options(&typed(&config(l.host_port(), Some(&l.ca_pem)))).unwrap(),
        10,
    );
    let work = async {
        client
            .subscribe(&topic, QoS::AtLeastOnce)
            .await
            .expect("subscribe");
        loop {
            match events.poll().await.expect("poll") {
                Event::Incoming(Packet::SubAck(_)) => break,
                _ => continue,
            }
        }
        client
            .publish(&topic, QoS::AtLeastOnce, false, "over tls")
            .await
            .expect("publish");
        loop {
            if let Event::Incoming(Packet::Publish(p)) = events.poll().await.expect("poll") {
                return p.payload.to_vec();
            }
        }
    };
    let got = timeout(Duration::from_secs(10), work)
        .await
        .expect("the message within 10 s");
    assert_eq!(got, b"over tls");
    client.disconnect().await.expect("disconnect");
    loop {
        match events.poll().await {
            Ok(Event::Outgoing(Outgoing::Disconnect)) | Err(_) => break,
            Ok(_) => continue,
        }
    }
}

/// Every way to get the certificate wrong.
fn bad_configs(l: &TlsListener) -> Vec<(Value, &'static str)> {
    vec![
        // A CA with the CA's name but another key: only the signature differs.
        (config(l.host_port(), Some(&l.wrong_ca_pem)), "wrong CA"),
        // No CA given: the web roots do not know the test CA.
        (config(l.host_port(), None), "web roots"),
        // The right CA, but 127.0.0.1 is not a name in the certificate.
        (config(l.ip_port(), Some(&l.ca_pem)), "wrong host name"),
        (
            json!({ "url": format!("mqtt://{}", l.ip_port()), "tls": { "enabled": true, "ca_cert_pem": l.ca_pem } }),
            "wrong host name, mqtt:// with TLS on",
        ),
    ]
}

#[tokio::test]
async fn a_bad_certificate_fails_as_tls_in_probe_and_client() {
    let Some(l) = listener() else { return };
    for (cfg, what) in bad_configs(&l) {
        match probe(&cfg).await {
            Err(Error::ConnectionFailed(f)) if f.reason == FailureReason::Tls => {
                eprintln!("{what}: {}", f.message);
                // The certificate check failed, not some other part of TLS.
                assert!(f.message.contains("certificate"), "{what}: {}", f.message);
            }
            other => panic!("{what}: expected a tls failure, got {other:?}"),
        }
        assert!(!builder_connects(&cfg).await, "builder: {what}");
    }
}

#[tokio::test]
async fn no_setting_gets_past_a_bad_certificate() {
    let Some(l) = listener() else { return };
    // Plain MQTT to the TLS port gets no CONNACK either.
    let plain = json!({ "url": format!("mqtt://{}", l.host_port()) });
    assert!(probe(&plain).await.is_err(), "TLS off");
    // The schema has no switch to turn verification off.
    for switch in ["insecure_skip_verify", "insecure", "verify"] {
        let mut cfg = config(l.host_port(), Some(&l.wrong_ca_pem));
        cfg["tls"][switch] = json!(false);
        assert!(
            serde_json::from_value::<MqttConfig>(cfg).is_err(),
            "{switch} is not a setting"
        );
    }
}
