//! Where the test brokers are, and helpers to use them.
//!
//! `scripts/services/kafka.sh start` runs two tansu brokers and writes their
//! addresses to `target/kafka-broker.env`; the variables below override it.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use patchbay_connector_kafka::KafkaConnector;
use patchbay_core::{Connector, Error, FailureReason, ResolvedConfig, Result, TestReport};
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

/// The SCRAM broker on shared Postgres storage (`PATCHBAY_TEST_KAFKA_SCRAM`)
/// with its user and password (`PATCHBAY_TEST_KAFKA_SCRAM_USER`, `…_PASSWORD`).
pub fn scram_broker() -> Option<(String, String, String)> {
    let addr = setting("PATCHBAY_TEST_KAFKA_SCRAM", "127.0.0.1:19095");
    let addr =
        patchbay_testkit::net::require("kafka (tansu, SCRAM on Postgres)", HOW, reachable(&addr))?;
    Some((
        addr,
        setting("PATCHBAY_TEST_KAFKA_SCRAM_USER", "patchbay-scram"),
        setting("PATCHBAY_TEST_KAFKA_SCRAM_PASSWORD", ""),
    ))
}

/// The tansu binary (`PATCHBAY_TANSU`).
pub fn tansu() -> Option<PathBuf> {
    let path = PathBuf::from(setting("PATCHBAY_TANSU", "/opt/patchbay-tools/bin/tansu"));
    let found = if path.is_file() {
        Ok(path)
    } else {
        Err(format!("{} missing", path.display()))
    };
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
        .args([
            "topic",
            "create",
            "--broker",
            &format!("tcp://{broker}"),
            name,
        ])
        .args(["--partitions", &partitions.to_string()])
        .output()
        .expect("run tansu topic create");
    assert!(
        out.status.success(),
        "tansu topic create {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs the connector's test with `config` and a budget.
pub async fn probe(config: Value, budget: Duration) -> Result<TestReport> {
    KafkaConnector
        .test(&ResolvedConfig::new(config), Instant::now() + budget)
        .await
}

/// The failure of a probe that must fail.
pub fn failure(result: Result<TestReport>) -> patchbay_core::ProbeFailure {
    match result {
        Err(Error::ConnectionFailed(f)) => f,
        other => panic!("expected a connection failure, got {other:?}"),
    }
}

/// Asserts `result` failed with `reason`.
pub fn assert_reason(
    result: Result<TestReport>,
    reason: FailureReason,
) -> patchbay_core::ProbeFailure {
    let f = failure(result);
    assert_eq!(f.reason, reason, "{f}");
    f
}

/// A Kafka broker behind a TLS listener, both on loopback: a tansu broker
/// of its own (plaintext, advertising the TLS address, as Kafka clients
/// reconnect to advertised listeners), and a TLS front made here with a
/// certificate for `localhost` and 127.0.0.1 that relays to it. tansu 0.6's
/// own `--cert`/`--key` cannot be used: its CLI refuses the two together.
pub struct TlsBroker {
    /// `127.0.0.1:port` of the TLS listener.
    pub addr: String,
    /// PEM of the self-signed certificate, to trust it.
    pub ca_pem: String,
    task: tokio::task::JoinHandle<()>,
    child: std::process::Child,
}

impl TlsBroker {
    /// Starts both, or `None` when tansu is missing outside CI.
    pub async fn start() -> Option<Self> {
        use std::sync::Arc;
        use tokio_rustls::rustls::{self, pki_types};

        let tansu = tansu()?;
        let ck = rcgen::generate_simple_self_signed(vec![
            "localhost".to_owned(),
            "127.0.0.1".to_owned(),
        ])
        .expect("certificate");
        let key = pki_types::PrivatePkcs8KeyDer::from(ck.signing_key.serialize_der());
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("protocols")
        .with_no_client_auth()
        .with_single_cert(vec![ck.cert.der().clone()], key.into())
        .expect("server config");
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr").to_string();
        let backend = format!("127.0.0.1:{}", patchbay_testkit::net::refused_port());
        let child = Command::new(tansu)
            .args(["broker", "--listener-url", &format!("tcp://{backend}")])
            .args(["--advertised-listener-url", &format!("tcp://{addr}")])
            .args([
                "--storage-engine",
                "memory://tansu/",
                "--cluster-id",
                "patchbay-tls",
                "--silent",
            ])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn tansu");
        let relay_to = backend.clone();
        let task = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let (acceptor, backend) = (acceptor.clone(), relay_to.clone());
                tokio::spawn(async move {
                    // A failed handshake drops the connection, as a broker does.
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let Ok(mut up) = tokio::net::TcpStream::connect(&backend).await else {
                        return;
                    };
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut up).await;
                });
            }
        });
        let broker = Self {
            addr,
            ca_pem: ck.cert.pem(),
            task,
            child,
        };
        for _ in 0..400 {
            if tokio::net::TcpStream::connect(&backend).await.is_ok() {
                return Some(broker);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the tansu broker behind the TLS listener did not start on {backend}");
    }
}

impl Drop for TlsBroker {
    fn drop(&mut self) {
        self.task.abort();
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

/// A tansu broker listening on 127.0.0.1 that advertises another address,
/// and a listener on that advertised address counting the connections it
/// accepts: a client that follows the advertisement connects there.
pub struct AdvertisingBroker {
    /// `127.0.0.1:port` where tansu listens (the bootstrap address).
    pub bootstrap: String,
    /// The advertised `ip:port`, where the counting listener is.
    pub advertised: std::net::SocketAddr,
    /// Connections the advertised address has accepted.
    pub accepted: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
    child: std::process::Child,
}

impl AdvertisingBroker {
    /// Binds the counting listener on `ip` (any free port), then starts tansu
    /// advertising it; `None` when tansu is missing outside CI.
    pub async fn start(ip: &str) -> Option<Self> {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let tansu = tansu()?;
        let listener = tokio::net::TcpListener::bind((ip, 0))
            .await
            .unwrap_or_else(|e| panic!("bind the counting listener on {ip}: {e}"));
        let advertised = listener.local_addr().expect("addr");
        let accepted = std::sync::Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        let task = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((s, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                held.push(s);
            }
        });
        let bootstrap = format!("127.0.0.1:{}", patchbay_testkit::net::refused_port());
        let child = Command::new(tansu)
            .args(["broker", "--listener-url", &format!("tcp://{bootstrap}")])
            .args(["--advertised-listener-url", &format!("tcp://{advertised}")])
            .args(["--storage-engine", "memory://tansu/"])
            .args(["--cluster-id", "patchbay-advertising", "--silent"])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn tansu");
        let broker = Self {
            bootstrap,
            advertised,
            accepted,
            task,
            child,
        };
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(&broker.bootstrap)
                .await
                .is_ok()
            {
                return Some(broker);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "the advertising tansu broker did not start on {}",
            broker.bootstrap
        );
    }

    /// Connections the advertised address has accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl Drop for AdvertisingBroker {
    fn drop(&mut self) {
        self.task.abort();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
