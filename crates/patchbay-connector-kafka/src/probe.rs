//! One bounded metadata fetch: a fresh librdkafka client on a blocking
//! thread, watched through its error events, destroyed before returning.

use std::time::{Duration, Instant as StdInstant};

use patchbay_core::{Error, FailureReason, Result};
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::error::KafkaError;
use rdkafka::metadata::Metadata;
use rdkafka::producer::{BaseProducer, Producer};
use rdkafka::types::RDKafkaErrorCode as Code;
use rdkafka::ClientConfig;
use tokio::time::Instant;

use crate::config::KafkaConfig;
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

/// Fetches cluster metadata with `config`, classified failures, by `deadline`.
pub(crate) async fn fetch(
    config: &KafkaConfig,
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
    // Resolve first: a DNS failure is reported as such, and the address
    // count tells when every address has refused.
    let mut addresses = 0;
    let mut dns_errors = Vec::new();
    for ep in config.endpoints()? {
        match tokio::time::timeout_at(
            deadline,
            tokio::net::lookup_host((ep.host.as_str(), ep.port)),
        )
        .await
        {
            Err(_) => return Err(timeout(&format!(" (resolving {} did not finish)", ep.host))),
            Ok(Ok(found)) => addresses += found.count(),
            Ok(Err(e)) => dns_errors.push(format!("cannot resolve {}: {e}", ep.host)),
        }
    }
    if addresses == 0 {
        return Err(Error::connection_failed(
            FailureReason::Dns,
            dns_errors.join("; "),
        ));
    }
    let remaining = deadline.saturating_duration_since(Instant::now());
    let client_config = config.client_config(remaining.as_millis() as u64)?;
    let watch = Watch::new(
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
    /// With a note on the last thing librdkafka reported.
    TimedOut(String),
}

fn run_blocking(
    config: &ClientConfig,
    context: Watch,
    start: StdInstant,
    deadline: StdInstant,
) -> Result<Snapshot, Outcome> {
    let mut config = config.clone();
    // Info: connection closes are logged at info or warning level only.
    config.set_log_level(RDKafkaLogLevel::Info);
    let producer: BaseProducer<Watch> = config.create_with_context(context).map_err(|e| {
        Outcome::Failed(
            FailureReason::Other,
            format!("cannot create the Kafka client: {e}"),
        )
    })?;
    let outcome = wait_for_metadata(&producer, start, deadline);
    // Dropping joins librdkafka's threads: it happens here, on this
    // blocking thread, before the probe returns.
    drop(producer);
    outcome
}

fn wait_for_metadata(
    producer: &BaseProducer<Watch>,
    start: StdInstant,
    deadline: StdInstant,
) -> Result<Snapshot, Outcome> {
    let watch = producer.context().clone();
    let mut slice = SLICE;
    loop {
        let remaining = deadline.saturating_duration_since(StdInstant::now());
        if remaining.is_zero() {
            return Err(Outcome::TimedOut(watch.note()));
        }
        let wait = remaining.min(slice);
        let result = producer.client().fetch_metadata(None, wait);
        drain(producer);
        match result {
            Ok(md) => {
                let latency = start.elapsed();
                let cluster_id = producer.client().fetch_cluster_id(Duration::ZERO);
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

/// Serves every queued log and error event to the context.
fn drain(producer: &BaseProducer<Watch>) {
    let watch = producer.context();
    for _ in 0..1000 {
        let seen = watch.events();
        producer.poll(Duration::ZERO);
        if watch.events() == seen {
            break;
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
