//! RabbitMQ (AMQP 0-9-1) connector for patchbay: a JSON Schema config (host,
//! port, virtual host, user, password, TLS) and a connection test that logs
//! in, opens the virtual host and reports the broker's version from its
//! connection properties. No autocomplete: AMQP 0-9-1 cannot list queues or
//! exchanges (that is the management HTTP API's job). The probe connects
//! with [`open_connection_arguments`], which hosts use for their own
//! connections.
//!
//! ```
//! use patchbay_connector_rabbitmq::RabbitMqConnector;
//! use patchbay_core::Connector;
//! assert_eq!(RabbitMqConnector.kind(), "rabbitmq");
//! assert!(RabbitMqConnector.autocomplete_types().is_empty());
//! ```
#![warn(missing_docs)]

mod client;
pub mod config;
mod probe;
mod tls;
mod uri;

/// The client crate this connector is built on (`amqprs`), re-exported so
/// hosts and benchmarks use the same version.
pub use amqprs;

use patchbay_core::schema::schema_for;
use patchbay_core::{
    async_trait, Connector, Endpoint, Error, FieldError, ResolvedConfig, Result, TestReport,
};
use serde_json::Value;
use tokio::time::Instant;

pub use client::{open_connection_arguments, open_connection_arguments_via};
pub use config::RabbitMqConfig;

/// The `rabbitmq` connector. Stateless: every test opens one connection and
/// closes it before returning.
#[derive(Debug, Clone, Copy, Default)]
pub struct RabbitMqConnector;

#[async_trait]
impl Connector for RabbitMqConnector {
    fn kind(&self) -> &'static str {
        <RabbitMqConfig as patchbay_core::ConnectorConfig>::KIND
    }

    fn uri_schemes(&self) -> &'static [&'static str] {
        &["amqp", "amqps"]
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
        &["host", "port", "tls"]
    }

    fn description(&self) -> &'static str {
        "RabbitMQ or another AMQP 0-9-1 broker"
    }

    fn config_schema(&self) -> Value {
        schema_for::<RabbitMqConfig>()
    }

    fn check(&self, config: &Value) -> Vec<FieldError> {
        // Shape errors are the schema's job; only check what parses.
        match serde_json::from_value::<RabbitMqConfig>(config.clone()) {
            Ok(c) => config::check(&c),
            Err(_) => Vec::new(),
        }
    }

    fn endpoints(&self, config: &ResolvedConfig) -> Result<Vec<Endpoint>> {
        let config: RabbitMqConfig = config.parse()?;
        let ep = config
            .endpoint()
            .ok_or_else(|| Error::invalid("/config/host", "not a host name or IP address"))?;
        Ok(vec![ep])
    }

    async fn test(&self, resolved: &ResolvedConfig, deadline: Instant) -> Result<TestReport> {
        let config: RabbitMqConfig = resolved.parse()?;
        probe::test(&config, resolved.checked(), deadline).await
    }
}
