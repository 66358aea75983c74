//! A broker that advertises an address the network policy forbids is never
//! connected to: not by a guarded client, not by the probe. A stock client
//! built from the same config does connect there, which shows the counting
//! listener would see it.

mod common;

use std::sync::Arc;
use std::time::Duration;

use patchbay_connector_kafka::rdkafka::producer::{BaseProducer, Producer};
use patchbay_connector_kafka::{
    client_config, create_client, serve_events, BrokerGuard, GuardedContext, KafkaConfig,
    PolicyContext,
};
use patchbay_core::{Error, NetworkPolicy};
use serde_json::json;

fn kafka_config(bootstrap: &str) -> KafkaConfig {
    serde_json::from_value(json!({ "bootstrap_servers": bootstrap })).expect("config")
}

/// A request for the partition leader of `topic`, partition 0.
fn partition_leader_request<C: patchbay_connector_kafka::rdkafka::ClientContext>(
    client: &patchbay_connector_kafka::rdkafka::client::Client<C>,
    topic: &str,
) -> Result<(i64, i64), String> {
    // Watermarks go to the partition's leader: the advertised broker.
    client
        .fetch_watermarks(topic, 0, Duration::from_millis(500))
        .map_err(|e| e.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guarded_client_never_contacts_a_forbidden_advertised_broker() {
    let Some(broker) = common::AdvertisingBroker::start("127.0.0.2").await else {
        return;
    };
    let topic = common::unique("advertised");
    common::create_topic(&broker.bootstrap, &topic, 1);
    let typed = kafka_config(&broker.bootstrap);
    let config = client_config(&typed).expect("client config");
    let policy = Arc::new(NetworkPolicy::default().allow("127.0.0.1/32".parse().unwrap()));

    let (metadata_brokers, refusals) = tokio::task::spawn_blocking({
        let config = config.clone();
        let topic = topic.clone();
        move || {
            let context = PolicyContext::new(BrokerGuard::new(policy), &typed);
            let client = create_client(&config, context).expect("guarded client");
            let guard = || client.context().guard().refusals();
            // Once librdkafka learns the advertised broker it tries it (for
            // the partition leader, and for metadata in place of the
            // bootstrap connection): ask until the guard has refused it.
            let mut brokers = None;
            for _ in 0..20 {
                if let Ok(md) = client.fetch_metadata(None, Duration::from_millis(500)) {
                    brokers = Some(
                        md.brokers()
                            .iter()
                            .map(|b| format!("{}:{}", b.host(), b.port()))
                            .collect::<Vec<_>>(),
                    );
                }
                let leader = partition_leader_request(&client, &topic);
                assert!(leader.is_err(), "the leader was reached: {leader:?}");
                serve_events(&client);
                if !guard().is_empty() {
                    break;
                }
            }
            let refusals = guard();
            // Destroying the client joins its threads: nothing connects later.
            drop(client);
            (brokers, refusals)
        }
    })
    .await
    .expect("guarded client task");

    let advertised = broker.advertised.to_string();
    // When the bootstrap broker answered, it advertised 127.0.0.2.
    if let Some(brokers) = metadata_brokers {
        assert_eq!(brokers, std::slice::from_ref(&advertised));
    }
    assert!(
        refusals.contains(&(advertised.clone(), "127.0.0.2".to_owned())),
        "{refusals:?}"
    );
    assert_eq!(broker.accepted(), 0, "the forbidden address was contacted");

    // The control: a stock client from the same config follows the
    // advertisement, and the listener counts it.
    let accepted = broker.accepted.clone();
    let reached = tokio::task::spawn_blocking(move || {
        let producer: BaseProducer = config.create().expect("stock client");
        // Until the listener has counted a connection (bounded).
        for _ in 0..20 {
            let _ = partition_leader_request(producer.client(), &topic);
            if accepted.load(std::sync::atomic::Ordering::SeqCst) > 0 {
                break;
            }
        }
        drop(producer);
    });
    reached.await.expect("stock client task");
    assert!(
        broker.accepted() > 0,
        "a stock client did not connect to the advertised address either: the test proves nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_probe_fails_target_forbidden_on_a_forbidden_advertised_broker() {
    // The default policy denies 0.0.0.0, which Linux connects to as a local
    // address: the counting listener on 0.0.0.0 would see such a connection.
    let Some(broker) = common::AdvertisingBroker::start("0.0.0.0").await else {
        return;
    };
    let result = common::probe(
        json!({ "bootstrap_servers": broker.bootstrap }),
        Duration::from_secs(10),
    )
    .await;
    match result {
        Err(Error::TargetForbidden { target, address }) => {
            assert_eq!(target, broker.advertised.to_string());
            assert_eq!(address, "0.0.0.0");
        }
        other => panic!("expected TARGET_FORBIDDEN, got {other:?}"),
    }
    // The probe destroyed its client before returning.
    assert_eq!(broker.accepted(), 0, "the forbidden address was contacted");
}
