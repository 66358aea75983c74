//! What a connector implements: schema, probe and autocomplete.

use std::fmt;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio::time::Instant;

use crate::error::{Error, FieldError, Result};
pub use crate::resolved_config::{CheckedAddrs, ResolvedConfig};

/// Default number of suggestions when the caller gives no limit.
pub const DEFAULT_SUGGESTION_LIMIT: usize = 100;
/// Most suggestions ever returned.
pub const MAX_SUGGESTION_LIMIT: usize = 1000;

/// [`Connector::endpoint_fields`] meaning "every non-secret field".
pub const ALL_FIELDS: &[&str] = &["*"];

/// A system patchbay can connect to (Kafka, Postgres…).
///
/// Connectors are stateless between calls: every probe opens what it needs
/// and closes it before returning, so nothing outlives the call.
///
/// # Contract
///
/// * [`config_schema`](Self::config_schema) is a JSON Schema (draft 2020-12)
///   with `additionalProperties: false`; secret fields are top-level
///   properties marked `writeOnly: true`.
/// * [`test`](Self::test) and [`autocomplete`](Self::autocomplete) return by
///   `deadline` (the service also cuts them off there), never block the async
///   runtime (blocking client calls go to `spawn_blocking`), and report
///   failures as [`Error::ConnectionFailed`] with a classified reason.
/// * Messages never include a secret value.
#[async_trait]
pub trait Connector: Send + Sync + 'static {
    /// The connector kind, such as `"kafka"`.
    fn kind(&self) -> &'static str;

    /// One line for humans.
    fn description(&self) -> &'static str;

    /// JSON Schema of the config; see [`crate::schema::schema_for`].
    fn config_schema(&self) -> Value;

    /// The autocomplete `type`s this connector serves, such as `["topics"]`.
    fn autocomplete_types(&self) -> &'static [&'static str] {
        &[]
    }

    /// Checks beyond the schema (host:port syntax, allow-lists…). Every
    /// problem is returned, with paths relative to the config (`/field`).
    fn check(&self, _config: &Value) -> Vec<FieldError> {
        Vec::new()
    }

    /// Connection URI schemes this connector reads, lower case
    /// (`["postgres", "postgresql"]`); none by default.
    fn uri_schemes(&self) -> &'static [&'static str] {
        &[]
    }

    /// A config from a connection URI whose scheme is one of
    /// [`uri_schemes`](Self::uri_schemes). The service then validates it like
    /// any config. Errors point at `/uri` and never quote the password.
    fn config_from_uri(&self, _uri: &crate::uri::ConnectionUri) -> Result<Value, Vec<FieldError>> {
        Err(vec![FieldError::new(
            "/uri",
            "this connector reads no connection URI",
        )])
    }

    /// A stored config (secrets already split off) as a connection URI,
    /// **never with a secret**; `None` when it has no URI form.
    fn uri_of(&self, _config: &Value) -> Option<String> {
        None
    }

    /// The top-level config fields that decide where this connector's
    /// secrets are sent: hosts, ports, address lists, TLS mode, CA,
    /// verification switches. A change to any of them must come with the
    /// secrets entered again, or the service refuses it (a stored password
    /// never follows a profile to a new host). The default, [`ALL_FIELDS`],
    /// treats every non-secret field so; connectors narrow it.
    fn endpoint_fields(&self) -> &'static [&'static str] {
        ALL_FIELDS
    }

    /// The network endpoints a probe with this config would contact. The
    /// service resolves them and checks the network policy before any probe.
    ///
    /// # Errors
    /// `Validation` when the config names no usable endpoint.
    fn endpoints(&self, config: &ResolvedConfig) -> Result<Vec<Endpoint>>;

    /// Connects, authenticates, asks something real, disconnects. Connect
    /// to [`ResolvedConfig::checked_addrs`] where the client allows it: those
    /// are the addresses the network policy checked.
    ///
    /// # Errors
    /// `ConnectionFailed` with a classified [`FailureReason`](crate::FailureReason).
    async fn test(&self, config: &ResolvedConfig, deadline: Instant) -> Result<TestReport>;

    /// Suggestions for `query`; only called with a type listed in
    /// [`autocomplete_types`](Self::autocomplete_types).
    ///
    /// # Errors
    /// `ConnectionFailed` as for `test`; `Validation` for a bad `parent`.
    async fn autocomplete(
        &self,
        _config: &ResolvedConfig,
        query: &AutocompleteQuery,
        _deadline: Instant,
    ) -> Result<Vec<Suggestion>> {
        Err(Error::Unsupported(format!(
            "the {} connector offers no autocomplete of type {:?}",
            self.kind(),
            query.kind
        )))
    }
}

/// A `host:port` a probe will contact.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Endpoint {
    /// Host name or IP literal (IPv6 without brackets).
    pub host: String,
    /// TCP port.
    pub port: u16,
}

impl Endpoint {
    /// An endpoint.
    pub fn new(host: impl Into<String>, port: u16) -> Self {
        Self {
            host: host.into(),
            port,
        }
    }

    /// Parses `host:port` or `[v6]:port`; `default_port` applies when the
    /// port is absent (if `None`, the port is required).
    pub fn parse(s: &str, default_port: Option<u16>) -> Option<Self> {
        Self::split(s, default_port).map(|(host, port)| Self::new(host, port))
    }

    /// [`parse`](Self::parse) without allocating: the host (a slice of `s`,
    /// IPv6 without brackets) and the port, by the same rules.
    pub fn split(s: &str, default_port: Option<u16>) -> Option<(&str, u16)> {
        let s = s.trim();
        let (host, port) = if let Some(rest) = s.strip_prefix('[') {
            let (host, after) = rest.split_once(']')?;
            match after.strip_prefix(':') {
                Some(p) => (host, Some(p)),
                None if after.is_empty() => (host, None),
                None => return None,
            }
        } else {
            match s.rsplit_once(':') {
                Some((h, p)) if !h.contains(':') => (h, Some(p)),
                Some(_) => return None,
                None => (s, None),
            }
        };
        let port = match port {
            Some(p) => p.parse::<u16>().ok().filter(|p| *p > 0)?,
            None => default_port?,
        };
        let host_ok = !host.is_empty()
            && host.len() <= 253
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':'));
        host_ok.then_some((host, port))
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// A successful test, in the seed's shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestReport {
    /// Always `true`: failures are errors.
    pub success: bool,
    /// Human summary, such as `Connection successful`.
    pub message: String,
    /// Measurements.
    pub details: TestDetails,
}

impl TestReport {
    /// A success with the measured latency.
    pub fn success(latency_ms: u64) -> Self {
        Self {
            success: true,
            message: "Connection successful".to_owned(),
            details: TestDetails {
                latency_ms,
                version: None,
                extra: Map::new(),
            },
        }
    }

    /// Sets the server version as the server reported it.
    pub fn with_version(mut self, version: impl Into<String>) -> Self {
        self.details.version = Some(version.into());
        self
    }

    /// Adds a connector-specific detail, such as `brokers`.
    pub fn with_detail(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.details.extra.insert(key.to_owned(), value.into());
        self
    }
}

/// `details` of a [`TestReport`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestDetails {
    /// Milliseconds from the start of the probe to the server's answer.
    pub latency_ms: u64,
    /// The server's version, only when the server said it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Connector-specific measurements.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An autocomplete request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutocompleteQuery {
    /// What to suggest: `schemas`, `tables`, `topics`…
    pub kind: String,
    /// Parent context, such as the schema for `tables`.
    pub parent: Option<String>,
    /// Only names starting with this (matched literally).
    pub prefix: Option<String>,
    /// At most this many, 1..=[`MAX_SUGGESTION_LIMIT`].
    pub limit: usize,
}

impl AutocompleteQuery {
    /// A query of `kind` with the default limit.
    pub fn new(kind: impl Into<String>) -> Self {
        Self {
            kind: kind.into(),
            parent: None,
            prefix: None,
            limit: DEFAULT_SUGGESTION_LIMIT,
        }
    }
}

/// One suggestion, in the seed's shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suggestion {
    /// What to insert, such as `public.users`.
    pub value: String,
    /// What to show, such as `users`.
    pub label: String,
    /// Singular type, such as `table`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Extra facts: row counts, sizes, partitions…
    #[serde(default)]
    pub metadata: Map<String, Value>,
}
