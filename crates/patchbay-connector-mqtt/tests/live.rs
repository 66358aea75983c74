//! Against the local Mosquitto at 127.0.0.1:1883, a private Mosquitto with a
//! password file on a free loopback port, and loopback failure targets.

mod common;

use std::time::Duration;

use common::private_broker;
use patchbay_connector_mqtt::MqttConnector;
use patchbay_core::{Connector, Error, FailureReason, ResolvedConfig, TestReport};
use patchbay_testkit::net::require;
use serde_json::{json, Value};
use tokio::time::Instant;

const URL: &str = "mqtt://127.0.0.1:1883";

async fn shared() -> Option<()> {
    let found = tokio::net::TcpStream::connect("127.0.0.1:1883")
        .await
        .map(drop);
    require("mosquitto", "systemctl start mosquitto", found)
}

async fn test(config: Value) -> Result<TestReport, Error> {
    MqttConnector
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
async fn succeeds_with_the_brokers_version() {
    if shared().await.is_none() {
        return;
    }
    let report = test(json!({ "url": URL, "client_id_prefix": "pb-test" }))
        .await
        .expect("test");
    // Mosquitto publishes $SYS/broker/version, retained.
    let version = report
        .details
        .version
        .expect("mosquitto publishes its version");
    assert!(
        version.chars().next().is_some_and(|c| c.is_ascii_digit()),
        "{version}"
    );
    assert_eq!(report.details.extra["product"], "mosquitto");
}

#[tokio::test]
async fn password_is_checked() {
    let Some(broker) = private_broker("app", "right-pass-5", "").await else {
        return;
    };
    let url = format!("mqtt://127.0.0.1:{}", broker.port);
    let ok = test(json!({ "url": url, "username": "app", "password": "right-pass-5" })).await;
    ok.expect("right password");
    let wrong = "wrong-pass-6";
    let (why, message) =
        reason(test(json!({ "url": url, "username": "app", "password": wrong })).await);
    eprintln!("auth failure as reported: {message}");
    assert_eq!(why, FailureReason::Auth, "{message}");
    assert!(!message.contains(wrong));
    let (why, message) = reason(test(json!({ "url": url })).await);
    assert_eq!(why, FailureReason::Auth, "anonymous: {message}");
}

#[tokio::test]
async fn tls_to_a_plain_broker_is_tls() {
    if shared().await.is_none() {
        return;
    }
    let (why, message) = reason(test(json!({ "url": "mqtts://127.0.0.1:1883" })).await);
    eprintln!("tls failure as reported: {message}");
    assert_eq!(why, FailureReason::Tls, "{message}");
}

#[test]
fn offers_no_autocomplete() {
    assert!(MqttConnector.autocomplete_types().is_empty());
}
