//! The Redis config: what users type into a profile, and its checks.

use patchbay_core::{Endpoint, FieldError, Secret};
use schemars::JsonSchema;
use serde::Deserialize;

/// Port used when an address gives none.
pub const DEFAULT_PORT: u16 = 6379;

/// A Redis connection profile's config.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
// The rules of `check` between fields, stated in the schema too.
#[schemars(extend("allOf" = [
    {
        "if": { "required": ["mode"], "properties": { "mode": { "const": "cluster" } } },
        "then": { "properties": { "database": { "const": 0 } } },
        "else": { "properties": { "addresses": { "maxItems": 1 } } }
    },
    {
        "if": { "required": ["username"], "properties": { "username": { "type": "string" } } },
        "then": { "required": ["password"], "properties": { "password": { "type": "string" } } }
    }
]))]
pub struct RedisConfig {
    /// `standalone` (one server) or `cluster` (nodes of a Redis Cluster).
    #[serde(default)]
    pub mode: Mode,
    /// `host:port` of the server, or of cluster nodes (port defaults to 6379).
    /// In cluster mode, key autocomplete scans every node listed here.
    #[schemars(length(min = 1, max = 64), inner(regex(pattern = patchbay_core::schema::patterns::HOST_PORT_OPT)))]
    pub addresses: Vec<String>,
    /// Logical database to select (standalone only; clusters have only 0).
    #[serde(default)]
    #[schemars(range(max = 1_000_000))]
    pub database: u32,
    /// ACL user name (Redis 6+); without it `password` authenticates the
    /// `default` user.
    #[serde(default)]
    pub username: Option<String>,
    /// Password, or a reference such as `{{ env:REDIS_PASSWORD }}`.
    #[serde(default)]
    pub password: Option<Secret>,
    /// TLS settings; plain TCP when absent.
    #[serde(default)]
    pub tls: TlsOptions,
}

/// Deployment shape.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// One server.
    #[default]
    Standalone,
    /// A Redis Cluster.
    Cluster,
}

/// TLS settings.
#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TlsOptions {
    /// Connect over TLS (`rediss://`).
    #[serde(default)]
    pub enabled: bool,
    /// PEM certificate(s) of the CA to trust instead of the system roots.
    #[serde(default)]
    #[schemars(regex(pattern = patchbay_core::schema::patterns::PEM_CERTIFICATE))]
    pub ca_cert_pem: Option<String>,
    /// Accept any certificate and host name. For testing only.
    #[serde(default)]
    pub insecure_skip_verify: bool,
}

impl RedisConfig {
    /// The parsed addresses, in order; unparsable ones are skipped (see
    /// [`check`]).
    pub fn endpoints(&self) -> Vec<Endpoint> {
        self.addresses
            .iter()
            .filter_map(|a| Endpoint::parse(a, Some(DEFAULT_PORT)))
            .collect()
    }
}

/// Problems the schema cannot express.
pub fn check(config: &RedisConfig) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (i, a) in config.addresses.iter().enumerate() {
        if Endpoint::parse(a, Some(DEFAULT_PORT)).is_none() {
            errors.push(FieldError::new(
                format!("/addresses/{i}"),
                format!("{a:?} is not host:port"),
            ));
        }
    }
    if config.mode == Mode::Standalone && config.addresses.len() > 1 {
        errors.push(FieldError::new(
            "/addresses",
            "standalone mode takes exactly one address; use mode \"cluster\" for several",
        ));
    }
    if config.mode == Mode::Cluster && config.database != 0 {
        errors.push(FieldError::new(
            "/database",
            "Redis Cluster has only database 0",
        ));
    }
    if config.username.is_some() && config.password.is_none() {
        errors.push(FieldError::new("/password", "a username needs a password"));
    }
    if let Some(pem) = &config.tls.ca_cert_pem {
        if !pem.contains("-----BEGIN CERTIFICATE-----") {
            errors.push(FieldError::new(
                "/tls/ca_cert_pem",
                "expected a PEM certificate",
            ));
        }
    }
    errors
}

/// Typed, kind-checked access from a resolved profile:
/// `resolved.config::<RedisConfig>()`.
impl patchbay_core::ConnectorConfig for RedisConfig {
    const KIND: &'static str = "redis";
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: serde_json::Value) -> RedisConfig {
        serde_json::from_value(v).expect("config")
    }

    #[test]
    fn defaults_and_ports() {
        let c = parse(serde_json::json!({ "addresses": ["cache.internal"] }));
        assert_eq!(c.mode, Mode::Standalone);
        assert_eq!(c.endpoints(), vec![Endpoint::new("cache.internal", 6379)]);
        assert!(check(&c).is_empty());
    }

    #[test]
    fn reports_every_problem() {
        let c = parse(serde_json::json!({
            "addresses": ["a:1", "b:x"], "database": 2, "username": "u",
            "tls": { "enabled": true, "ca_cert_pem": "nope" }
        }));
        let paths: Vec<_> = check(&c).into_iter().map(|e| e.path).collect();
        assert_eq!(
            paths,
            [
                "/addresses/1",
                "/addresses",
                "/password",
                "/tls/ca_cert_pem"
            ]
        );
        let c =
            parse(serde_json::json!({ "mode": "cluster", "addresses": ["a", "b"], "database": 1 }));
        let paths: Vec<_> = check(&c).into_iter().map(|e| e.path).collect();
        assert_eq!(paths, ["/database"]);
    }

    #[test]
    fn rejects_unknown_fields() {
        let r = serde_json::from_value::<RedisConfig>(
            serde_json::json!({ "addresses": ["a"], "host": "x" }),
        );
        assert!(r.is_err());
    }
}
