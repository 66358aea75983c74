//! The testkit's connector conformance suite, against the local RabbitMQ
//! at 127.0.0.1:5672 and loopback failure targets.

use std::sync::Arc;

use patchbay_connector_rabbitmq::RabbitMqConnector;
use patchbay_core::Connector;
use patchbay_testkit::fixture::{Fixture, Live};
use serde_json::{json, Value};

struct RabbitMq;

#[patchbay_testkit::async_trait]
impl Fixture for RabbitMq {
    fn connector(&self) -> Arc<dyn Connector> {
        Arc::new(RabbitMqConnector)
    }
    fn secret_fields(&self) -> &'static [&'static str] {
        &["password"]
    }
    fn config_at(&self, host: &str, port: u16) -> Value {
        json!({ "host": host, "port": port, "username": "guest", "password": "guest" })
    }
    // The guest user, the sentinel as a wrong password.
    async fn live(&self) -> Option<Live> {
        let up = tokio::net::TcpStream::connect("127.0.0.1:5672").await;
        patchbay_testkit::net::require("rabbitmq", "systemctl start rabbitmq-server", up)?;
        Some(Live::new(vec![
            json!({ "host": "127.0.0.1", "username": "guest" }),
        ]))
    }
}

patchbay_testkit::connector_suite!(RabbitMq);
