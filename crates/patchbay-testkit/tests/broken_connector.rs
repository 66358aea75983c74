//! The testkit proves its connector cases can fail: a loopback connector
//! with one deliberate flaw at a time (logs its secret, quotes a cut-off
//! part of it, ignores the deadline, gives up early, calls a refusal or an
//! unresolvable name something else, marks no secret, accepts unknown
//! fields) must fail the case written for that flaw, and the same
//! connector without flaws must pass every case.

use std::sync::Arc;

use patchbay_core::{
    async_trait, Connector, Endpoint, Error, FailureReason, ResolvedConfig, Result, TestReport,
};
use patchbay_testkit::fixture::{self as cases, Fixture, Live};
use patchbay_testkit::net::UNRESOLVABLE_HOST;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio::time::{timeout_at, Instant};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Flaw {
    None,
    LogsSecret,
    QuotesPartOfSecret,
    IgnoresDeadline,
    GivesUpEarly,
    RefusedIsOther,
    DnsIsOther,
    NoSecretMarked,
    UnknownFieldsAccepted,
}

/// Connects to `host:port` and calls any password wrong.
struct Loopback(Flaw);

fn failed(reason: FailureReason, message: impl Into<String>) -> Error {
    Error::connection_failed(reason, message)
}

#[async_trait]
impl Connector for Loopback {
    fn kind(&self) -> &'static str {
        "loopback"
    }
    fn description(&self) -> &'static str {
        "connects, then refuses every password"
    }
    fn config_schema(&self) -> Value {
        let mut password = json!({ "type": "string", "writeOnly": true });
        if self.0 == Flaw::NoSecretMarked {
            password = json!({ "type": "string" });
        }
        json!({
            "type": "object",
            "additionalProperties": self.0 == Flaw::UnknownFieldsAccepted,
            "required": ["host", "port"],
            "properties": {
                "host": { "type": "string" },
                "port": { "type": "integer" },
                "password": password,
            }
        })
    }
    fn endpoints(&self, config: &ResolvedConfig) -> Result<Vec<Endpoint>> {
        let c = config.expose();
        let port = c["port"].as_u64().and_then(|p| u16::try_from(p).ok());
        Ok(vec![Endpoint::new(
            c["host"].as_str().unwrap_or_default(),
            port.unwrap_or(1),
        )])
    }
    async fn test(&self, config: &ResolvedConfig, deadline: Instant) -> Result<TestReport> {
        let c = config.expose().clone();
        let host = c["host"].as_str().unwrap_or_default().to_owned();
        let port = c["port"].as_u64().unwrap_or(1) as u16;
        if host == UNRESOLVABLE_HOST {
            let reason = if self.0 == Flaw::DnsIsOther {
                FailureReason::Other
            } else {
                FailureReason::Dns
            };
            return Err(failed(reason, format!("cannot resolve {host}")));
        }
        let budget = deadline - Instant::now();
        let cut = match self.0 {
            Flaw::GivesUpEarly => Instant::now() + budget / 2,
            Flaw::IgnoresDeadline => deadline + budget * 3,
            _ => deadline,
        };
        let mut stream = match timeout_at(cut, TcpStream::connect((host.as_str(), port))).await {
            Err(_) => return Err(failed(FailureReason::Timeout, "no answer")),
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                let reason = if self.0 == Flaw::RefusedIsOther {
                    FailureReason::Other
                } else {
                    FailureReason::Refused
                };
                return Err(failed(reason, e.to_string()));
            }
            Ok(Err(e)) => return Err(failed(FailureReason::Other, e.to_string())),
            Ok(Ok(stream)) => stream,
        };
        // The server speaks first; a silent one is a timeout at the cut.
        let mut greeting = [0u8; 8];
        if timeout_at(cut, stream.read(&mut greeting)).await.is_err() {
            return Err(failed(FailureReason::Timeout, "no greeting"));
        }
        let password = c["password"].as_str().unwrap_or_default();
        match self.0 {
            Flaw::LogsSecret => tracing::warn!("logging in with {password}"),
            Flaw::QuotesPartOfSecret => {
                // A URL parser splitting user info at its first `@`.
                let head = password.split('@').next().unwrap_or_default();
                return Err(failed(FailureReason::Auth, format!("bad password {head}…")));
            }
            _ => {}
        }
        Err(failed(FailureReason::Auth, "wrong password"))
    }
}

/// A loopback server that greets every connection and holds it.
struct Greeter {
    port: u16,
    task: JoinHandle<()>,
}

impl Greeter {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let task = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((mut s, _)) = listener.accept().await {
                let _ = s.write_all(b"hello\n").await;
                held.push(s);
            }
        });
        Self { port, task }
    }
}

impl Drop for Greeter {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The fixture the connector crates write, for this connector.
struct Fx(Flaw);

#[async_trait]
impl Fixture for Fx {
    fn connector(&self) -> Arc<dyn Connector> {
        Arc::new(Loopback(self.0))
    }
    fn secret_fields(&self) -> &'static [&'static str] {
        &["password"]
    }
    fn config_at(&self, host: &str, port: u16) -> Value {
        json!({ "host": host, "port": port })
    }
    async fn live(&self) -> Option<Live> {
        let server = Greeter::start().await;
        let config = json!({ "host": "127.0.0.1", "port": server.port });
        Some(Live::guarded(vec![config], server))
    }
}

/// Runs one case in a task of its own: whether it failed (panicked).
async fn fails(case: &'static str, flaw: Flaw) -> bool {
    let run = tokio::spawn(async move {
        let f = Fx(flaw);
        match case {
            "schema_is_valid" => cases::schema_is_valid(&f),
            "secrets_are_marked" => cases::secrets_are_marked(&f),
            "sentinel_never_leaks" => cases::sentinel_never_leaks(&f).await,
            "deadline_is_honoured" => cases::deadline_is_honoured(&f).await,
            "refused_is_fast" => cases::refused_is_fast(&f).await,
            "unresolvable_is_dns" => cases::unresolvable_is_dns(&f).await,
            other => panic!("no case {other}"),
        }
    });
    match run.await {
        Ok(()) => false,
        Err(e) if e.is_panic() => true,
        Err(e) => panic!("{case}: {e}"),
    }
}

const CASES: &[&str] = &[
    "schema_is_valid",
    "secrets_are_marked",
    "sentinel_never_leaks",
    "deadline_is_honoured",
    "refused_is_fast",
    "unresolvable_is_dns",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sound_connector_passes_every_case() {
    for case in CASES {
        assert!(
            !fails(case, Flaw::None).await,
            "{case} failed a sound connector"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_flaw_fails_its_case() {
    for (flaw, case) in [
        (Flaw::LogsSecret, "sentinel_never_leaks"),
        (Flaw::QuotesPartOfSecret, "sentinel_never_leaks"),
        (Flaw::NoSecretMarked, "sentinel_never_leaks"),
        (Flaw::NoSecretMarked, "secrets_are_marked"),
        (Flaw::UnknownFieldsAccepted, "schema_is_valid"),
        (Flaw::IgnoresDeadline, "deadline_is_honoured"),
        (Flaw::GivesUpEarly, "deadline_is_honoured"),
        (Flaw::RefusedIsOther, "refused_is_fast"),
        (Flaw::DnsIsOther, "unresolvable_is_dns"),
    ] {
        assert!(fails(case, flaw).await, "{case} passed with {flaw:?}");
    }
}
