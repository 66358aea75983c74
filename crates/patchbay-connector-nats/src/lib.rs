//! NATS connector for patchbay: a JSON Schema config (servers,
//! user/password, token or `.creds`, TLS), a connection test reporting the
//! server's version from its INFO, and JetStream autocomplete of `streams`
//! and `subjects`. Probes connect with [`connect_options`] and
//! [`server_addrs`], which hosts use for their own client.
//!
//! ```
//! use patchbay_connector_nats::NatsConnector;
//! use patchbay_core::Connector;
//! assert_eq!(NatsConnector.autocomplete_types(), ["streams", "subjects"]);
//! ```
#![warn(missing_docs)]

mod client;
pub mod config;
mod connect;
mod jetstream;
mod probe;
mod uri;

/// The client crate this connector is built on (`async-nats`), re-exported so
/// hosts and benchmarks use the same version.
pub use async_nats;

use patchbay_core::schema::schema_for;
use patchbay_core::{
    async_trait, AutocompleteQuery, Connector, Endpoint, Error, FieldError, ResolvedConfig, Result,
    Suggestion, TestReport,
};
use serde_json::Value;
use tokio::time::Instant;

pub use client::{connect_options, connect_via, server_addrs};
pub use config::NatsConfig;

/// The `nats` connector. Stateless: every call opens one connection and
/// closes it before returning.
#[derive(Debug, Clone, Copy, Default)]
pub struct NatsConnector;

#[async_trait]
impl Connector for NatsConnector {
    fn kind(&self) -> &'static str {
        <NatsConfig as patchbay_core::ConnectorConfig>::KIND
    }

    fn uri_schemes(&self) -> &'static [&'static str] {
        &["nats", "tls"]
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
        &["servers", "tls"]
    }

    fn description(&self) -> &'static str {
        "NATS, with JetStream streams and subjects"
    }

    fn config_schema(&self) -> Value {
        schema_for::<NatsConfig>()
    }

    fn autocomplete_types(&self) -> &'static [&'static str] {
        &["streams", "subjects"]
    }

    fn check(&self, config: &Value) -> Vec<FieldError> {
        // Shape errors are the schema's job; only check what parses.
        match serde_json::from_value::<NatsConfig>(config.clone()) {
            Ok(c) => config::check(&c),
            Err(_) => Vec::new(),
        }
    }

    fn endpoints(&self, config: &ResolvedConfig) -> Result<Vec<Endpoint>> {
        let config: NatsConfig = config.parse()?;
        let eps = config.endpoints();
        if eps.len() != config.servers.len() || eps.is_empty() {
            return Err(Error::invalid(
                "/config/servers",
                "every server must be host:port",
            ));
        }
        Ok(eps)
    }

    async fn test(&self, resolved: &ResolvedConfig, deadline: Instant) -> Result<TestReport> {
        let config: NatsConfig = resolved.parse()?;
        probe::test(&config, resolved.checked(), deadline).await
    }

    async fn autocomplete(
        &self,
        resolved: &ResolvedConfig,
        query: &AutocompleteQuery,
        deadline: Instant,
    ) -> Result<Vec<Suggestion>> {
        let config: NatsConfig = resolved.parse()?;
        jetstream::suggest(&config, resolved.checked(), query, deadline).await
    }
}
