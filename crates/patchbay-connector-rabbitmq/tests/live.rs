//! Against the local RabbitMQ at 127.0.0.1:5672 (guest/guest) and loopback
//! failure targets.

mod common;

use std::time::Duration;

use common::BrokerUser;
use patchbay_connector_rabbitmq::RabbitMqConnector;
use patchbay_core::{Connector, Error, FailureReason, ResolvedConfig, TestReport};
use patchbay_testkit::net::require;
use serde_json::{json, Value};
use tokio::time::Instant;

/// `Some(())` when the broker accepts TCP, else skip (or fail under CI).
async fn broker() -> Option<()> {
    let found = tokio::net::TcpStream::connect("127.0.0.1:5672")
        .await
        .map(drop);
    require("rabbitmq", "systemctl start rabbitmq-server", found)
}

fn guest() -> Value {
    json!({ "host": "127.0.0.1", "username": "guest", "password": "guest" })
}

async fn test(config: Value) -> Result<TestReport, Error> {
    RabbitMqConnector
        .test(
            &ResolvedConfig::new(config),
            Instant::now() + Duration::from_secs(10),
        )
        .await
}

fn reason(r: Result<TestReport, Error>) -> (FailureReason, String) {
    match r {
        Err(Error::ConnectionFailed(f)) => (f.reason, f.message),
        other => panic!("expected a connection failure, got {other:?}"),
    }
}

#[tokio::test]
async fn guest_succeeds_with_version() {
    if broker().await.is_none() {
        return;
    }
    let report = test(guest()).await.expect("test");
    let version = report.details.version.expect("RabbitMQ sends its version");
    assert!(
        version.chars().next().is_some_and(|c| c.is_ascii_digit()),
        "{version}"
    );
    assert_eq!(report.details.extra["product"], "RabbitMQ");
}

#[tokio::test]
async fn missing_vhost_is_not_found() {
    if broker().await.is_none() {
        return;
    }
    let mut config = guest();
    config["virtual_host"] = json!("patchbay-no-such-vhost");
    let (why, message) = reason(test(config).await);
    eprintln!("not found as reported: {message}");
    assert_eq!(why, FailureReason::NotFound, "{message}");
    assert!(message.contains("patchbay-no-such-vhost"), "{message}");
}

#[tokio::test]
async fn created_user_logs_in_and_a_wrong_password_is_auth() {
    if broker().await.is_none() {
        return;
    }
    let password = "pb-right-password-7";
    let Some(user) = tokio::task::spawn_blocking(move || BrokerUser::create(password, true))
        .await
        .expect("join")
    else {
        return;
    };
    let config = json!({ "host": "127.0.0.1", "username": user.0, "password": password });
    assert!(test(config)
        .await
        .expect("right password")
        .details
        .version
        .is_some());
    let wrong = "pb-wrong-password-3";
    let (why, message) =
        reason(test(json!({ "host": "127.0.0.1", "username": user.0, "password": wrong })).await);
    eprintln!("auth failure as reported: {message}");
    assert_eq!(why, FailureReason::Auth, "{message}");
    assert!(!message.contains(wrong));
    tokio::task::spawn_blocking(move || drop(user))
        .await
        .expect("cleanup");
}

#[tokio::test]
async fn user_without_vhost_permission_is_auth() {
    if broker().await.is_none() {
        return;
    }
    let password = "pb-no-perms-password";
    let Some(user) = tokio::task::spawn_blocking(move || BrokerUser::create(password, false))
        .await
        .expect("join")
    else {
        return;
    };
    let (why, message) = reason(
        test(json!({ "host": "127.0.0.1", "username": user.0, "password": password })).await,
    );
    eprintln!("auth failure as reported: {message}");
    assert_eq!(why, FailureReason::Auth, "{message}");
    assert!(message.contains("refused"), "{message}");
    tokio::task::spawn_blocking(move || drop(user))
        .await
        .expect("cleanup");
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

#[tokio::test]
async fn tls_to_a_plain_text_server_is_tls() {
    let port = plain_text_port().await;
    let config = json!({ "host": "127.0.0.1", "port": port, "username": "guest", "password": "guest", "tls": { "enabled": true } });
    let (why, message) = reason(test(config).await);
    eprintln!("tls failure as reported: {message}");
    assert_eq!(why, FailureReason::Tls, "{message}");
}

#[test]
fn offers_no_autocomplete() {
    assert!(RabbitMqConnector.autocomplete_types().is_empty());
}
