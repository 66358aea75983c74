//! A native connection from a profile's config (`open_connection_arguments`)
//! declaring a queue, publishing to it and getting the message back on the
//! local RabbitMQ, and the probe following the same arguments: a change to
//! the config changes both, the same way.

use std::time::Duration;

use amqprs::channel::{
    BasicGetArguments, BasicPublishArguments, QueueDeclareArguments, QueueDeleteArguments,
};
use amqprs::connection::Connection;
use amqprs::BasicProperties;
use patchbay_connector_rabbitmq::{open_connection_arguments, RabbitMqConfig, RabbitMqConnector};
use patchbay_core::{Connector, Error, FailureReason, ResolvedConfig};
use patchbay_testkit::net::{refused_port, require};
use serde_json::{json, Value};
use tokio::time::{timeout, Instant};

async fn broker() -> Option<()> {
    let found = tokio::net::TcpStream::connect("127.0.0.1:5672")
        .await
        .map(drop);
    require("rabbitmq", "systemctl start rabbitmq-server", found)
}

fn guest() -> Value {
    json!({ "host": "127.0.0.1", "username": "guest", "password": "guest" })
}

fn typed(cfg: &Value) -> RabbitMqConfig {
    serde_json::from_value(cfg.clone()).expect("a valid config")
}

#[tokio::test]
async fn declare_publish_and_get_with_a_connection_from_the_profile() {
    if broker().await.is_none() {
        return;
    }
    let queue = format!("patchbay-client-{}", uuid::Uuid::new_v4().simple());
    let args = open_connection_arguments(&typed(&guest())).expect("arguments");
    let work = async {
        let conn = Connection::open(&args).await.expect("open");
        let channel = conn.open_channel(None).await.expect("channel");
        channel
            .queue_declare(QueueDeclareArguments::transient_autodelete(&queue))
            .await
            .expect("declare");
        for n in 0..3 {
            channel
                .basic_publish(
                    BasicProperties::default(),
                    format!("reading {n}").into_bytes(),
                    BasicPublishArguments::new("", &queue),
                )
                .await
                .expect("publish");
        }
        let mut got = Vec::new();
        // basic.get answers get-empty until the broker has routed the
        // message; each try is a round trip, bounded by the timeout below.
        while got.len() < 3 {
            let message = channel
                .basic_get(BasicGetArguments::new(&queue).no_ack(true).finish())
                .await
                .expect("get");
            if let Some((_, _, body)) = message {
                got.push(String::from_utf8(body).unwrap());
            }
        }
        channel
            .queue_delete(QueueDeleteArguments::new(&queue))
            .await
            .expect("delete");
        channel.close().await.expect("close channel");
        conn.close().await.expect("close");
        got
    };
    let got = timeout(Duration::from_secs(10), work)
        .await
        .expect("done within 10 s");
    assert_eq!(got, ["reading 0", "reading 1", "reading 2"]);
}

/// A loopback port that answers any first bytes with plain text and hangs
/// up, as a non-TLS service does to a TLS ClientHello.
async fn plain_text_port() -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let mut buf = [0u8; 512];
            let _ = s.read(&mut buf).await;
            let _ = s.write_all(b"AMQP\x00\x00\x09\x01").await;
        }
    });
    port
}

/// Whether the builder's arguments open a connection (bounded).
async fn builder_connects(cfg: &Value) -> bool {
    let args = open_connection_arguments(&typed(cfg)).unwrap();
    let open = async {
        match Connection::open(&args).await {
            Ok(conn) => conn.close().await.is_ok(),
            Err(_) => false,
        }
    };
    timeout(Duration::from_secs(10), open)
        .await
        .expect("the builder's connection opens or fails within 10 s")
}

async fn probe(cfg: &Value) -> Result<patchbay_core::TestReport, Error> {
    RabbitMqConnector
        .test(
            &ResolvedConfig::new(cfg.clone()),
            Instant::now() + Duration::from_secs(10),
        )
        .await
}

fn reason(result: Result<patchbay_core::TestReport, Error>) -> FailureReason {
    match result {
        Err(Error::ConnectionFailed(f)) => f.reason,
        other => panic!("expected a connection failure, got {other:?}"),
    }
}

#[tokio::test]
async fn probe_and_builder_cannot_drift() {
    if broker().await.is_none() {
        return;
    }
    assert!(builder_connects(&guest()).await, "builder: as configured");
    probe(&guest()).await.expect("probe: as configured");

    // Another password: both are refused.
    let mut cfg = guest();
    cfg["password"] = json!("not-the-guest-password");
    assert!(!builder_connects(&cfg).await, "builder: password");
    assert_eq!(reason(probe(&cfg).await), FailureReason::Auth);

    // TLS on: both speak TLS, which a plain-text server cannot answer.
    let mut cfg = guest();
    cfg["port"] = json!(plain_text_port().await);
    cfg["tls"] = json!({ "enabled": true });
    let args = open_connection_arguments(&typed(&cfg)).unwrap();
    assert!(args.get_tls_adaptor().is_some());
    assert!(!builder_connects(&cfg).await, "builder: tls");
    assert_eq!(reason(probe(&cfg).await), FailureReason::Tls);

    // Another port: both go there and find nothing listening.
    let port = refused_port();
    let mut cfg = guest();
    cfg["port"] = json!(port);
    assert_eq!(
        open_connection_arguments(&typed(&cfg)).unwrap().get_port(),
        port
    );
    assert!(!builder_connects(&cfg).await, "builder: port");
    assert_eq!(reason(probe(&cfg).await), FailureReason::Refused);
}
