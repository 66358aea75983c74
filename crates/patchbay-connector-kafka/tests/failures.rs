//! Fast, classified failures against real loopback targets: a closed port,
//! the authenticating tansu broker, a TLS listener (an unresolvable name:
//! the conformance suite).

mod common;

use std::time::Duration;

use patchbay_core::FailureReason;
use patchbay_testkit::net::refused_port;
use serde_json::json;
use tokio::time::Instant;

/// The deadline of the probes below.
const DEADLINE: Duration = Duration::from_secs(20);
/// "Fast" means decided by the failure itself, long before the deadline:
/// half of it, generous for a loaded 2-core machine.
const FAST: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_port_is_refused_fast() {
    let (a, b) = (refused_port(), refused_port());
    let start = Instant::now();
    let f = common::assert_reason(
        common::probe(
            json!({ "bootstrap_servers": format!("127.0.0.1:{a},127.0.0.1:{b}") }),
            DEADLINE,
        )
        .await,
        FailureReason::Refused,
    );
    assert!(start.elapsed() <= FAST, "took {:?}", start.elapsed());
    assert!(f.message.contains("Connection refused"), "{f}");
}

fn scram(broker: &str, user: &str) -> serde_json::Value {
    json!({
        "bootstrap_servers": broker,
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-256",
        "sasl_username": user,
        "sasl_password": "wrong-password",
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_scram_credentials_are_auth_with_the_brokers_message() {
    let Some(broker) = common::sasl_broker() else {
        return;
    };
    let start = Instant::now();
    let f = common::assert_reason(
        common::probe(scram(&broker, "patchbay-nobody"), DEADLINE).await,
        FailureReason::Auth,
    );
    assert!(start.elapsed() <= FAST, "took {:?}", start.elapsed());
    // The broker's own SCRAM error (`e=unknown-user`), as librdkafka relays it.
    assert!(f.message.contains("unknown-user"), "{f}");
    assert!(
        f.reason_text().starts_with("Authentication failed: "),
        "{}",
        f.reason_text()
    );
    assert!(!f.message.contains("wrong-password"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scram_user_right_password_succeeds_wrong_password_is_auth() {
    // The user was created through an open broker sharing this one's
    // Postgres storage (scripts/services/kafka.sh).
    let Some((broker, user, password)) = common::scram_broker() else {
        return;
    };
    let config = |password: &str| {
        json!({
            "bootstrap_servers": broker,
            "security_protocol": "SASL_PLAINTEXT",
            "sasl_mechanism": "SCRAM-SHA-256",
            "sasl_username": user,
            "sasl_password": password,
        })
    };
    let report = common::probe(config(&password), Duration::from_secs(10))
        .await
        .expect("SCRAM with the right password");
    assert_eq!(report.details.extra["brokers"], json!(1), "{report:?}");

    let start = Instant::now();
    let f = common::assert_reason(
        common::probe(config("not-the-password"), DEADLINE).await,
        FailureReason::Auth,
    );
    assert!(start.elapsed() <= FAST, "{f} after {:?}", start.elapsed());
    assert!(
        f.reason_text().starts_with("Authentication failed: "),
        "{}",
        f.reason_text()
    );
    assert!(!f.message.contains("not-the-password"), "{f}");
    eprintln!("wrong password: {}", f.reason_text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mechanism_the_broker_refuses_is_auth() {
    // tansu 0.6 offers SCRAM only; its answer to PLAIN ends the probe at once.
    let Some(broker) = common::sasl_broker() else {
        return;
    };
    let start = Instant::now();
    let f = common::assert_reason(
        common::probe(
            json!({
                "bootstrap_servers": broker,
                "security_protocol": "SASL_PLAINTEXT",
                "sasl_mechanism": "PLAIN",
                "sasl_username": "patchbay",
                "sasl_password": "any",
            }),
            DEADLINE,
        )
        .await,
        FailureReason::Auth,
    );
    assert!(start.elapsed() <= FAST, "{f} after {:?}", start.elapsed());
    assert!(f.message.contains("PLAIN"), "{f}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_sasl_against_the_authenticating_broker_fails_fast() {
    let Some(broker) = common::sasl_broker() else {
        return;
    };
    let start = Instant::now();
    let f = common::failure(common::probe(json!({ "bootstrap_servers": broker }), DEADLINE).await);
    assert!(start.elapsed() <= FAST, "{f} after {:?}", start.elapsed());
    assert_eq!(f.reason, FailureReason::Auth, "{f}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_listener_with_and_without_the_right_ca() {
    let Some(tls) = common::TlsBroker::start().await else {
        return;
    };
    // The right CA: a real TLS session, then metadata.
    let report = common::probe(
        json!({ "bootstrap_servers": tls.addr, "security_protocol": "SSL", "ssl_ca_pem": tls.ca_pem }),
        Duration::from_secs(10),
    )
    .await
    .expect("TLS with the broker's CA");
    assert_eq!(report.details.extra["brokers"], json!(1));

    // System roots do not know the self-signed certificate.
    let start = Instant::now();
    let f = common::assert_reason(
        common::probe(
            json!({ "bootstrap_servers": tls.addr, "security_protocol": "SSL" }),
            DEADLINE,
        )
        .await,
        FailureReason::Tls,
    );
    assert!(start.elapsed() <= FAST, "{f} after {:?}", start.elapsed());
    assert!(f.message.contains("SSL handshake failed"), "{f}");

    // Plaintext client, TLS listener.
    let start = Instant::now();
    let f = common::assert_reason(
        common::probe(json!({ "bootstrap_servers": tls.addr }), DEADLINE).await,
        FailureReason::Tls,
    );
    assert!(start.elapsed() <= FAST, "{f} after {:?}", start.elapsed());
}
