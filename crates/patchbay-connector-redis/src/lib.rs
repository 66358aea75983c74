//! Redis connector for patchbay: a JSON Schema config (standalone or
//! cluster addresses, ACL user and password, TLS), a connection test that
//! reports the server version from `INFO server`, and `keys` autocomplete by
//! prefix with a bounded `SCAN` (never `KEYS`). Probes connect with
//! [`connection_info`], which hosts use for their own [`client`], to the
//! addresses the service checked ([`connection_config_via`]).
//!
//! ```
//! use patchbay_connector_redis::RedisConnector;
//! use patchbay_core::Connector;
//! assert_eq!(RedisConnector.kind(), "redis");
//! ```
#![warn(missing_docs)]

mod client;
pub mod config;
mod connect;
mod keys;
mod probe;
mod resolver;
mod uri;

/// The client crate this connector is built on (`redis`), re-exported so
/// hosts and benchmarks use the same version.
pub use redis;

use patchbay_core::schema::schema_for;
use patchbay_core::{
    async_trait, AutocompleteQuery, Connector, Endpoint, Error, FieldError, ResolvedConfig, Result,
    Suggestion, TestReport,
};
use serde_json::Value;
use tokio::time::Instant;

pub use client::{client, connection_info};
pub use config::RedisConfig;
pub use keys::escape_glob;
pub use resolver::{connection_config_via, CheckedResolver};

/// The `redis` connector. Stateless: every call opens one connection per
/// node it needs and closes it before returning.
#[derive(Debug, Clone, Copy, Default)]
pub struct RedisConnector;

#[async_trait]
impl Connector for RedisConnector {
    fn kind(&self) -> &'static str {
        <RedisConfig as patchbay_core::ConnectorConfig>::KIND
    }

    fn uri_schemes(&self) -> &'static [&'static str] {
        &["redis", "rediss"]
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
        &["mode", "addresses", "tls"]
    }

    fn description(&self) -> &'static str {
        "Redis or Valkey, standalone or cluster"
    }

    fn config_schema(&self) -> Value {
        schema_for::<RedisConfig>()
    }

    fn autocomplete_types(&self) -> &'static [&'static str] {
        &["keys"]
    }

    fn check(&self, config: &Value) -> Vec<FieldError> {
        // Shape errors are the schema's job; only check what parses.
        match serde_json::from_value::<RedisConfig>(config.clone()) {
            Ok(c) => config::check(&c),
            Err(_) => Vec::new(),
        }
    }

    fn endpoints(&self, config: &ResolvedConfig) -> Result<Vec<Endpoint>> {
        let config: RedisConfig = config.parse()?;
        let eps = config.endpoints();
        if eps.len() != config.addresses.len() || eps.is_empty() {
            return Err(Error::invalid(
                "/config/addresses",
                "every address must be host:port",
            ));
        }
        Ok(eps)
    }

    async fn test(&self, resolved: &ResolvedConfig, deadline: Instant) -> Result<TestReport> {
        let config: RedisConfig = resolved.parse()?;
        probe::test(&config, resolved.checked(), deadline).await
    }

    async fn autocomplete(
        &self,
        resolved: &ResolvedConfig,
        query: &AutocompleteQuery,
        deadline: Instant,
    ) -> Result<Vec<Suggestion>> {
        let config: RedisConfig = resolved.parse()?;
        match query.kind.as_str() {
            "keys" => keys::keys(&config, resolved.checked(), query, deadline).await,
            other => Err(Error::Unsupported(format!(
                "the redis connector offers no autocomplete of type {other:?}"
            ))),
        }
    }
}
