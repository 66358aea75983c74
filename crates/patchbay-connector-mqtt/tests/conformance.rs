//! The testkit's connector conformance suite, against a private Mosquitto
//! that demands a password and loopback failure targets.

mod common;

use std::sync::Arc;

use patchbay_connector_mqtt::MqttConnector;
use patchbay_core::Connector;
use patchbay_testkit::fixture::{Fixture, Live};
use serde_json::{json, Value};

struct Mqtt;

#[patchbay_testkit::async_trait]
impl Fixture for Mqtt {
    fn connector(&self) -> Arc<dyn Connector> {
        Arc::new(MqttConnector)
    }
    fn secret_fields(&self) -> &'static [&'static str] {
        &["password"]
    }
    fn config_at(&self, host: &str, port: u16) -> Value {
        json!({ "url": format!("mqtt://{host}:{port}") })
    }
    // The right user, the sentinel as a wrong password.
    async fn live(&self) -> Option<Live> {
        let broker = common::private_broker("app", "the-real-password", "").await?;
        let url = format!("mqtt://127.0.0.1:{}", broker.port);
        Some(Live::guarded(
            vec![json!({ "url": url, "username": "app" })],
            broker,
        ))
    }
}

patchbay_testkit::connector_suite!(Mqtt);
