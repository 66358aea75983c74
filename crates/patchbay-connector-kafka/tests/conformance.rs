//! The testkit's connector conformance suite, and config validation through
//! the service (the seed's example request, refused properties).

mod common;

use std::sync::Arc;

use patchbay_connector_kafka::KafkaConnector;
use patchbay_core::{Connector, Error, NewProfile, ProfileService};
use patchbay_store_memory::MemoryStore;
use patchbay_testkit::fixture::{Fixture, Live};
use patchbay_testkit::net::refused_port;
use serde_json::{json, Value};

fn service() -> ProfileService {
    ProfileService::builder(Arc::new(MemoryStore::new()))
        .connector(KafkaConnector)
        .build()
        .expect("service")
}

fn new_profile(config: Value) -> NewProfile {
    NewProfile {
        name: common::unique("kafka"),
        connector: "kafka".into(),
        description: None,
        config,
        labels: Default::default(),
    }
}

/// The field paths of a validation error.
fn invalid_paths(result: Result<impl std::fmt::Debug, Error>) -> Vec<String> {
    match result {
        Err(Error::Validation(v)) => v.0.into_iter().map(|e| e.path).collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

struct Kafka;

#[patchbay_testkit::async_trait]
impl Fixture for Kafka {
    fn connector(&self) -> Arc<dyn Connector> {
        Arc::new(KafkaConnector)
    }
    fn secret_fields(&self) -> &'static [&'static str] {
        &["sasl_password"]
    }
    fn config_at(&self, host: &str, port: u16) -> Value {
        json!({ "bootstrap_servers": format!("{host}:{port}") })
    }
    // Probes the SASL broker when it runs (a must under CI), a refused port
    // otherwise: both paths must keep the password out of every output.
    async fn live(&self) -> Option<Live> {
        let target =
            common::sasl_broker().unwrap_or_else(|| format!("127.0.0.1:{}", refused_port()));
        Some(Live::new(vec![json!({
            "bootstrap_servers": target,
            "security_protocol": "SASL_PLAINTEXT",
            "sasl_mechanism": "SCRAM-SHA-256",
            "sasl_username": "patchbay-nobody",
        })]))
    }
}

patchbay_testkit::connector_suite!(Kafka);

#[tokio::test]
async fn the_seed_example_validates() {
    let seed = json!({
        "name": "production-kafka",
        "connector": "kafka",
        "description": "Production Kafka cluster",
        "config": {
            "bootstrap_servers": "kafka1.example.com:9092,kafka2.example.com:9092",
            "security_protocol": "SASL_SSL",
            "sasl_mechanism": "PLAIN",
            "sasl_username": "user",
            "sasl_password": "secret"
        }
    });
    let new: NewProfile = serde_json::from_value(seed).expect("seed request");
    let profile = service()
        .create(new)
        .await
        .expect("the seed example is valid");
    // The secret is split off and sealed; the public config matches the seed.
    assert_eq!(
        serde_json::to_value(&profile).expect("json")["config"],
        json!({
            "bootstrap_servers": "kafka1.example.com:9092,kafka2.example.com:9092",
            "security_protocol": "SASL_SSL",
            "sasl_mechanism": "PLAIN",
            "sasl_username": "user"
        })
    );
    assert!(profile.secrets.0.contains_key("sasl_password"));
}

#[tokio::test]
async fn bad_configs_list_every_problem() {
    let svc = service();
    let paths = invalid_paths(
        svc.create(new_profile(json!({
            "bootstrap_servers": "good:9092,no-port,bad:0",
            "security_protocol": "SASL_SSL",
            "sasl_mechanism": "GSSAPI",
        })))
        .await,
    );
    assert!(
        paths.iter().any(|p| p == "/config/sasl_mechanism"),
        "{paths:?}"
    );
    let paths = invalid_paths(
        svc.create(new_profile(json!({
            "bootstrap_servers": "good:9092,no-port",
            "security_protocol": "SASL_PLAINTEXT",
            "ssl_ca_pem": "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----",
        })))
        .await,
    );
    for p in [
        "/config/bootstrap_servers",
        "/config/sasl_mechanism",
        "/config/sasl_username",
        "/config/sasl_password",
        "/config/ssl_ca_pem",
    ] {
        assert!(paths.iter().any(|x| x == p), "missing {p} in {paths:?}");
    }
    assert_eq!(
        invalid_paths(
            svc.create(new_profile(
                json!({ "bootstrap_servers": "k:9092", "extra": 1 })
            ))
            .await
        ),
        ["/config/extra"]
    );
}

#[tokio::test]
async fn file_reading_properties_are_refused() {
    let svc = service();
    for name in [
        "ssl.key.location",
        "plugin.library.paths",
        "sasl.kerberos.kinit.cmd",
        "ssl.ca.location",
    ] {
        let result = svc
            .create(new_profile(json!({
                "bootstrap_servers": "k:9092",
                "properties": { name: "/etc/shadow" },
            })))
            .await;
        match result {
            Err(Error::Validation(v)) => {
                // The schema's list of property names refuses it too; the
                // connector's own check says why, at the property's path.
                let path = format!("/config/properties/{name}");
                assert!(
                    v.0.iter()
                        .any(|e| e.path == path
                            && e.message.contains("reads local files or loads code")),
                    "{v}"
                );
            }
            other => panic!("{name} was accepted: {other:?}"),
        }
    }
    let ok = svc
        .create(new_profile(json!({
            "bootstrap_servers": "k:9092",
            "properties": { "client.id": "billing", "socket.keepalive.enable": "true" },
        })))
        .await;
    assert!(ok.is_ok(), "{ok:?}");
}
