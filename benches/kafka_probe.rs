//! The Kafka connector's test against the local tansu broker, beside a bare
//! rdkafka metadata fetch doing the same work (new client, all-topics
//! metadata, destroy), in the same run; plus a refused port.
//!
//! Needs `scripts/services/kafka.sh start`. Run:
//! `cargo bench --bench kafka_probe`

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use patchbay_connector_kafka::rdkafka::producer::{BaseProducer, Producer};
use patchbay_connector_kafka::rdkafka::ClientConfig;
use patchbay_connector_kafka::KafkaConnector;
use patchbay_core::{Connector, ResolvedConfig};
use serde_json::json;
use tokio::time::Instant;

fn broker() -> String {
    if let Ok(addr) = std::env::var("PATCHBAY_TEST_KAFKA") {
        return addr;
    }
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/target/kafka-broker.env");
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("PATCHBAY_TEST_KAFKA="))
        .map_or_else(|| "127.0.0.1:19092".to_owned(), str::to_owned)
}

fn bare_fetch(broker: &str) -> usize {
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", broker)
        .set("client.id", "patchbay-bench")
        .create()
        .expect("client");
    let md = producer
        .client()
        .fetch_metadata(None, Duration::from_secs(5))
        .expect("metadata");
    md.brokers().len()
}

fn kafka_probe(c: &mut Criterion) {
    let broker = broker();
    if std::net::TcpStream::connect(&broker).is_err() {
        eprintln!("SKIPPED: no Kafka broker at {broker}; run scripts/services/kafka.sh start");
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let config = json!({ "bootstrap_servers": broker });
    let mut group = c.benchmark_group("kafka_probe");
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .sample_size(30);
    group.bench_function("connector_test", |b| {
        b.to_async(&rt).iter(|| async {
            let cfg = ResolvedConfig::new(config.clone());
            KafkaConnector
                .test(&cfg, Instant::now() + Duration::from_secs(5))
                .await
                .expect("test")
        });
    });
    group.bench_function("bare_rdkafka_fetch_metadata", |b| {
        b.iter(|| bare_fetch(&broker));
    });
    let refused = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        format!("127.0.0.1:{}", l.local_addr().expect("addr").port())
    };
    let refused_config = json!({ "bootstrap_servers": refused });
    group.sample_size(10);
    group.bench_function("connector_test_refused_port", |b| {
        b.to_async(&rt).iter(|| async {
            let cfg = ResolvedConfig::new(refused_config.clone());
            KafkaConnector
                .test(&cfg, Instant::now() + Duration::from_secs(10))
                .await
                .expect_err("refused")
        });
    });
    group.finish();
    interleaved(&rt, &broker, &config);
}

/// librdkafka sometimes waits ~50 ms before connecting to the broker that
/// replaces the bootstrap one, on either side, so criterion's sequential
/// means swing with that mix; 200 alternating pairs compare like with like.
fn interleaved(rt: &tokio::runtime::Runtime, broker: &str, config: &serde_json::Value) {
    let (mut ours, mut bare) = (Vec::new(), Vec::new());
    for _ in 0..200 {
        let t = std::time::Instant::now();
        rt.block_on(KafkaConnector.test(
            &ResolvedConfig::new(config.clone()),
            Instant::now() + Duration::from_secs(5),
        ))
        .expect("test");
        ours.push(t.elapsed().as_secs_f64() * 1e3);
        let t = std::time::Instant::now();
        bare_fetch(broker);
        bare.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let stats = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        (v[v.len() / 2], v.iter().sum::<f64>() / v.len() as f64)
    };
    let ((om, oa), (bm, ba)) = (stats(&mut ours), stats(&mut bare));
    println!(
        "kafka_probe/interleaved x200: connector median {om:.2} ms mean {oa:.2} ms; \
         bare median {bm:.2} ms mean {ba:.2} ms; ratio of means {:.2}",
        oa / ba
    );
}

criterion_group!(benches, kafka_probe);
criterion_main!(benches);
