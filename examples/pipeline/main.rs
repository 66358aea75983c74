//! A host that uses profiles by name: it stores a Kafka profile and a
//! Postgres profile, then consumes messages from a topic and inserts each
//! into a Postgres table, once. Its clients come from `resolve` and the
//! connectors' builders; when a profile changes (`watch`), the client built
//! from it is rebuilt before the next message.
//!
//! Against the local services (`scripts/services/kafka.sh start`, Postgres on
//! 127.0.0.1:5432):
//!
//! ```sh
//! tansu topic create --broker tcp://127.0.0.1:19092 readings
//! cargo run --example pipeline -- --topic readings --produce --messages 10
//! ```
//!
//! Bounded: it exits after `--messages` messages. `tests/pipeline.rs` runs
//! [`pipeline::run`] and updates the Postgres profile mid-run.

mod pipeline;

use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use patchbay::{Keyring, NewProfile, ProfileService, ResolveRequest};
use patchbay_connector_kafka::rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use patchbay_connector_kafka::{client_config, KafkaConfig, KafkaConnector};
use patchbay_connector_postgres::PostgresConnector;
use patchbay_store_sqlite::{SqliteConfig, SqliteStore};
use serde_json::json;

#[derive(Parser)]
struct Args {
    /// Kafka bootstrap servers.
    #[arg(long, env = "PATCHBAY_TEST_KAFKA", default_value = "127.0.0.1:19092")]
    brokers: String,
    #[arg(long, default_value = "readings")]
    topic: String,
    /// Messages to move before exiting.
    #[arg(long, default_value_t = 10)]
    messages: usize,
    /// Produce the messages first (through the same Kafka profile).
    #[arg(long)]
    produce: bool,
    #[arg(long, default_value = "127.0.0.1")]
    pg_host: String,
    #[arg(long, default_value_t = 5432)]
    pg_port: u16,
    #[arg(long, default_value = "postgres")]
    pg_user: String,
    #[arg(
        long,
        env = "PATCHBAY_PIPELINE_PG_PASSWORD",
        default_value = "postgres"
    )]
    pg_password: String,
    #[arg(long, default_value = "test")]
    pg_database: String,
    #[arg(long, default_value = "pipeline_readings")]
    table: String,
}

#[tokio::main]
async fn main() -> Result<(), pipeline::BoxError> {
    let args = Args::parse();
    // An exclusive in-memory SQLite store: its change feed is in-process.
    let mut store = SqliteConfig::new("sqlite::memory:");
    store.exclusive = true;
    let service = ProfileService::builder(Arc::new(SqliteStore::open_with(store).await?))
        .sealer(Keyring::ephemeral())
        .connector(KafkaConnector)
        .connector(PostgresConnector)
        .build()?;
    for (name, connector, config) in [
        (
            "events",
            "kafka",
            json!({ "bootstrap_servers": args.brokers }),
        ),
        (
            "warehouse",
            "postgres",
            json!({
                "host": args.pg_host, "port": args.pg_port, "username": args.pg_user,
                "password": args.pg_password, "database": args.pg_database, "tls_mode": "prefer",
            }),
        ),
    ] {
        service
            .create(NewProfile {
                name: name.into(),
                connector: connector.into(),
                description: None,
                config,
                labels: Default::default(),
            })
            .await?;
    }
    if args.produce {
        produce(&service, "events", &args.topic, args.messages).await?;
    }
    let options = pipeline::Options {
        kafka_profile: "events".into(),
        postgres_profile: "warehouse".into(),
        topic: args.topic,
        table: args.table,
        messages: args.messages,
    };
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let printer = tokio::spawn(async move {
        while let Some(p) = rx.recv().await {
            println!("{p:?}");
        }
    });
    let report = pipeline::run(&service, &options, Some(tx)).await?;
    printer.await?;
    println!(
        "stored {} messages in {} ({} already there); Postgres profile versions used: {:?}, Kafka: {:?}",
        report.stored, options.table, report.duplicates, report.postgres_versions, report.kafka_versions
    );
    Ok(())
}

/// `count` messages to `topic`, with a producer from the profile `name`.
async fn produce(
    service: &ProfileService,
    name: &str,
    topic: &str,
    count: usize,
) -> Result<(), pipeline::BoxError> {
    let resolved = service
        .resolve(ResolveRequest::new(name, "pipeline: produce demo messages"))
        .await?;
    let config: KafkaConfig = resolved.config()?;
    let producer: BaseProducer = client_config(&config)?.create()?;
    let topic = topic.to_owned();
    tokio::task::spawn_blocking(move || -> Result<(), pipeline::BoxError> {
        for i in 0..count {
            let payload = format!("reading {i}");
            producer
                .send(BaseRecord::<(), _>::to(&topic).payload(&payload))
                .map_err(|(e, _)| e)?;
        }
        producer.flush(Duration::from_secs(10))?;
        Ok(())
    })
    .await?
}
