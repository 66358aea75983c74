//! The pipeline itself: Kafka topic → Postgres table, both reached through
//! profiles resolved by name, each client rebuilt when its profile changes.
//! `main.rs` runs it from the command line; `tests/pipeline.rs` calls
//! [`run`] directly.

use std::collections::HashMap;
use std::time::Duration;

use patchbay::{ProfileEvent, ProfileEvents, ProfileId, ProfileService, ResolveRequest};
use patchbay_connector_kafka::rdkafka::consumer::{BaseConsumer, Consumer};
use patchbay_connector_kafka::rdkafka::message::OwnedMessage;
use patchbay_connector_kafka::rdkafka::{Message, Offset, TopicPartitionList};
use patchbay_connector_kafka::{client_config, KafkaConfig};
use patchbay_connector_postgres::{connect_options, PostgresConfig};
use sqlx::postgres::{PgPool, PgPoolOptions};
use tokio::sync::mpsc;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What to move, from where to where.
#[derive(Debug, Clone)]
pub struct Options {
    /// The Kafka profile's name.
    pub kafka_profile: String,
    /// The Postgres profile's name.
    pub postgres_profile: String,
    pub topic: String,
    /// Created when missing: `[a-z_][a-z0-9_]*`.
    pub table: String,
    /// Stop after this many messages.
    pub messages: usize,
}

/// What [`run`] reports while it works.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// A client was (re)built from `profile` at `version`.
    Connected { profile: String, version: u64 },
    /// A message was stored by the Postgres client of `version`.
    Stored {
        partition: i32,
        offset: i64,
        version: u64,
    },
}

/// What [`run`] did.
#[derive(Debug, Default)]
pub struct Report {
    /// Messages inserted.
    pub stored: usize,
    /// Messages already in the table (a rerun over the same topic).
    pub duplicates: usize,
    /// Versions of the Postgres profile a client was built from, in order.
    pub postgres_versions: Vec<u64>,
    /// The same for the Kafka profile.
    pub kafka_versions: Vec<u64>,
}

/// Consumes `options.messages` messages and inserts each into the table,
/// once. Subscribes to the change feed before resolving anything, so no
/// update falls in between; an update of either profile rebuilds that
/// client before the next message is handled.
pub async fn run(
    service: &ProfileService,
    options: &Options,
    progress: Option<mpsc::UnboundedSender<Progress>>,
) -> Result<Report, BoxError> {
    check_table(&options.table)?;
    let tell = |p: Progress| {
        if let Some(tx) = &progress {
            let _ = tx.send(p);
        }
    };
    let mut report = Report::default();
    let mut changes: ProfileEvents = service.watch().await?;
    let mut sink =
        Sink::connect(service, options.postgres_profile.as_str(), &options.table).await?;
    report.postgres_versions.push(sink.version);
    tell(sink.connected());
    let mut next: HashMap<i32, i64> = HashMap::new();
    let mut source = Source::start(
        service,
        options.kafka_profile.as_str(),
        &options.topic,
        &next,
    )
    .await?;
    report.kafka_versions.push(source.version);
    tell(source.connected());

    while report.stored + report.duplicates < options.messages {
        tokio::select! {
            // Changes first: a message that arrives after an update is
            // stored by the rebuilt client.
            biased;
            event = changes.next() => {
                let event = event.ok_or("the change feed ended")?;
                let (postgres, kafka) = match &event {
                    ProfileEvent::Resync => (true, true),
                    ProfileEvent::Deleted { id, .. } if *id == sink.id || *id == source.id => {
                        return Err(format!("a profile in use was deleted ({id})").into());
                    }
                    e => (e.id() == Some(&sink.id), e.id() == Some(&source.id)),
                };
                if postgres && newer(&event, sink.version) {
                    let fresh = Sink::connect(service, sink.id.clone(), &options.table).await?;
                    if fresh.version != sink.version {
                        std::mem::replace(&mut sink, fresh).close().await;
                        report.postgres_versions.push(sink.version);
                        tell(sink.connected());
                    }
                }
                if kafka && newer(&event, source.version) {
                    source.stop().await;
                    source = Source::start(service, source.id.clone(), &options.topic, &next).await?;
                    if report.kafka_versions.last() != Some(&source.version) {
                        report.kafka_versions.push(source.version);
                    }
                    tell(source.connected());
                }
            }
            message = source.messages.recv() => {
                let message = message.ok_or("the consumer stopped")??;
                let inserted = sink.store(&message).await?;
                if inserted {
                    report.stored += 1;
                } else {
                    report.duplicates += 1;
                }
                next.insert(message.partition(), message.offset() + 1);
                tell(Progress::Stored {
                    partition: message.partition(),
                    offset: message.offset(),
                    version: sink.version,
                });
            }
        }
    }
    source.stop().await;
    sink.close().await;
    Ok(report)
}

/// Whether `event` may carry a version past `current` (a resync may).
fn newer(event: &ProfileEvent, current: u64) -> bool {
    event.version().is_none_or(|v| v > current)
}

fn check_table(table: &str) -> Result<(), BoxError> {
    let mut chars = table.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_');
    if first_ok
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && table.len() <= 63
    {
        Ok(())
    } else {
        Err(format!("table {table:?}: use [a-z_][a-z0-9_]*, at most 63 characters").into())
    }
}

/// The Postgres side: a pool built from the profile's resolved config.
struct Sink {
    id: ProfileId,
    name: String,
    version: u64,
    pool: PgPool,
    insert: String,
}

impl Sink {
    async fn connect(
        service: &ProfileService,
        profile: impl Into<patchbay::ProfileRef>,
        table: &str,
    ) -> Result<Self, BoxError> {
        let resolved = service
            .resolve(ResolveRequest::new(profile, "pipeline: store messages"))
            .await?;
        let config: PostgresConfig = resolved.config()?;
        let pool = PgPoolOptions::new()
            .max_connections(2)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(connect_options(&config)?)
            .await?;
        sqlx::query(&format!(
            "CREATE TABLE IF NOT EXISTS {table} (
                topic text NOT NULL, partition int NOT NULL, \"offset\" bigint NOT NULL,
                payload text NOT NULL, profile_version bigint NOT NULL,
                PRIMARY KEY (topic, partition, \"offset\"))"
        ))
        .execute(&pool)
        .await?;
        Ok(Self {
            id: resolved.id().clone(),
            name: resolved.name().to_owned(),
            version: resolved.version(),
            pool,
            insert: format!(
                "INSERT INTO {table} VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING"
            ),
        })
    }

    /// Inserts `message`; false when it was already there.
    async fn store(&self, message: &OwnedMessage) -> Result<bool, BoxError> {
        let payload = String::from_utf8_lossy(message.payload().unwrap_or_default());
        let done = sqlx::query(&self.insert)
            .bind(message.topic())
            .bind(message.partition())
            .bind(message.offset())
            .bind(payload.as_ref())
            .bind(i64::try_from(self.version)?)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    fn connected(&self) -> Progress {
        Progress::Connected {
            profile: self.name.clone(),
            version: self.version,
        }
    }

    async fn close(self) {
        self.pool.close().await;
    }
}

/// The Kafka side: a consumer built from the profile's resolved config, on
/// a thread of its own (rdkafka's consumer blocks), handing messages over.
struct Source {
    id: ProfileId,
    name: String,
    version: u64,
    messages: mpsc::Receiver<Result<OwnedMessage, BoxError>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Source {
    /// Starts consuming every partition of `topic` at `next` (the beginning
    /// for partitions not in it).
    async fn start(
        service: &ProfileService,
        profile: impl Into<patchbay::ProfileRef>,
        topic: &str,
        next: &HashMap<i32, i64>,
    ) -> Result<Self, BoxError> {
        let resolved = service
            .resolve(ResolveRequest::new(profile, "pipeline: consume messages"))
            .await?;
        let config: KafkaConfig = resolved.config()?;
        let mut base = client_config(&config)?;
        // Partitions are assigned, not subscribed: no group coordination,
        // and the pipeline, not the broker, knows where it stopped.
        base.set("group.id", "patchbay-pipeline")
            .set("enable.auto.commit", "false");
        let (tx, messages) = mpsc::channel(64);
        let (topic, next) = (topic.to_owned(), next.clone());
        let thread = std::thread::spawn(move || {
            let consumer: BaseConsumer = match base.create() {
                Ok(c) => c,
                Err(e) => return drop(tx.blocking_send(Err(e.into()))),
            };
            if let Err(e) = assign(&consumer, &topic, &next) {
                return drop(tx.blocking_send(Err(e)));
            }
            // Ends when the receiver is dropped (`stop`).
            while !tx.is_closed() {
                let Some(message) = consumer.poll(Duration::from_millis(100)) else {
                    continue;
                };
                let item = message.map(|m| m.detach()).map_err(BoxError::from);
                if tx.blocking_send(item).is_err() {
                    break;
                }
            }
        });
        Ok(Self {
            id: resolved.id().clone(),
            name: resolved.name().to_owned(),
            version: resolved.version(),
            messages,
            thread: Some(thread),
        })
    }

    fn connected(&self) -> Progress {
        Progress::Connected {
            profile: self.name.clone(),
            version: self.version,
        }
    }

    /// Drops what was read ahead (the next consumer starts after the last
    /// message stored) and waits for the thread to close its consumer.
    async fn stop(&mut self) {
        self.messages.close();
        while self.messages.try_recv().is_ok() {}
        if let Some(thread) = self.thread.take() {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }
}

fn assign(consumer: &BaseConsumer, topic: &str, next: &HashMap<i32, i64>) -> Result<(), BoxError> {
    let metadata = consumer.fetch_metadata(Some(topic), Duration::from_secs(10))?;
    let partitions: Vec<i32> = metadata
        .topics()
        .iter()
        .filter(|t| t.name() == topic)
        .flat_map(|t| t.partitions().iter().map(|p| p.id()))
        .collect();
    if partitions.is_empty() {
        return Err(format!("topic {topic} has no partitions (does it exist?)").into());
    }
    let mut list = TopicPartitionList::new();
    for p in partitions {
        let at = next
            .get(&p)
            .map_or(Offset::Beginning, |o| Offset::Offset(*o));
        list.add_partition_offset(topic, p, at)?;
    }
    consumer.assign(&list)?;
    Ok(())
}
