//! Happy path and autocomplete against the real tansu broker started by
//! `scripts/services/kafka.sh`.

mod common;

use std::sync::Arc;
use std::time::Duration;

use patchbay_connector_kafka::KafkaConnector;
use patchbay_core::{AutocompleteQuery, Connector, NewProfile, ProfileService, ResolvedConfig};
use patchbay_store_memory::MemoryStore;
use serde_json::json;
use tokio::time::Instant;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_reports_latency_brokers_and_no_invented_version() {
    let Some(broker) = common::plain_broker() else {
        return;
    };
    let start = Instant::now();
    let report = common::probe(
        json!({ "bootstrap_servers": broker }),
        Duration::from_secs(10),
    )
    .await
    .expect("the plain broker answers");
    let took = start.elapsed();
    assert!(report.success);
    assert!(
        report.details.latency_ms <= took.as_millis() as u64,
        "{report:?} took {took:?}"
    );
    assert_eq!(report.details.extra["brokers"], json!(1), "{report:?}");
    assert_eq!(
        report.details.extra["cluster_id"],
        json!("patchbay-plain"),
        "{report:?}"
    );
    // The Kafka protocol carries no version string: none may be made up.
    assert_eq!(report.details.version, None);
    let out = serde_json::to_value(&report).expect("json");
    assert!(out["details"].get("version").is_none(), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_through_the_service_with_a_hostname() {
    let Some(broker) = common::plain_broker() else {
        return;
    };
    // `localhost` may resolve to ::1 first, where nothing listens: that
    // refusal must not end the probe while 127.0.0.1 still answers.
    let port = broker.rsplit(':').next().expect("port");
    let svc = ProfileService::builder(Arc::new(MemoryStore::new()))
        .connector(KafkaConnector)
        .build()
        .expect("service");
    let new = NewProfile {
        name: common::unique("kafka-local"),
        connector: "kafka".into(),
        description: None,
        config: json!({ "bootstrap_servers": format!("localhost:{port}"), "properties": { "client.id": "patchbay-test" } }),
        labels: Default::default(),
    };
    let report = svc
        .test_config(&new, Some(Duration::from_secs(10)))
        .await
        .expect("test_config");
    assert_eq!(report.message, "Connection successful");
    let profile = svc.create(new).await.expect("create");
    let report = svc
        .test_profile(&profile.id, None)
        .await
        .expect("test_profile");
    assert_eq!(report.details.extra["brokers"], json!(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn autocomplete_lists_topics_sorted_filtered_and_bounded() {
    let Some(broker) = common::plain_broker() else {
        return;
    };
    let base = common::unique("ac");
    let names = [
        format!("{base}-orders"),
        format!("{base}-billing"),
        format!("{base}-audit"),
    ];
    for (i, name) in names.iter().enumerate() {
        common::create_topic(&broker, name, i as u32 + 1);
    }
    let internal = format!("__{base}-internal");
    common::create_topic(&broker, &internal, 1);
    let config = ResolvedConfig::new(json!({ "bootstrap_servers": broker }));
    let deadline = || Instant::now() + Duration::from_secs(10);

    let mut query = AutocompleteQuery::new("topics");
    query.prefix = Some(format!("{base}-"));
    let got = KafkaConnector
        .autocomplete(&config, &query, deadline())
        .await
        .expect("autocomplete");
    let values: Vec<&str> = got.iter().map(|s| s.value.as_str()).collect();
    let mut expected: Vec<&str> = names.iter().map(String::as_str).collect();
    expected.sort_unstable();
    assert_eq!(values, expected);
    let billing = &got[1];
    assert_eq!(
        (billing.kind.as_str(), billing.label.as_str()),
        ("topic", names[1].as_str())
    );
    assert_eq!(billing.metadata["partitions"], json!(2), "{billing:?}");
    assert_eq!(
        billing.metadata["replication_factor"],
        json!(1),
        "{billing:?}"
    );

    query.limit = 2;
    let got = KafkaConnector
        .autocomplete(&config, &query, deadline())
        .await
        .expect("limited");
    assert_eq!(
        got.iter().map(|s| s.value.as_str()).collect::<Vec<_>>(),
        expected[..2]
    );

    // Internal topics stay hidden, even when asked for by prefix.
    query.prefix = Some("__".into());
    query.limit = 1000;
    let got = KafkaConnector
        .autocomplete(&config, &query, deadline())
        .await
        .expect("internal");
    assert!(got.is_empty(), "{got:?}");
    let all = KafkaConnector
        .autocomplete(&config, &AutocompleteQuery::new("topics"), deadline())
        .await
        .expect("all");
    assert!(all.iter().all(|s| !s.value.starts_with("__")));
    assert!(
        all.windows(2).all(|w| w[0].value < w[1].value),
        "not sorted"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_bad_bootstrap_entry_does_not_fail_the_probe() {
    let Some(broker) = common::plain_broker() else {
        return;
    };
    // An unresolvable host (rejected locally) and a refused port beside the
    // live broker: the probe waits for the live one instead of failing.
    let unresolvable = format!("{}.invalid:9092", "n".repeat(70));
    let refused = format!("127.0.0.1:{}", patchbay_testkit::net::refused_port());
    let report = common::probe(
        json!({ "bootstrap_servers": format!("{unresolvable},{refused},{broker}") }),
        Duration::from_secs(10),
    )
    .await
    .expect("the live broker answers");
    assert_eq!(report.details.extra["brokers"], json!(1));
}
