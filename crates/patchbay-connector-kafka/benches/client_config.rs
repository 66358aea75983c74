//! The native rdkafka `ClientConfig` from a Kafka profile's typed config
//! (`patchbay_connector_kafka::client_config`: checks, allow-list, build)
//! beside the same `ClientConfig` built from literals, in the same run.
//! No broker needed. Run:
//! `cargo bench -p patchbay-connector-kafka --bench client_config -- --noplot`

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use patchbay_connector_kafka::rdkafka::ClientConfig;
use patchbay_connector_kafka::{client_config, CheckedKafkaConfig, KafkaConfig};
use serde_json::json;

const CA: &str = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

fn profile_config() -> serde_json::Value {
    json!({
        "bootstrap_servers": "kafka-1.internal:9093,kafka-2.internal:9093,kafka-3.internal:9093",
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_username": "billing",
        "sasl_password": "s3cret-password",
        "ssl_ca_pem": CA,
        "properties": { "client.id": "billing", "socket.keepalive.enable": "true" },
    })
}

fn literals() -> ClientConfig {
    let mut cfg = ClientConfig::new();
    cfg.set("client.id", "billing")
        .set("socket.keepalive.enable", "true")
        .set(
            "bootstrap.servers",
            "kafka-1.internal:9093,kafka-2.internal:9093,kafka-3.internal:9093",
        )
        .set("security.protocol", "sasl_ssl")
        .set("sasl.mechanism", "SCRAM-SHA-512")
        .set("sasl.username", "billing")
        .set("sasl.password", "s3cret-password")
        .set("ssl.ca.pem", CA);
    cfg
}

fn kafka_client(c: &mut Criterion) {
    let typed: KafkaConfig = serde_json::from_value(profile_config()).expect("config");
    // Same map on both sides, or the comparison means nothing.
    assert_eq!(
        client_config(&typed).expect("builder").config_map(),
        literals().config_map()
    );
    let json = profile_config();
    let mut group = c.benchmark_group("kafka_client");
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    group.bench_function("literals", |b| b.iter(|| black_box(literals())));
    group.bench_function("from_typed_profile", |b| {
        b.iter(|| client_config(black_box(&typed)).expect("builder"))
    });
    let checked = CheckedKafkaConfig::new(typed.clone()).expect("checked");
    assert_eq!(
        checked.client_config().config_map(),
        literals().config_map()
    );
    group.bench_function("from_checked_profile", |b| {
        b.iter(|| black_box(&checked).client_config())
    });
    group.bench_function("checks_only", |b| b.iter(|| black_box(&typed).problems()));
    group.bench_function("from_json_profile", |b| {
        b.iter(|| {
            let typed: KafkaConfig =
                serde_json::from_value(black_box(&json).clone()).expect("config");
            client_config(&typed).expect("builder")
        })
    });
    group.finish();
    interleaved("typed", || {
        client_config(black_box(&typed)).expect("builder")
    });
    interleaved("checked", || black_box(&checked).client_config());
}

/// Alternating rounds (builder first, then literals first, ...), so load
/// from other processes hits both sides alike.
fn interleaved(name: &str, builder: impl Fn() -> ClientConfig) {
    const N: u32 = 20_000;
    let per_call = |mut f: Box<dyn FnMut() + '_>| {
        let t = std::time::Instant::now();
        for _ in 0..N {
            f();
        }
        t.elapsed().as_nanos() as f64 / f64::from(N)
    };
    let (mut ours, mut bare) = (Vec::new(), Vec::new());
    for round in 0..15 {
        let (o, b) = if round % 2 == 0 {
            let o = per_call(Box::new(|| drop(black_box(builder()))));
            (o, per_call(Box::new(|| drop(black_box(literals())))))
        } else {
            let b = per_call(Box::new(|| drop(black_box(literals()))));
            (per_call(Box::new(|| drop(black_box(builder())))), b)
        };
        ours.push(o);
        bare.push(b);
    }
    let mut ratios: Vec<f64> = ours.iter().zip(&bare).map(|(o, b)| o / b).collect();
    for v in [&mut ours, &mut bare, &mut ratios] {
        v.sort_by(f64::total_cmp);
    }
    println!(
        "PAIRED kafka_client {name} x15 alternating rounds of {N}: builder median {:.0} ns, literals median {:.0} ns, median ratio {:.2}",
        ours[7], bare[7], ratios[7]
    );
}

criterion_group!(benches, kafka_client);
criterion_main!(benches);
