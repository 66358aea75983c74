#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub use patchbay_core::*;

/// The in-memory store (feature `memory`, on by default).
#[cfg(feature = "memory")]
pub use patchbay_store_memory as memory;

/// The SQLite store, the embedded default (feature `sqlite`).
#[cfg(feature = "sqlite")]
pub use patchbay_store_sqlite as sqlite;

/// The Postgres store, for replicated services (feature `postgres-store`).
#[cfg(feature = "postgres-store")]
pub use patchbay_store_postgres as postgres_store;

/// The axum REST adapter (feature `http`).
#[cfg(feature = "http")]
pub use patchbay_http as http;

/// Profiles as code: provisioning files, environment profiles, export and
/// import (feature `provision`).
#[cfg(feature = "provision")]
pub use patchbay_provision as provision;

/// Conformance suites for stores and connectors (feature `testkit`).
#[cfg(feature = "testkit")]
pub use patchbay_testkit as testkit;

/// Connectors, one feature each (`connectors` enables all).
pub mod connectors {
    /// Kafka, on rdkafka (feature `kafka`).
    #[cfg(feature = "kafka")]
    pub use patchbay_connector_kafka as kafka;
    /// MQTT, on rumqttc (feature `mqtt`).
    #[cfg(feature = "mqtt")]
    pub use patchbay_connector_mqtt as mqtt;
    /// MySQL and MariaDB, on sqlx (feature `mysql`).
    #[cfg(feature = "mysql")]
    pub use patchbay_connector_mysql as mysql;
    /// NATS and JetStream, on async-nats (feature `nats`).
    #[cfg(feature = "nats")]
    pub use patchbay_connector_nats as nats;
    /// PostgreSQL, on sqlx (feature `postgres`).
    #[cfg(feature = "postgres")]
    pub use patchbay_connector_postgres as postgres;
    /// RabbitMQ (AMQP 0-9-1), on amqprs (feature `rabbitmq`).
    #[cfg(feature = "rabbitmq")]
    pub use patchbay_connector_rabbitmq as rabbitmq;
    /// Redis, on redis-rs (feature `redis`).
    #[cfg(feature = "redis")]
    pub use patchbay_connector_redis as redis;
}
