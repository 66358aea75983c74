//! Kafka connector for patchbay, built on librdkafka (the `rdkafka` crate).
//!
//! * [`KafkaConfig`]: bootstrap servers, security protocol, SASL, a CA
//!   certificate, and an allow-list of extra librdkafka properties.
//! * `test` fetches cluster metadata with a fresh client and reports the
//!   latency to the first complete answer and the broker count; failures are
//!   classified from librdkafka's error events (`refused`, `dns`, `auth`,
//!   `tls`, `timeout` at the deadline) rather than from its final, vague error.
//! * `autocomplete` of type `topics` lists topics with their partition count
//!   and replication factor.
//! * [`client_config`] is the native `rdkafka::ClientConfig` of a profile,
//!   for any producer or consumer a host builds; the probe uses exactly it.
//! * [`create_client`] creates a client whose every broker address —
//!   bootstrap and advertised — goes through a [`BrokerGuard`] (the network
//!   policy) before librdkafka resolves or connects it; the probe's client
//!   is one, and the probe fails `TARGET_FORBIDDEN` when the cluster
//!   advertises a forbidden broker.
//!
//! Every librdkafka call runs on a blocking thread and every client is
//! destroyed before the probe returns.
#![warn(missing_docs)]

mod bootstrap;
mod classify;
mod client;
mod config;
mod guard;
mod hooks;
mod probe;
mod properties;
mod uri;
mod watch;

use patchbay_core::schema::schema_for;
use patchbay_core::{
    async_trait, AutocompleteQuery, Connector, Endpoint, Error, FieldError, ResolvedConfig, Result,
    Suggestion, TestReport,
};
use serde_json::{json, Map, Value};
use tokio::time::Instant;

pub use client::{client_config, create_client, serve_events, CheckedKafkaConfig};
pub use config::{
    KafkaConfig, SaslMechanism, SecurityProtocol, ENDPOINT_FIELDS, MAX_BOOTSTRAP_SERVERS,
};
pub use guard::{BrokerGuard, GuardedContext, PolicyContext};
pub use properties::ALLOWED_PROPERTIES;
/// The `rdkafka` this connector is built with, for hosts and benchmarks that
/// need the same librdkafka.
pub use rdkafka;

/// The `kafka` connector. Stateless: each probe opens and closes its own
/// client.
#[derive(Debug, Clone, Copy, Default)]
pub struct KafkaConnector;

impl KafkaConnector {
    /// The connector.
    pub fn new() -> Self {
        Self
    }
}

fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[async_trait]
impl Connector for KafkaConnector {
    fn kind(&self) -> &'static str {
        <KafkaConfig as patchbay_core::ConnectorConfig>::KIND
    }

    fn uri_schemes(&self) -> &'static [&'static str] {
        &["kafka"]
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
        ENDPOINT_FIELDS
    }

    fn description(&self) -> &'static str {
        "Apache Kafka and Kafka-protocol brokers (librdkafka)"
    }

    fn config_schema(&self) -> Value {
        schema_for::<KafkaConfig>()
    }

    fn autocomplete_types(&self) -> &'static [&'static str] {
        &["topics"]
    }

    fn check(&self, config: &Value) -> Vec<FieldError> {
        // Shape errors are the schema's to report; these are the rest.
        serde_json::from_value::<KafkaConfig>(config.clone())
            .map(|c| c.problems())
            .unwrap_or_default()
    }

    fn endpoints(&self, config: &ResolvedConfig) -> Result<Vec<Endpoint>> {
        config.parse::<KafkaConfig>()?.endpoints()
    }

    async fn test(&self, config: &ResolvedConfig, deadline: Instant) -> Result<TestReport> {
        let start = Instant::now();
        let cfg: KafkaConfig = config.parse()?;
        let snap = probe::fetch(&cfg, guard(config, &cfg)?, start, deadline).await?;
        // No `version`: the Kafka protocol carries no broker version string.
        let mut report = TestReport::success(millis(snap.latency))
            .with_detail("brokers", snap.brokers)
            .with_detail(
                "topics",
                snap.topics.iter().filter(|t| !is_internal(&t.name)).count(),
            );
        if let Some(id) = snap.cluster_id {
            report = report.with_detail("cluster_id", id);
        }
        Ok(report)
    }

    async fn autocomplete(
        &self,
        config: &ResolvedConfig,
        query: &AutocompleteQuery,
        deadline: Instant,
    ) -> Result<Vec<Suggestion>> {
        if query.kind != "topics" {
            return Err(Error::Unsupported(format!(
                "the kafka connector offers autocomplete of type topics, not {:?}",
                query.kind
            )));
        }
        if query.parent.is_some() {
            return Err(Error::invalid("/parent", "topics have no parent"));
        }
        let start = Instant::now();
        let cfg: KafkaConfig = config.parse()?;
        let snap = probe::fetch(&cfg, guard(config, &cfg)?, start, deadline).await?;
        let prefix = query.prefix.as_deref().unwrap_or("");
        let mut topics: Vec<_> = snap
            .topics
            .into_iter()
            .filter(|t| !is_internal(&t.name) && t.name.starts_with(prefix))
            .collect();
        topics.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(topics
            .into_iter()
            .take(query.limit)
            .map(|t| {
                let mut metadata = Map::new();
                metadata.insert("partitions".into(), json!(t.partitions));
                metadata.insert("replication_factor".into(), json!(t.replication_factor));
                Suggestion {
                    value: t.name.clone(),
                    label: t.name,
                    kind: "topic".into(),
                    metadata,
                }
            })
            .collect())
    }
}

/// The guard of one probe: the service's network policy, and the addresses
/// it resolved and checked for the bootstrap endpoints (librdkafka connects
/// to exactly those; no second lookup).
fn guard(config: &ResolvedConfig, cfg: &KafkaConfig) -> Result<BrokerGuard> {
    let mut guard = BrokerGuard::new(config.network_policy().clone());
    for ep in cfg.endpoints()? {
        let addrs = config.checked_addrs(&ep).to_vec();
        if !addrs.is_empty() {
            guard = guard.with_checked_addrs(ep, addrs);
        }
    }
    Ok(guard)
}

/// Kafka's internal topics (`__consumer_offsets`, `__transaction_state`…).
fn is_internal(name: &str) -> bool {
    name.starts_with("__")
}
