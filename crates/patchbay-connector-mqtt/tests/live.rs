//! Against the local Mosquitto at 127.0.0.1:1883, a private Mosquitto with a
//! password file on a free loopback port, and loopback failure targets.

use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use patchbay_connector_mqtt::MqttConnector;
use patchbay_core::{Connector, Error, FailureReason, ResolvedConfig, TestReport};
use patchbay_testkit::connector as conformance;
use patchbay_testkit::net::{refused_port, require, SilentListener};
use serde_json::{json, Value};
use tokio::process::{Child, Command};
use tokio::time::Instant;

const URL: &str = "mqtt://127.0.0.1:1883";
const MOSQUITTO: &str = "/usr/sbin/mosquitto";

async fn shared() -> Option<()> {
    let found = tokio::net::TcpStream::connect("127.0.0.1:1883")
        .await
        .map(drop);
    require("mosquitto", "systemctl start mosquitto", found)
}

async fn test(config: Value) -> Result<TestReport, Error> {
    MqttConnector
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

/// A Mosquitto of our own that demands a password, killed on drop.
struct PrivateBroker {
    _child: Child,
    _dir: tempfile::TempDir,
    port: u16,
}

async fn private_broker(user: &str, password: &str) -> Option<PrivateBroker> {
    let installed = std::path::Path::new(MOSQUITTO)
        .exists()
        .then_some(())
        .ok_or("/usr/sbin/mosquitto is not installed");
    require("mosquitto binary", "apt-get install mosquitto", installed)?;
    let dir = tempfile::tempdir().expect("tempdir");
    let passwd = dir.path().join("passwd");
    let made = Command::new("mosquitto_passwd")
        .arg("-b")
        .arg("-c")
        .arg(&passwd)
        .args([user, password])
        .status()
        .await
        .expect("mosquitto_passwd");
    assert!(made.success(), "mosquitto_passwd failed");
    let port = refused_port();
    let conf = dir.path().join("mosquitto.conf");
    // `user root` keeps a root-started broker from switching to a user that
    // cannot read our temporary password file; ignored when not root.
    let text = format!(
        "user root\nlistener {port} 127.0.0.1\nallow_anonymous false\npassword_file {}\npersistence false\n",
        passwd.display()
    );
    std::fs::write(&conf, text).expect("write conf");
    let child = Command::new(MOSQUITTO)
        .arg("-c")
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn mosquitto");
    let until = Instant::now() + Duration::from_secs(20);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(Instant::now() < until, "private mosquitto did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Some(PrivateBroker {
        _child: child,
        _dir: dir,
        port,
    })
}

#[test]
fn schema_is_valid() {
    conformance::schema_is_valid(&MqttConnector);
}

#[test]
fn secrets_are_marked() {
    conformance::secrets_are_marked(&MqttConnector, &["password"]);
}

#[tokio::test]
async fn sentinel_never_leaks() {
    let Some(broker) = private_broker("app", "the-real-password").await else {
        return;
    };
    let sentinel = "sentinel-7b1f03d9";
    let config = json!({ "url": format!("mqtt://127.0.0.1:{}", broker.port), "username": "app", "password": sentinel });
    conformance::sentinel_never_leaks(Arc::new(MqttConnector), config, sentinel).await;
}

#[tokio::test]
async fn deadline_is_honoured() {
    let silent = SilentListener::bind().await;
    let config = json!({ "url": format!("mqtt://127.0.0.1:{}", silent.port()) });
    conformance::deadline_is_honoured(&MqttConnector, config, Duration::from_millis(1500)).await;
}

#[tokio::test]
async fn refused_is_fast() {
    let config = json!({ "url": format!("mqtt://127.0.0.1:{}", refused_port()) });
    conformance::refused_is_fast(&MqttConnector, config).await;
}

#[tokio::test]
async fn succeeds_with_the_brokers_version() {
    if shared().await.is_none() {
        return;
    }
    let report = test(json!({ "url": URL, "client_id_prefix": "pb-test" }))
        .await
        .expect("test");
    // Mosquitto publishes $SYS/broker/version, retained.
    let version = report
        .details
        .version
        .expect("mosquitto publishes its version");
    assert!(
        version.chars().next().is_some_and(|c| c.is_ascii_digit()),
        "{version}"
    );
    assert_eq!(report.details.extra["product"], "mosquitto");
}

#[tokio::test]
async fn password_is_checked() {
    let Some(broker) = private_broker("app", "right-pass-5").await else {
        return;
    };
    let url = format!("mqtt://127.0.0.1:{}", broker.port);
    let ok = test(json!({ "url": url, "username": "app", "password": "right-pass-5" })).await;
    ok.expect("right password");
    let wrong = "wrong-pass-6";
    let (why, message) =
        reason(test(json!({ "url": url, "username": "app", "password": wrong })).await);
    eprintln!("auth failure as reported: {message}");
    assert_eq!(why, FailureReason::Auth, "{message}");
    assert!(!message.contains(wrong));
    let (why, message) = reason(test(json!({ "url": url })).await);
    assert_eq!(why, FailureReason::Auth, "anonymous: {message}");
}

#[tokio::test]
async fn tls_to_a_plain_broker_is_tls() {
    if shared().await.is_none() {
        return;
    }
    let (why, message) = reason(test(json!({ "url": "mqtts://127.0.0.1:1883" })).await);
    eprintln!("tls failure as reported: {message}");
    assert_eq!(why, FailureReason::Tls, "{message}");
}

#[test]
fn offers_no_autocomplete() {
    assert!(MqttConnector.autocomplete_types().is_empty());
}
