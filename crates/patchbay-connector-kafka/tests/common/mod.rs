//! Where the test brokers are, and helpers to use them.
//!
//! `scripts/services/kafka.sh start` runs two tansu brokers and writes their
//! addresses to `target/kafka-broker.env`; the variables below override it.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use patchbay_core::{Connector, Error, FailureReason, ResolvedConfig, Result, TestReport};
use patchbay_connector_kafka::KafkaConnector;
use serde_json::Value;
use tokio::time::Instant;

const HOW: &str = "scripts/services/kafka.sh start (tansu from .ci/install/tansu.sh)";

fn env_file() -> HashMap<String, String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/kafka-broker.env");
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

fn setting(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .or_else(|| env_file().get(name).cloned())
        .unwrap_or_else(|| default.to_owned())
}

fn reachable(addr: &str) -> std::io::Result<String> {
    std::net::TcpStream::connect_timeout(&addr.parse().expect("ip:port"), Duration::from_secs(1))?;
    Ok(addr.to_owned())
}

/// The open broker (`PATCHBAY_TEST_KAFKA`), or `None` when it is not running
/// outside CI.
pub fn plain_broker() -> Option<String> {
    let addr = setting("PATCHBAY_TEST_KAFKA", "127.0.0.1:19092");
    patchbay_testkit::net::require("kafka (tansu)", HOW, reachable(&addr))
}

/// The broker started with `--authentication` (`PATCHBAY_TEST_KAFKA_SASL`).
pub fn sasl_broker() -> Option<String> {
    let addr = setting("PATCHBAY_TEST_KAFKA_SASL", "127.0.0.1:19093");
    patchbay_testkit::net::require("kafka (tansu, SASL)", HOW, reachable(&addr))
}

/// The tansu binary (`PATCHBAY_TANSU`).
pub fn tansu() -> Option<PathBuf> {
    let path = PathBuf::from(setting("PATCHBAY_TANSU", "/opt/patchbay-tools/bin/tansu"));
    let found = if path.is_file() { Ok(path) } else { Err(format!("{} missing", path.display())) };
    patchbay_testkit::net::require("tansu binary", HOW, found)
}

/// A name no other test run uses.
pub fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .subsec_nanos();
    format!("{prefix}-{}-{nanos:x}", std::process::id())
}

/// Creates a topic with tansu's own CLI (a separate process).
pub fn create_topic(broker: &str, name: &str, partitions: u32) {
    let tansu = tansu().expect("tansu binary");
    let out = Command::new(tansu)
        .args(["topic", "create", "--broker", &format!("tcp://{broker}"), name])
        .args(["--partitions", &partitions.to_string()])
        .output()
        .expect("run tansu topic create");
    assert!(out.status.success(), "tansu topic create {name}: {}", String::from_utf8_lossy(&out.stderr));
}

/// Runs the connector's test with `config` and a budget.
pub async fn probe(config: Value, budget: Duration) -> Result<TestReport> {
    KafkaConnector.test(&ResolvedConfig::new(config), Instant::now() + budget).await
}

/// The failure of a probe that must fail.
pub fn failure(result: Result<TestReport>) -> patchbay_core::ProbeFailure {
    match result {
        Err(Error::ConnectionFailed(f)) => f,
        other => panic!("expected a connection failure, got {other:?}"),
    }
}

/// Asserts `result` failed with `reason`.
pub fn assert_reason(result: Result<TestReport>, reason: FailureReason) -> patchbay_core::ProbeFailure {
    let f = failure(result);
    assert_eq!(f.reason, reason, "{f}");
    f
}

/// A tansu broker with a TLS listener, run by this test process and killed
/// on drop. Its certificate (for `localhost` and 127.0.0.1) is made here.
pub struct TlsBroker {
    child: Child,
    /// `127.0.0.1:port`.
    pub addr: String,
    /// PEM of the self-signed certificate, to trust it.
    pub ca_pem: String,
    _dir: tempfile::TempDir,
}

impl TlsBroker {
    /// Starts it, or `None` when tansu is missing outside CI.
    pub async fn start() -> Option<Self> {
        let tansu = tansu()?;
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .expect("certificate");
        let dir = tempfile::tempdir().expect("tempdir");
        let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
        std::fs::write(&cert_path, cert.cert.pem()).expect("write cert");
        std::fs::write(&key_path, cert.signing_key.serialize_pem()).expect("write key");
        let port = patchbay_testkit::net::refused_port();
        let addr = format!("127.0.0.1:{port}");
        let child = Command::new(tansu)
            .args(["broker", "--listener-url", &format!("tcp://{addr}")])
            .args(["--advertised-listener-url", &format!("tcp://{addr}")])
            .args(["--storage-engine", "memory://tansu/", "--silent"])
            .arg("--cert")
            .arg(&cert_path)
            .arg("--key")
            .arg(&key_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn tansu");
        let broker = Self { child, addr, ca_pem: cert.cert.pem(), _dir: dir };
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(&broker.addr).await.is_ok() {
                return Some(broker);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the TLS tansu broker did not start on {}", broker.addr);
    }
}

impl Drop for TlsBroker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The process's thread count (Linux).
pub fn threads() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .expect("status")
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|n| n.trim().parse().ok())
        .expect("Threads line")
}
