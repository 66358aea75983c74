//! The Kafka connector already connects to the addresses the service
//! checked: librdkafka's resolve callback answers from them (`src/hooks.rs`),
//! so a bootstrap name that cannot resolve, carrying the local broker's
//! address as its checked one, connects — in the probe and in a host's
//! client from `create_client`.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use patchbay_connector_kafka::{
    client_config, create_client, BrokerGuard, KafkaConfig, KafkaConnector, PolicyContext,
};
use patchbay_core::{Connector, Endpoint, FailureReason, NetworkPolicy, ResolvedConfig};
use patchbay_testkit::net::UNRESOLVABLE_HOST;
use serde_json::json;
use tokio::time::Instant;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probe_and_client_connect_to_the_checked_address() {
    let Some(broker) = common::plain_broker() else {
        return;
    };
    let addr: SocketAddr = broker.parse().expect("ip:port");
    let cfg = json!({ "bootstrap_servers": format!("{UNRESOLVABLE_HOST}:{}", addr.port()) });
    let ep = Endpoint::new(UNRESOLVABLE_HOST, addr.port());

    // The name alone does not resolve.
    common::assert_reason(
        common::probe(cfg.clone(), Duration::from_secs(10)).await,
        FailureReason::Dns,
    );

    // With its checked address, the probe reaches the broker.
    let resolved = ResolvedConfig::new(cfg.clone()).with_checked_addrs(ep.clone(), vec![addr]);
    let report = KafkaConnector
        .test(&resolved, Instant::now() + Duration::from_secs(10))
        .await
        .expect("the broker answers at its checked address");
    assert_eq!(report.details.extra["brokers"], json!(1), "{report:?}");

    // So does a host's client with a guard holding the same addresses.
    let config: KafkaConfig = serde_json::from_value(cfg).unwrap();
    let guard =
        BrokerGuard::new(Arc::new(NetworkPolicy::default())).with_checked_addrs(ep, vec![addr]);
    let client = create_client(
        &client_config(&config).unwrap(),
        PolicyContext::new(guard, &config),
    )
    .unwrap();
    let brokers = tokio::task::spawn_blocking(move || {
        client
            .fetch_metadata(None, Duration::from_secs(10))
            .map(|m| m.brokers().len())
    })
    .await
    .unwrap()
    .expect("metadata through the checked address");
    assert_eq!(brokers, 1);
}
