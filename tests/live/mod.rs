//! Setup shared by the use-path tests against the local services: a
//! service over SQLite with every connector, where the services are, and
//! unique names.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use patchbay::testkit::net::require;
use patchbay::{Keyring, NewProfile, Profile, ProfileService};
use patchbay_store_sqlite::{SqliteConfig, SqliteStore};
use serde_json::Value;

pub const POSTGRES_ADMIN: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const KAFKA_HOW: &str = "scripts/services/kafka.sh start (tansu from .ci/install/tansu.sh)";

/// A service over an exclusive in-memory SQLite store (so it has a change
/// feed), with every connector registered.
pub async fn service() -> ProfileService {
    let mut config = SqliteConfig::new("sqlite::memory:");
    config.exclusive = true;
    let store = SqliteStore::open_with(config).await.expect("sqlite store");
    ProfileService::builder(Arc::new(store))
        .sealer(Keyring::ephemeral())
        .connector(patchbay_connector_kafka::KafkaConnector)
        .connector(patchbay_connector_postgres::PostgresConnector)
        .connector(patchbay_connector_mysql::MySqlConnector)
        .connector(patchbay_connector_redis::RedisConnector)
        .connector(patchbay_connector_nats::NatsConnector)
        .connector(patchbay_connector_mqtt::MqttConnector)
        .connector(patchbay_connector_rabbitmq::RabbitMqConnector)
        .build()
        .expect("service")
}

/// Stores a profile (its secrets sealed, as any host's).
pub async fn store(
    service: &ProfileService,
    name: &str,
    connector: &str,
    config: Value,
) -> Profile {
    service
        .create(NewProfile {
            name: name.to_owned(),
            connector: connector.to_owned(),
            description: None,
            config,
            labels: Default::default(),
        })
        .await
        .unwrap_or_else(|e| panic!("create {name}: {e}"))
}

/// A name no other test (or run) uses: lower case, digits and `_`.
pub fn unique(stem: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_nanos();
    format!("{stem}_{}_{:x}", std::process::id(), nanos % (1 << 40))
}

/// `target/kafka-broker.env`, written by `scripts/services/kafka.sh start`.
fn kafka_env() -> HashMap<String, String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/kafka-broker.env");
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

fn kafka_setting(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .or_else(|| kafka_env().get(name).cloned())
        .unwrap_or_else(|| default.to_owned())
}

/// The open tansu broker's address and the tansu binary (to create
/// topics), or `None` (test skipped) outside CI when either is missing.
pub fn kafka() -> Option<(String, PathBuf)> {
    let addr = kafka_setting("PATCHBAY_TEST_KAFKA", "127.0.0.1:19092");
    let reachable = addr
        .parse()
        .map_err(|e| format!("{addr}: {e}"))
        .and_then(|a| {
            std::net::TcpStream::connect_timeout(&a, Duration::from_secs(1))
                .map_err(|e| format!("{addr}: {e}"))
        });
    let addr = require("kafka (tansu)", KAFKA_HOW, reachable.map(|_| addr))?;
    let tansu = PathBuf::from(kafka_setting(
        "PATCHBAY_TANSU",
        "/opt/patchbay-tools/bin/tansu",
    ));
    let found = if tansu.is_file() {
        Ok(tansu)
    } else {
        Err(format!("{} missing", tansu.display()))
    };
    Some((addr, require("tansu binary", KAFKA_HOW, found)?))
}

/// Creates `topic` with tansu's own CLI.
pub fn create_topic(tansu: &PathBuf, broker: &str, topic: &str) {
    let out = Command::new(tansu)
        .args([
            "topic",
            "create",
            "--broker",
            &format!("tcp://{broker}"),
            topic,
        ])
        .args(["--partitions", "1"])
        .output()
        .expect("run tansu topic create");
    assert!(
        out.status.success(),
        "tansu topic create {topic}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A Postgres admin pool on `database`, or `None` (test skipped) outside CI
/// when Postgres is not running.
pub async fn postgres(database: &str) -> Option<sqlx::PgPool> {
    let url = format!("postgres://postgres@127.0.0.1:5432/{database}");
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(Duration::from_secs(10))
        .connect(&url)
        .await;
    require(
        "PostgreSQL on 127.0.0.1:5432",
        "systemctl start postgresql (user postgres, trust)",
        pool,
    )
}
