//! One bounded metadata fetch: a fresh guarded librdkafka client (built
//! from the same [`client_config`] hosts use) on a blocking thread, watched
//! through its error events, destroyed before returning.

use std::time::{Duration, Instant as StdInstant};

use patchbay_core::{Error, FailureReason, Result};
use rdkafka::client::Client;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::error::KafkaError;
use rdkafka::metadata::Metadata;
use rdkafka::types::RDKafkaErrorCode as Code;
use rdkafka::ClientConfig;
use tokio::time::Instant;

use crate::client::{client_config, create_client, serve_events};
use crate::config::KafkaConfig;
use crate::guard::{BrokerGuard, Denied, GuardedContext};
use crate::watch::Watch;

/// How long one blocking wait lasts before the error events are read: the
/// most a decisive failure (refused, auth, TLS) waits to be noticed.
const SLICE: Duration = Duration::from_millis(50);
/// Longest slice once requests go unanswered (each slice resends the
/// request, so they grow for slow brokers).
const MAX_SLICE: Duration = Duration::from_millis(1600);
/// Most time set aside, either side of the deadline, to destroy the client.
const MAX_MARGIN: Duration = Duration::from_millis(250);

/// What a successful probe saw.
#[derive(Debug, Clone)]
pub(crate) struct Snapshot {
    /// From the probe's start to the complete metadata answer.
    pub latency: Duration,
    /// Brokers in the answer.
    pub brokers: usize,
    /// Cluster id, when the broker sent one.
    pub cluster_id: Option<String>,
    /// Every topic without an error, internal ones included.
    pub topics: Vec<TopicInfo>,
}

/// One topic of a [`Snapshot`].
#[derive(Debug, Clone)]
pub(crate) struct TopicInfo {
    pub name: String,
    pub partitions: usize,
    pub replication_factor: usize,
}

/// The probe's librdkafka config: the host builder's, plus three probe-only
/// keys
/// (and a `client.id` when the profile sets none). `connect_ms` bounds the
/// connection setup (librdkafka's minimum is 1000).
pub(crate) fn probe_config(config: &KafkaConfig, connect_ms: u64) -> Result<ClientConfig> {
    let mut cfg = client_config(config)?;
    if cfg.get("client.id").is_none() {
        cfg.set("client.id", "patchbay-probe");
    }
    // A probe asks once; no background refreshes while it runs.
    cfg.set("topic.metadata.refresh.interval.ms", "-1")
        .set(
            "socket.connection.setup.timeout.ms",
            connect_ms.clamp(1000, 300_000).to_string(),
        )
        // Disconnects must reach the error events: a broker hanging up on
        // the wrong protocol is how TLS and SASL mismatches show.
        .set("log.connection.close", "true")
        // Info: connection closes are logged at info or warning level only.
        .set_log_level(RDKafkaLogLevel::Info);
    Ok(cfg)
}

/// Fetches cluster metadata with `config`, classified failures, by
/// `deadline`. Every broker address goes through `guard`: the bootstrap
/// endpoints are resolved (or taken from the guard's checked addresses) and
/// checked here first, then librdkafka's own resolution and connections go
/// through it, and every broker the cluster advertises is checked too.
pub(crate) async fn fetch(
    config: &KafkaConfig,
    guard: BrokerGuard,
    start: Instant,
    deadline: Instant,
) -> Result<Snapshot> {
    let budget_ms = deadline.saturating_duration_since(start).as_millis();
    let timeout = |note: &str| {
        Error::connection_failed(
            FailureReason::Timeout,
            format!("no metadata answer from the brokers within {budget_ms} ms{note}"),
        )
    };
    // Resolve first: a DNS failure is reported as such, the address count
    // tells when every address has refused, and librdkafka then connects
    // to exactly these addresses.
    let mut guard = guard;
    let mut addresses = 0;
    let mut dns_errors = Vec::new();
    for ep in config.endpoints()? {
        let found = match guard.checked_addrs(&ep) {
            Some(addrs) => Ok(addrs.to_vec()),
            None => match tokio::time::timeout_at(
                deadline,
                tokio::net::lookup_host((ep.host.as_str(), ep.port)),
            )
            .await
            {
                Err(_) => return Err(timeout(&format!(" (resolving {} did not finish)", ep.host))),
                Ok(found) => found.map(Iterator::collect::<Vec<_>>),
            },
        };
        match found {
            Ok(addrs) => {
                if !guard.check(&ep, &addrs) {
                    return Err(guard.forbidden().expect("a refusal was recorded"));
                }
                addresses += addrs.len();
                guard = guard.with_checked_addrs(ep, addrs);
            }
            Err(e) => dns_errors.push(format!("cannot resolve {}: {e}", ep.host)),
        }
    }
    if addresses == 0 {
        return Err(Error::connection_failed(
            FailureReason::Dns,
            dns_errors.join("; "),
        ));
    }
    let remaining = deadline.saturating_duration_since(Instant::now());
    let client_config = probe_config(config, remaining.as_millis() as u64)?;
    let guard = guard.with_lookup_timeout(remaining);
    let watch = Watch::new(
        guard,
        addresses,
        config.security_protocol.uses_tls(),
        config.security_protocol.uses_sasl(),
        config.secret_values(),
    );
    // Destroying a client takes tens of ms (more on a busy machine): the
    // waiting stops a margin before the deadline so the probe, destroy
    // included, ends within the margin after it.
    let margin = (deadline.saturating_duration_since(start) / 20).min(MAX_MARGIN);
    let (std_start, stop) = (start.into_std(), (deadline - margin).into_std());
    let task =
        tokio::task::spawn_blocking(move || run_blocking(&client_config, watch, std_start, stop));
    // This cut is only for a client that does not shut down.
    match tokio::time::timeout_at(deadline + margin, task).await {
        Ok(Ok(Ok(snapshot))) => Ok(snapshot),
        Ok(Ok(Err(Outcome::Failed(reason, message)))) => {
            Err(Error::connection_failed(reason, message))
        }
        Ok(Ok(Err(Outcome::Forbidden(error)))) => Err(error),
        Ok(Ok(Err(Outcome::TimedOut(note)))) => Err(timeout(&note)),
        Ok(Err(join)) => Err(Error::connection_failed(
            FailureReason::Other,
            format!("probe task failed: {join}"),
        )),
        Err(_) => Err(timeout(" (the client did not shut down in time)")),
    }
}

/// Why the blocking side gave up.
enum Outcome {
    Failed(FailureReason, String),
    /// The policy refused a broker address (`TARGET_FORBIDDEN`).
    Forbidden(Error),
    /// With a note on the last thing librdkafka reported.
    TimedOut(String),
}

fn run_blocking(
    config: &ClientConfig,
    context: Watch,
    start: StdInstant,
    deadline: StdInstant,
) -> Result<Snapshot, Outcome> {
    let client = create_client(config, context).map_err(|e| {
        Outcome::Failed(
            FailureReason::Other,
            format!("cannot create the Kafka client: {e}"),
        )
    })?;
    let outcome = wait_for_metadata(&client, start, deadline);
    // Dropping joins librdkafka's threads: it happens here, on this
    // blocking thread, before the probe returns.
    drop(client);
    outcome
}

fn wait_for_metadata(
    client: &Client<Watch>,
    start: StdInstant,
    deadline: StdInstant,
) -> Result<Snapshot, Outcome> {
    let watch = client.context().clone();
    let mut slice = SLICE;
    loop {
        let remaining = deadline.saturating_duration_since(StdInstant::now());
        if remaining.is_zero() {
            return Err(Outcome::TimedOut(watch.note()));
        }
        let wait = remaining.min(slice);
        let result = client.fetch_metadata(None, wait);
        serve_events(client);
        if let Some(error) = watch.guard().forbidden() {
            return Err(Outcome::Forbidden(error));
        }
        match result {
            Ok(md) => {
                let latency = start.elapsed();
                // The brokers the cluster advertises are where clients built
                // from this profile will connect: each must be allowed.
                for broker in md.brokers() {
                    let port = u16::try_from(broker.port()).unwrap_or(0);
                    if watch.guard().resolve(broker.host(), port) == Err(Denied::Forbidden) {
                        return Err(Outcome::Forbidden(
                            watch.guard().forbidden().expect("a refusal was recorded"),
                        ));
                    }
                }
                let cluster_id = client.fetch_cluster_id(Duration::ZERO);
                return Ok(snapshot(&md, latency, cluster_id));
            }
            Err(KafkaError::MetadataFetch(code)) => {
                if let Some((reason, message)) = watch.decisive() {
                    return Err(Outcome::Failed(reason, message));
                }
                match code {
                    // No broker usable yet: wait another slice.
                    Code::BrokerTransportFailure => {}
                    // Sent but unanswered (or its connection dropped):
                    // the next slice resends it, with longer to answer.
                    Code::OperationTimedOut => slice = (slice * 2).min(MAX_SLICE),
                    other => {
                        return Err(Outcome::Failed(
                            FailureReason::Other,
                            format!("metadata request failed: {other}"),
                        ))
                    }
                }
            }
            Err(e) => {
                return Err(Outcome::Failed(
                    FailureReason::Other,
                    format!("metadata request failed: {e}"),
                ))
            }
        }
    }
}

fn snapshot(md: &Metadata, latency: Duration, cluster_id: Option<String>) -> Snapshot {
    let topics = md
        .topics()
        .iter()
        .filter(|t| t.error().is_none())
        .map(|t| TopicInfo {
            name: t.name().to_owned(),
            partitions: t.partitions().len(),
            replication_factor: t
                .partitions()
                .iter()
                .map(|p| p.replicas().len())
                .max()
                .unwrap_or(0),
        })
        .collect();
    Snapshot {
        latency,
        brokers: md.brokers().len(),
        cluster_id: cluster_id.filter(|id| !id.is_empty()),
        topics,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Probe-only settings layered over [`client_config`]: everything else comes
    /// from the builder hosts use, so the two cannot drift.
    const PROBE_KEYS: &[&str] = &[
        "topic.metadata.refresh.interval.ms",
        "socket.connection.setup.timeout.ms",
        "log.connection.close",
    ];

    fn typed(v: serde_json::Value) -> KafkaConfig {
        serde_json::from_value(v).unwrap()
    }

    /// The probe's config is the host builder's plus the probe-only keys:
    /// every setting a profile makes reaches both, unchanged.
    #[test]
    fn the_probe_config_is_the_builder_config_plus_probe_keys() {
        for config in [
            json!({ "bootstrap_servers": "a:1,b:2" }),
            json!({ "bootstrap_servers": "a:1", "security_protocol": "SASL_SSL",
                    "sasl_mechanism": "SCRAM-SHA-512", "sasl_username": "u", "sasl_password": "p",
                    "ssl_ca_pem": "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n",
                    "properties": { "client.id": "billing", "socket.keepalive.enable": "true" } }),
            json!({ "bootstrap_servers": "a:1", "security_protocol": "SSL" }),
        ] {
            let config = typed(config);
            let host = client_config(&config).unwrap();
            let probe = probe_config(&config, 2000).unwrap();
            let (host, probe) = (host.config_map(), probe.config_map());
            for (key, value) in &host {
                assert_eq!(probe.get(key), Some(value), "{key}");
            }
            for key in probe.keys() {
                assert!(
                    host.contains_key(key) || PROBE_KEYS.contains(key) || *key == "client.id",
                    "the probe sets {key}, which hosts do not get"
                );
            }
        }
    }

    #[test]
    fn a_field_change_changes_both() {
        let plain = typed(json!({ "bootstrap_servers": "a:1" }));
        let tls = typed(json!({ "bootstrap_servers": "a:1", "security_protocol": "SSL" }));
        for build in [
            |c: &KafkaConfig| client_config(c).unwrap(),
            |c: &KafkaConfig| probe_config(c, 1000).unwrap(),
        ] {
            assert_eq!(build(&plain).get("security.protocol"), Some("plaintext"));
            assert_eq!(build(&tls).get("security.protocol"), Some("ssl"));
        }
    }
}
