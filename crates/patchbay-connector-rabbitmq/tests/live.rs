//! Against the local RabbitMQ at 127.0.0.1:5672 (guest/guest) and loopback
//! failure targets.

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use patchbay_connector_rabbitmq::RabbitMqConnector;
use patchbay_core::{Connector, Error, FailureReason, ResolvedConfig, TestReport};
use patchbay_testkit::connector as conformance;
use patchbay_testkit::net::{refused_port, require, SilentListener};
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

#[test]
fn schema_is_valid() {
    conformance::schema_is_valid(&RabbitMqConnector);
}

#[test]
fn secrets_are_marked() {
    conformance::secrets_are_marked(&RabbitMqConnector, &["password"]);
}

#[tokio::test]
async fn sentinel_never_leaks() {
    if broker().await.is_none() {
        return;
    }
    let sentinel = "sentinel-5d2a9e61";
    let config = json!({ "host": "127.0.0.1", "username": "guest", "password": sentinel });
    conformance::sentinel_never_leaks(Arc::new(RabbitMqConnector), config, sentinel).await;
}

#[tokio::test]
async fn deadline_is_honoured() {
    let silent = SilentListener::bind().await;
    let config = json!({ "host": "127.0.0.1", "port": silent.port(), "username": "guest", "password": "guest" });
    conformance::deadline_is_honoured(&RabbitMqConnector, config, Duration::from_millis(1500))
        .await;
}

#[tokio::test]
async fn refused_is_fast() {
    let config = json!({ "host": "127.0.0.1", "port": refused_port(), "username": "guest", "password": "guest" });
    conformance::refused_is_fast(&RabbitMqConnector, config).await;
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

/// A broker user made with `rabbitmqctl`, deleted on drop.
struct BrokerUser(String);

impl BrokerUser {
    fn create(password: &str, permissions: bool) -> Option<Self> {
        let name = format!("patchbay-test-{}", uuid::Uuid::new_v4().simple());
        let made = rabbitmqctl(&["add_user", &name, password]);
        let user =
            require("rabbitmqctl", "apt-get install rabbitmq-server", made).map(|()| Self(name))?;
        if permissions {
            rabbitmqctl(&["set_permissions", "-p", "/", &user.0, ".*", ".*", ".*"])
                .expect("set_permissions");
        }
        Some(user)
    }
}

impl Drop for BrokerUser {
    fn drop(&mut self) {
        let _ = rabbitmqctl(&["delete_user", &self.0]);
    }
}

fn rabbitmqctl(args: &[&str]) -> Result<(), String> {
    let out = Command::new("rabbitmqctl")
        .args(args)
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
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
