//! The native client a host builds from a profile: a producer and a
//! consumer from `client_config` do real work on the tansu broker, and a
//! config change reaches the probe and the host's client alike.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use patchbay_connector_kafka::rdkafka::consumer::{BaseConsumer, Consumer};
use patchbay_connector_kafka::rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use patchbay_connector_kafka::rdkafka::{Message, Offset, TopicPartitionList};
use patchbay_connector_kafka::{client_config, KafkaConfig, KafkaConnector};
use patchbay_core::{NewProfile, ProfileService, ResolveRequest};
use patchbay_store_memory::MemoryStore;
use serde_json::{json, Value};

fn typed(config: Value) -> KafkaConfig {
    serde_json::from_value(config).expect("a valid kafka config")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn produce_and_consume_with_clients_built_from_a_stored_profile() {
    let Some(broker) = common::plain_broker() else {
        return;
    };
    let service = ProfileService::builder(Arc::new(MemoryStore::new()))
        .connector(KafkaConnector)
        .build()
        .expect("service");
    let name = common::unique("kafka-use");
    service
        .create(NewProfile {
            name: name.clone(),
            connector: "kafka".into(),
            description: None,
            config: json!({ "bootstrap_servers": broker, "properties": { "client.id": "patchbay-host" } }),
            labels: Default::default(),
        })
        .await
        .expect("create");
    // By name only, as a host does.
    let resolved = service
        .resolve(ResolveRequest::new(name.as_str(), "kafka client test"))
        .await
        .expect("resolve");
    let config: KafkaConfig = resolved.config().expect("a kafka config");
    let topic = common::unique("use-path");
    common::create_topic(&broker, &topic, 1);

    let sent: Vec<String> = (0..5).map(|i| format!("message {i}")).collect();
    let got = tokio::task::spawn_blocking(move || {
        let base = client_config(&config).expect("client config");
        assert_eq!(base.get("client.id"), Some("patchbay-host"));
        let producer: BaseProducer = base.create().expect("producer");
        for (i, text) in sent.iter().enumerate() {
            let key = i.to_string();
            producer
                .send(BaseRecord::to(&topic).key(&key).payload(text))
                .expect("enqueue");
        }
        producer.flush(Duration::from_secs(10)).expect("delivered");
        drop(producer);

        let consumer: BaseConsumer = base
            .clone()
            .set("group.id", common::unique("use-path-group"))
            .set("enable.auto.commit", "false")
            .create()
            .expect("consumer");
        let mut partitions = TopicPartitionList::new();
        partitions
            .add_partition_offset(&topic, 0, Offset::Beginning)
            .expect("partition");
        consumer.assign(&partitions).expect("assign");
        let mut got = Vec::new();
        let until = Instant::now() + Duration::from_secs(20);
        while got.len() < sent.len() && Instant::now() < until {
            if let Some(message) = consumer.poll(Duration::from_millis(500)) {
                let message = message.expect("fetch");
                got.push(
                    String::from_utf8_lossy(message.payload().unwrap_or_default()).into_owned(),
                );
            }
        }
        (sent, got)
    })
    .await
    .expect("client task");
    assert_eq!(got.1, got.0, "consumed what was produced, in order");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_config_change_reaches_the_probe_and_the_host_client_alike() {
    let Some(broker) = common::plain_broker() else {
        return;
    };
    let plain = json!({ "bootstrap_servers": broker });
    let tls = json!({ "bootstrap_servers": broker, "security_protocol": "SSL" });

    // The builder: the protocol follows the field.
    let host_plain = client_config(&typed(plain.clone())).expect("plain");
    let host_tls = client_config(&typed(tls.clone())).expect("tls");
    assert_eq!(host_plain.get("security.protocol"), Some("plaintext"));
    assert_eq!(host_tls.get("security.protocol"), Some("ssl"));

    // The probe: the same change turns success into a failure (a TLS
    // hello to a plaintext listener gets no answer)...
    common::probe(plain, Duration::from_secs(10))
        .await
        .expect("plaintext probe");
    common::failure(common::probe(tls, Duration::from_secs(3)).await);

    // ...and the host's client fails the same way.
    let (ok, failed) = tokio::task::spawn_blocking(move || {
        let fetch = |cfg: &patchbay_connector_kafka::rdkafka::ClientConfig| {
            let producer: BaseProducer = cfg.create().expect("client");
            let result = producer
                .client()
                .fetch_metadata(None, Duration::from_secs(3))
                .map(|md| md.brokers().len());
            drop(producer);
            result
        };
        (fetch(&host_plain), fetch(&host_tls))
    })
    .await
    .expect("client task");
    assert_eq!(ok.expect("plaintext client"), 1);
    assert!(failed.is_err(), "{failed:?}");
}

#[test]
fn file_loading_properties_never_reach_the_builder() {
    // A KafkaConfig is a plain struct: a host could fill one in by hand.
    let mut config = typed(json!({ "bootstrap_servers": "127.0.0.1:9092" }));
    for name in [
        "ssl.key.location",
        "ssl.ca.location",
        "sasl.kerberos.keytab",
        "plugin.library.paths",
    ] {
        config.properties.clear();
        config.properties.insert(name.into(), "/etc/passwd".into());
        match client_config(&config) {
            Err(patchbay_core::Error::Validation(v)) => {
                assert_eq!(v.0[0].path, format!("/properties/{name}"));
                assert!(
                    v.0[0].message.contains("reads local files or loads code"),
                    "{v:?}"
                );
            }
            other => panic!("{name}: {other:?}"),
        }
    }
}
