//! "No probe reaches a forbidden address", for every real connector and
//! every host its config can name (Kafka bootstrap lists, Redis seeds, NATS
//! server lists, single hosts): loopback listeners count accepted
//! connections, and a policy that denies any named host (all of them, only
//! the first, only the last) must leave every listener at zero.
//!
//! `127.0.0.2` is a loopback address on Linux: two listeners on different
//! addresses let a policy deny one host of a list and allow the other, so
//! a connector whose `endpoints()` forgets a host is caught (it would run
//! and connect).

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use patchbay::testkit::net::CountingListener;
use patchbay::{Connector, NetworkPolicy, NewProfile, ProfileService};
use serde_json::{json, Value};

fn ip(s: &str) -> IpAddr {
    s.parse().expect("address")
}

fn service(connector: Arc<dyn Connector>, policy: NetworkPolicy) -> ProfileService {
    ProfileService::builder(Arc::new(patchbay::memory::MemoryStore::new()))
        .connector_arc(connector)
        .network_policy(policy)
        .build()
        .expect("service")
}

fn deny(hosts: &[&CountingListener]) -> NetworkPolicy {
    hosts.iter().fold(NetworkPolicy::allow_all(), |p, l| {
        p.deny(format!("{}/32", l.ip()).parse().expect("net"))
    })
}

fn deny_all() -> NetworkPolicy {
    NetworkPolicy::allow_all()
        .deny("0.0.0.0/0".parse().unwrap())
        .deny("::/0".parse().unwrap())
}

/// One connector with a config naming every listener: every policy that
/// denies any of them refuses the probe and no listener sees a connection;
/// with everything allowed, at least one does (the listeners can see).
async fn check(connector: Arc<dyn Connector>, listeners: &[&CountingListener], config: Value) {
    let kind = connector.kind();
    let new = NewProfile {
        name: format!("completeness-{kind}"),
        connector: kind.to_owned(),
        description: None,
        config,
        labels: Default::default(),
    };
    let mut policies = vec![("deny all", deny_all())];
    for (i, l) in listeners.iter().enumerate() {
        policies.push((
            ["deny the first host", "deny the second host"][i.min(1)],
            deny(&[l]),
        ));
    }
    for (what, policy) in policies {
        let svc = service(connector.clone(), policy);
        for attempt in [
            svc.test_config(&new, Some(Duration::from_secs(2))).await,
            // A saved profile goes through the same gate.
            match svc.create(new.clone()).await {
                Ok(p) => svc.test_profile(&p.id, Some(Duration::from_secs(2))).await,
                Err(e) => panic!("{kind}: the config is invalid: {e:?}"),
            },
        ] {
            match attempt {
                Err(e) => assert_eq!(e.code(), "TARGET_FORBIDDEN", "{kind}, {what}: {e:?}"),
                Ok(r) => panic!("{kind}, {what}: probed: {r:?}"),
            }
        }
        for l in listeners {
            assert_eq!(
                l.settle().await,
                0,
                "{kind}, {what}: {} was contacted",
                l.host_port()
            );
        }
    }
    // The same probe, allowed: the listeners do see a connection.
    let svc = service(connector.clone(), NetworkPolicy::allow_all());
    let result = svc.test_config(&new, Some(Duration::from_secs(1))).await;
    assert!(result.is_err(), "{kind}: a silent listener passed a probe");
    let mut seen = 0;
    for l in listeners {
        seen += l.settle().await;
    }
    assert!(
        seen > 0,
        "{kind}: the allowed probe reached no listener: {result:?}"
    );
}

async fn pair() -> (CountingListener, CountingListener) {
    (
        CountingListener::bind(ip("127.0.0.1")).await,
        CountingListener::bind(ip("127.0.0.2")).await,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafka_bootstrap_lists() {
    let (a, b) = pair().await;
    let config = json!({ "bootstrap_servers": format!("{},{}", a.host_port(), b.host_port()) });
    check(
        Arc::new(patchbay_connector_kafka::KafkaConnector),
        &[&a, &b],
        config,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_cluster_seeds_and_standalone_address() {
    let (a, b) = pair().await;
    let config = json!({ "mode": "cluster", "addresses": [a.host_port(), b.host_port()] });
    check(
        Arc::new(patchbay_connector_redis::RedisConnector),
        &[&a, &b],
        config,
    )
    .await;
    let l = CountingListener::bind(ip("127.0.0.2")).await;
    let config = json!({ "mode": "standalone", "addresses": [l.host_port()] });
    check(
        Arc::new(patchbay_connector_redis::RedisConnector),
        &[&l],
        config,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_server_lists() {
    let (a, b) = pair().await;
    let config = json!({ "servers": [a.host_port(), format!("nats://{}", b.host_port())] });
    check(
        Arc::new(patchbay_connector_nats::NatsConnector),
        &[&a, &b],
        config,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mqtt_url() {
    let l = CountingListener::bind(ip("127.0.0.2")).await;
    let config = json!({ "url": format!("mqtt://{}", l.host_port()) });
    check(
        Arc::new(patchbay_connector_mqtt::MqttConnector),
        &[&l],
        config,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rabbitmq_host() {
    let l = CountingListener::bind(ip("127.0.0.2")).await;
    let config = json!({ "host": "127.0.0.2", "port": l.port(), "username": "guest" });
    check(
        Arc::new(patchbay_connector_rabbitmq::RabbitMqConnector),
        &[&l],
        config,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_host() {
    let l = CountingListener::bind(ip("127.0.0.2")).await;
    let config = json!({ "host": "127.0.0.2", "port": l.port(), "username": "u" });
    check(
        Arc::new(patchbay_connector_postgres::PostgresConnector),
        &[&l],
        config,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_host() {
    let l = CountingListener::bind(ip("127.0.0.2")).await;
    let config = json!({ "host": "127.0.0.2", "port": l.port(), "username": "u" });
    check(
        Arc::new(patchbay_connector_mysql::MySqlConnector),
        &[&l],
        config,
    )
    .await;
}
