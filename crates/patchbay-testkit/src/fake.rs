//! A scripted connector for testing the service itself: it records calls,
//! sleeps, fails on demand, and can be told to misbehave (echo its secret).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use patchbay_core::schema::schema_for;
use patchbay_core::{
    async_trait, AutocompleteQuery, Connector, Endpoint, Error, FailureReason, FieldError,
    ResolvedConfig, Result, Secret, Suggestion, TestReport,
};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;
use tokio::time::Instant;

/// What the fake does when probed.
#[derive(Debug, Clone, Copy, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Succeed at once.
    #[default]
    Ok,
    /// Fail with `auth`, quoting the password (the service must scrub it).
    LeakyAuthFailure,
    /// Sleep `sleep_ms`, ignoring the deadline (the service must cut it off).
    Sleep,
}

/// The fake's typed config.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FakeConfig {
    /// Host to "contact" (checked against the network policy).
    pub host: String,
    /// Port.
    #[serde(default = "default_port")]
    pub port: u16,
    /// A secret.
    #[serde(default)]
    pub password: Option<Secret>,
    /// Behaviour.
    #[serde(default)]
    pub mode: Mode,
    /// For `sleep`.
    #[serde(default)]
    pub sleep_ms: u64,
}

fn default_port() -> u16 {
    1
}

/// Counters shared with the test.
#[derive(Debug, Default)]
pub struct Calls {
    /// Probes started.
    pub started: AtomicUsize,
    /// Probes running now.
    pub running: AtomicUsize,
    /// Most probes seen running at once.
    pub max_running: AtomicUsize,
}

/// Kind `fake`. Clone it to keep a handle on [`Calls`].
#[derive(Clone, Default)]
pub struct FakeConnector {
    /// What happened.
    pub calls: Arc<Calls>,
}

struct Running<'a>(&'a Calls);

impl<'a> Running<'a> {
    fn enter(calls: &'a Calls) -> Self {
        calls.started.fetch_add(1, Ordering::SeqCst);
        let now = calls.running.fetch_add(1, Ordering::SeqCst) + 1;
        calls.max_running.fetch_max(now, Ordering::SeqCst);
        Self(calls)
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.running.fetch_sub(1, Ordering::SeqCst);
    }
}

impl FakeConnector {
    async fn run(&self, config: &ResolvedConfig) -> Result<FakeConfig> {
        let _running = Running::enter(&self.calls);
        let cfg: FakeConfig = config.parse()?;
        match cfg.mode {
            Mode::Ok => {}
            Mode::Sleep => tokio::time::sleep(Duration::from_millis(cfg.sleep_ms)).await,
            Mode::LeakyAuthFailure => {
                let pw = cfg
                    .password
                    .as_ref()
                    .map(|p| p.expose().to_owned())
                    .unwrap_or_default();
                return Err(Error::connection_failed(
                    FailureReason::Auth,
                    format!("password '{pw}' rejected for {}", cfg.host),
                ));
            }
        }
        Ok(cfg)
    }
}

#[async_trait]
impl Connector for FakeConnector {
    fn kind(&self) -> &'static str {
        "fake"
    }

    /// Where its secrets go: a change here needs them entered again.
    fn endpoint_fields(&self) -> &'static [&'static str] {
        &["host", "port"]
    }

    fn description(&self) -> &'static str {
        "A scripted connector for tests"
    }

    fn config_schema(&self) -> Value {
        schema_for::<FakeConfig>()
    }

    fn autocomplete_types(&self) -> &'static [&'static str] {
        &["things"]
    }

    fn check(&self, config: &Value) -> Vec<FieldError> {
        match config.get("host").and_then(Value::as_str) {
            Some("") => vec![FieldError::new("/host", "must not be empty")],
            _ => Vec::new(),
        }
    }

    fn endpoints(&self, config: &ResolvedConfig) -> Result<Vec<Endpoint>> {
        let cfg: FakeConfig = config.parse()?;
        Ok(vec![Endpoint::new(cfg.host, cfg.port)])
    }

    async fn test(&self, config: &ResolvedConfig, _deadline: Instant) -> Result<TestReport> {
        let start = Instant::now();
        self.run(config).await?;
        Ok(TestReport::success(start.elapsed().as_millis() as u64).with_version("fake-1.0"))
    }

    async fn autocomplete(
        &self,
        config: &ResolvedConfig,
        query: &AutocompleteQuery,
        _deadline: Instant,
    ) -> Result<Vec<Suggestion>> {
        self.run(config).await?;
        let prefix = query.prefix.clone().unwrap_or_default();
        Ok((0..3)
            .map(|i| format!("{prefix}thing{i}"))
            .take(query.limit)
            .map(|v| Suggestion {
                label: v.clone(),
                value: v,
                kind: "thing".into(),
                metadata: Default::default(),
            })
            .collect())
    }
}

/// Typed, kind-checked access from a resolved `fake` profile.
impl patchbay_core::ConnectorConfig for FakeConfig {
    const KIND: &'static str = "fake";
}
