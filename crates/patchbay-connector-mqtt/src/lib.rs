//! MQTT connector for patchbay: a JSON Schema config (broker URL, user,
//! password, client id prefix, TLS) and a connection test (CONNECT, then a
//! SUBSCRIBE that also reads `$SYS/broker/version` when the broker publishes
//! it). No autocomplete: MQTT has no way to list topics. The probe's
//! client is built from [`mqtt_options`], which hosts use for their own.
//!
//! ```
//! use patchbay_connector_mqtt::MqttConnector;
//! use patchbay_core::Connector;
//! assert_eq!(MqttConnector.kind(), "mqtt");
//! assert!(MqttConnector.autocomplete_types().is_empty());
//! ```
#![warn(missing_docs)]

mod client;
pub mod config;
mod probe;
mod uri;

/// The client crate this connector is built on (`rumqttc`), re-exported so
/// hosts and benchmarks use the same version.
pub use rumqttc;

use patchbay_core::schema::schema_for;
use patchbay_core::{
    async_trait, Connector, Endpoint, Error, FieldError, ResolvedConfig, Result, TestReport,
};
use serde_json::Value;
use tokio::time::Instant;

pub use client::{mqtt_options, mqtt_options_via};
pub use config::MqttConfig;

/// The `mqtt` connector. Stateless: every test opens one connection and
/// closes it before returning.
#[derive(Debug, Clone, Copy, Default)]
pub struct MqttConnector;

#[async_trait]
impl Connector for MqttConnector {
    fn kind(&self) -> &'static str {
        <MqttConfig as patchbay_core::ConnectorConfig>::KIND
    }

    fn uri_schemes(&self) -> &'static [&'static str] {
        &["mqtt", "mqtts"]
    }

    fn config_from_uri(
        &self,
        uri: &patchbay_core::ConnectionUri,
    ) -> std::result::Result<serde_json::Value, Vec<patchbay_core::FieldError>> {
        uri::config_from_uri(uri)
    }

    fn uri_of(&self, config: &serde_json::Value) -> Option<String> {
        uri::uri_of(config)
    }

    /// Where its secrets go: a change here needs them entered again.
    fn endpoint_fields(&self) -> &'static [&'static str] {
        &["url", "tls"]
    }

    fn description(&self) -> &'static str {
        "An MQTT 3.1.1 broker such as Mosquitto"
    }

    fn config_schema(&self) -> Value {
        schema_for::<MqttConfig>()
    }

    fn check(&self, config: &Value) -> Vec<FieldError> {
        // Shape errors are the schema's job; only check what parses.
        match serde_json::from_value::<MqttConfig>(config.clone()) {
            Ok(c) => config::check(&c),
            Err(_) => Vec::new(),
        }
    }

    fn endpoints(&self, config: &ResolvedConfig) -> Result<Vec<Endpoint>> {
        let config: MqttConfig = config.parse()?;
        let broker = config
            .broker()
            .ok_or_else(|| Error::invalid("/config/url", "not an MQTT URL"))?;
        Ok(vec![broker.endpoint])
    }

    async fn test(&self, resolved: &ResolvedConfig, deadline: Instant) -> Result<TestReport> {
        let config: MqttConfig = resolved.parse()?;
        probe::test(&config, resolved.checked(), deadline).await
    }
}
