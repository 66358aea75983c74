//! What the fuzz targets share: one service over the memory store with every
//! connector, on a current-thread runtime, built once per process.

use std::sync::{Arc, OnceLock};

use patchbay::connectors::{kafka, mqtt, mysql, nats, postgres, rabbitmq, redis};
use patchbay::memory::MemoryStore;
use patchbay::{Connector, Error, ProfileService};

/// Codes an input may legitimately produce; anything else is a finding.
pub const INPUT_ERRORS: &[&str] = &[
    "VALIDATION_FAILED",
    "UNKNOWN_CONNECTOR",
    "ALREADY_EXISTS",
    "VERSION_CONFLICT",
    "NOT_FOUND",
];

/// Every connector the facade ships.
pub fn connectors() -> Vec<Arc<dyn Connector>> {
    vec![
        Arc::new(kafka::KafkaConnector),
        Arc::new(postgres::PostgresConnector),
        Arc::new(mysql::MySqlConnector),
        Arc::new(redis::RedisConnector),
        Arc::new(nats::NatsConnector),
        Arc::new(mqtt::MqttConnector),
        Arc::new(rabbitmq::RabbitMqConnector),
    ]
}

/// The shared runtime and service.
pub fn service() -> &'static (tokio::runtime::Runtime, ProfileService) {
    static CELL: OnceLock<(tokio::runtime::Runtime, ProfileService)> = OnceLock::new();
    CELL.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let mut builder = ProfileService::builder(Arc::new(MemoryStore::new()));
        for c in connectors() {
            builder = builder.connector_arc(c);
        }
        (rt, builder.build().expect("service"))
    })
}

/// Panics unless `e` is an error an input may cause.
pub fn assert_input_error(e: &Error) {
    assert!(
        INPUT_ERRORS.contains(&e.code()),
        "unexpected error for an input: {} ({e})",
        e.code()
    );
}
