//! The Redis, RabbitMQ, NATS and MQTT connectors' tests against the local
//! servers, each beside its bare client doing the same connect-and-ask in
//! the same run:
//!
//! * redis: connect, `INFO server`, drop;
//! * rabbitmq: AMQP handshake as guest, read the server properties, close;
//! * nats: connect, PING/PONG, read INFO, drain;
//! * mqtt: CONNECT, SUBSCRIBE `$SYS/broker/version`, UNSUBSCRIBE (the
//!   retained version comes between), DISCONNECT.
//!
//! A server that is not running is skipped. Run:
//! `cargo bench --bench broker_probes -- --noplot`

use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion};
use patchbay_connector_mqtt::rumqttc::{
    self, AsyncClient, Event, MqttOptions, Outgoing, Packet, QoS,
};
use patchbay_connector_mqtt::MqttConnector;
use patchbay_connector_nats::{async_nats, NatsConnector};
use patchbay_connector_rabbitmq::amqprs::connection::{Connection, OpenConnectionArguments};
use patchbay_connector_rabbitmq::RabbitMqConnector;
use patchbay_connector_redis::{redis, RedisConnector};
use patchbay_core::{Connector, ResolvedConfig};
use serde_json::{json, Value};
use tokio::runtime::Runtime;
use tokio::time::Instant;

fn up(addr: &str) -> bool {
    let ok = std::net::TcpStream::connect(addr).is_ok();
    if !ok {
        eprintln!("SKIPPED: nothing listens on {addr}");
    }
    ok
}

fn group<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    let mut g = c.benchmark_group(name);
    g.warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .sample_size(30);
    g
}

/// The connector's `test`, checked to succeed.
fn connector_side(
    g: &mut BenchmarkGroup<'_, WallTime>,
    rt: &Runtime,
    connector: &dyn Connector,
    config: Value,
) {
    g.bench_function("connector_test", |b| {
        b.to_async(rt).iter(|| async {
            let config = ResolvedConfig::new(config.clone());
            let report = connector
                .test(&config, Instant::now() + Duration::from_secs(5))
                .await
                .expect("connector test");
            report.details.latency_ms
        });
    });
}

fn bench_redis(c: &mut Criterion, rt: &Runtime) {
    if !up("127.0.0.1:6379") {
        return;
    }
    let mut g = group(c, "redis_probe");
    connector_side(
        &mut g,
        rt,
        &RedisConnector,
        json!({ "addresses": ["127.0.0.1:6379"] }),
    );
    g.bench_function("bare_client", |b| {
        b.to_async(rt).iter(|| async {
            let client = redis::Client::open("redis://127.0.0.1:6379").expect("client");
            let mut conn = client
                .get_multiplexed_async_connection()
                .await
                .expect("connect");
            let info: String = redis::cmd("INFO")
                .arg("server")
                .query_async(&mut conn)
                .await
                .expect("INFO");
            info.len()
        });
    });
    g.finish();
}

fn bench_rabbitmq(c: &mut Criterion, rt: &Runtime) {
    if !up("127.0.0.1:5672") {
        return;
    }
    let mut g = group(c, "rabbitmq_probe");
    let config = json!({ "host": "127.0.0.1", "username": "guest", "password": "guest" });
    connector_side(&mut g, rt, &RabbitMqConnector, config);
    g.bench_function("bare_client", |b| {
        b.to_async(rt).iter(|| async {
            let args = OpenConnectionArguments::new("127.0.0.1", 5672, "guest", "guest");
            let conn = Connection::open(&args).await.expect("open");
            let version = conn.server_properties().version().len();
            conn.close().await.expect("close");
            version
        });
    });
    g.finish();
}

fn bench_nats(c: &mut Criterion, rt: &Runtime) {
    if !up("127.0.0.1:4222") {
        return;
    }
    let mut g = group(c, "nats_probe");
    connector_side(
        &mut g,
        rt,
        &NatsConnector,
        json!({ "servers": ["127.0.0.1:4222"] }),
    );
    g.bench_function("bare_client", |b| {
        b.to_async(rt).iter(|| async {
            let client = async_nats::connect("127.0.0.1:4222")
                .await
                .expect("connect");
            client.flush().await.expect("flush");
            let version = client.server_info().version.len();
            let _ = client.drain().await;
            version
        });
    });
    g.finish();
}

fn bench_mqtt(c: &mut Criterion, rt: &Runtime) {
    if !up("127.0.0.1:1883") {
        return;
    }
    let mut g = group(c, "mqtt_probe");
    connector_side(
        &mut g,
        rt,
        &MqttConnector,
        json!({ "url": "mqtt://127.0.0.1:1883" }),
    );
    let mut n = 0u64;
    g.bench_function("bare_client", |b| {
        b.to_async(rt).iter(|| {
            n += 1;
            let id = format!("bench-bare-{n}");
            async move {
                let (client, mut events) =
                    AsyncClient::new(MqttOptions::new(id, "127.0.0.1", 1883), 10);
                // Same socket option as the connector (see its probe.rs).
                let mut net = events.network_options();
                net.set_tcp_nodelay(true);
                events.set_network_options(net);
                loop {
                    if let Event::Incoming(Packet::ConnAck(_)) =
                        events.poll().await.expect("connack")
                    {
                        break;
                    }
                }
                client
                    .subscribe("$SYS/broker/version", QoS::AtMostOnce)
                    .await
                    .expect("subscribe");
                loop {
                    if let Event::Incoming(Packet::SubAck(_)) = events.poll().await.expect("suback")
                    {
                        break;
                    }
                }
                client
                    .unsubscribe("$SYS/broker/version")
                    .await
                    .expect("unsubscribe");
                let mut version = 0;
                loop {
                    match events.poll().await.expect("version") {
                        Event::Incoming(Packet::Publish(p)) => version = p.payload.len(),
                        Event::Incoming(Packet::UnsubAck(_)) => break,
                        _ => continue,
                    }
                }
                client.disconnect().await.expect("disconnect");
                loop {
                    match events.poll().await {
                        Ok(Event::Outgoing(Outgoing::Disconnect)) | Err(_) => break,
                        Ok(_) => continue,
                    }
                }
                drop::<rumqttc::EventLoop>(events);
                version
            }
        });
    });
    g.finish();
}

fn broker_probes(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    bench_redis(c, &rt);
    bench_rabbitmq(c, &rt);
    bench_nats(c, &rt);
    bench_mqtt(c, &rt);
}

criterion_group!(benches, broker_probes);
criterion_main!(benches);
