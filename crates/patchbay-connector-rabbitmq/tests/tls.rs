//! Certificate checks against a real TLS listener (a second RabbitMQ node
//! with an `ssl_listeners` entry, started by `scripts/services/tls.sh` with
//! a test CA): the right CA and name succeed, a wrong CA or host name fails
//! as `tls`. `tls.server_name` names the certificate when the host does
//! not; there is no switch to skip verification.

use std::time::Duration;

use amqprs::channel::{BasicGetArguments, BasicPublishArguments, QueueDeclareArguments};
use amqprs::connection::Connection;
use amqprs::BasicProperties;
use patchbay_connector_rabbitmq::{open_connection_arguments, RabbitMqConfig, RabbitMqConnector};
use patchbay_core::{Connector, Error, FailureReason, ResolvedConfig};
use patchbay_testkit::tls::TlsListener;
use serde_json::{json, Value};
use tokio::time::{timeout, Instant};

fn listener() -> Option<TlsListener> {
    TlsListener::require("AMQP")
}

/// The second node's default `guest` user (loopback only, as here).
fn config(host: &str, port: u16, ca: Option<&str>) -> Value {
    json!({
        "host": host, "port": port, "username": "guest", "password": "guest",
        "tls": { "enabled": true, "ca_cert_pem": ca }
    })
}

fn typed(cfg: &Value) -> RabbitMqConfig {
    serde_json::from_value(cfg.clone()).expect("config")
}

async fn probe(cfg: &Value) -> Result<patchbay_core::TestReport, Error> {
    RabbitMqConnector
        .test(
            &ResolvedConfig::new(cfg.clone()),
            Instant::now() + Duration::from_secs(10),
        )
        .await
}

/// Whether the public builder's arguments open a connection (bounded).
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

#[tokio::test]
async fn trusted_ca_probe_and_client_work() {
    let Some(l) = listener() else { return };
    let mut by_ip = config("127.0.0.1", l.port, Some(&l.ca_pem));
    // Connecting by address while verifying the name the certificate has.
    by_ip["tls"]["server_name"] = json!(l.host);
    for cfg in [config(&l.host, l.port, Some(&l.ca_pem)), by_ip] {
        let report = probe(&cfg).await.unwrap_or_else(|e| panic!("{cfg}: {e}"));
        assert!(report.details.version.is_some(), "{report:?}");
    }

    // Real work with the builder's connection: a queue, a message through it.
    let queue = format!("patchbay-tls-{}", uuid::Uuid::new_v4().simple());
    let args = open_connection_arguments(&typed(&config(&l.host, l.port, Some(&l.ca_pem))))
        .expect("arguments");
    let work = async {
        let conn = Connection::open(&args).await.expect("open over TLS");
        let channel = conn.open_channel(None).await.expect("channel");
        channel
            .queue_declare(QueueDeclareArguments::transient_autodelete(&queue))
            .await
            .expect("declare");
        channel
            .basic_publish(
                BasicProperties::default(),
                b"over tls".to_vec(),
                BasicPublishArguments::new("", &queue),
            )
            .await
            .expect("publish");
        // basic.get answers get-empty until the broker has routed the
        // message; each try is a round trip, bounded by the timeout below.
        let body = loop {
            let got = channel
                .basic_get(BasicGetArguments::new(&queue).no_ack(true).finish())
                .await
                .expect("get");
            if let Some((_, _, body)) = got {
                break body;
            }
        };
        channel.close().await.expect("close channel");
        conn.close().await.expect("close");
        body
    };
    let body = timeout(Duration::from_secs(10), work)
        .await
        .expect("done within 10 s");
    assert_eq!(body, b"over tls");
}

/// Every way to get the certificate wrong.
fn bad_configs(l: &TlsListener) -> Vec<(Value, &'static str)> {
    let mut other_name = config(&l.host, l.port, Some(&l.ca_pem));
    other_name["tls"]["server_name"] = json!("other.invalid");
    let mut wrong_ca_named = config("127.0.0.1", l.port, Some(&l.wrong_ca_pem));
    wrong_ca_named["tls"]["server_name"] = json!(l.host);
    vec![
        // A CA with the CA's name but another key: only the signature differs.
        (config(&l.host, l.port, Some(&l.wrong_ca_pem)), "wrong CA"),
        (wrong_ca_named, "wrong CA, right server_name"),
        // No CA given: the web roots do not know the test CA.
        (config(&l.host, l.port, None), "web roots"),
        // The right CA, but 127.0.0.1 is not a name in the certificate.
        (
            config("127.0.0.1", l.port, Some(&l.ca_pem)),
            "wrong host name",
        ),
        (other_name, "server_name not in the certificate"),
    ]
}

#[tokio::test]
async fn a_bad_certificate_fails_as_tls_in_probe_and_client() {
    let Some(l) = listener() else { return };
    for (cfg, what) in bad_configs(&l) {
        match probe(&cfg).await {
            Err(Error::ConnectionFailed(f)) if f.reason == FailureReason::Tls => {
                eprintln!("{what}: {}", f.message);
                // The certificate check failed, not some other part of TLS.
                assert!(f.message.contains("certificate"), "{what}: {}", f.message);
            }
            other => panic!("{what}: expected a tls failure, got {other:?}"),
        }
        assert!(!builder_connects(&cfg).await, "builder: {what}");
    }
}

#[tokio::test]
async fn no_setting_gets_past_a_bad_certificate() {
    let Some(l) = listener() else { return };
    // The schema has no switch to turn verification off.
    for switch in ["insecure_skip_verify", "insecure", "verify"] {
        let mut cfg = config(&l.host, l.port, Some(&l.wrong_ca_pem));
        cfg["tls"][switch] = json!(false);
        assert!(
            serde_json::from_value::<RabbitMqConfig>(cfg).is_err(),
            "{switch} is not a setting"
        );
    }
}
