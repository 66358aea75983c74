//! The NATS config: servers, one way to authenticate, TLS, JetStream domain.

use patchbay_core::{Endpoint, FieldError, Secret};
use schemars::JsonSchema;
use serde::Deserialize;

/// Port used when a server gives none.
pub const DEFAULT_PORT: u16 = 4222;

/// A NATS connection profile's config.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
// The rules of `check` between fields, stated in the schema too: username
// and password go together; one of them, `token` or `credentials`.
#[schemars(extend("allOf" = [
    {
        "if": { "required": ["username"], "properties": { "username": { "type": "string" } } },
        "then": { "required": ["password"], "properties": { "password": { "type": "string" } } }
    },
    {
        "if": { "required": ["password"], "properties": { "password": { "type": "string" } } },
        "then": { "required": ["username"], "properties": { "username": { "type": "string" } } }
    },
    {
        "if": { "required": ["token"], "properties": { "token": { "type": "string" } } },
        "then": { "properties": {
            "username": { "type": "null" }, "password": { "type": "null" }, "credentials": { "type": "null" }
        } }
    },
    {
        "if": { "required": ["credentials"], "properties": { "credentials": { "type": "string" } } },
        "then": { "properties": { "username": { "type": "null" }, "password": { "type": "null" } } }
    }
]))]
pub struct NatsConfig {
    /// Servers as `host:port`, `nats://host:port` or `tls://host:port`
    /// (port defaults to 4222; `tls://` turns TLS on). Tried in order;
    /// servers the cluster advertises are never contacted.
    #[schemars(length(min = 1, max = 32), inner(regex(pattern = patchbay_core::schema::patterns::NATS_SERVER)))]
    pub servers: Vec<String>,
    /// User name, with `password`.
    #[serde(default)]
    pub username: Option<String>,
    /// Password for `username`, or a reference such as `{{ env:NATS_PASSWORD }}`.
    #[serde(default)]
    pub password: Option<Secret>,
    /// Authentication token.
    #[serde(default)]
    pub token: Option<Secret>,
    /// Contents of a `.creds` file (user JWT and NKey seed).
    #[serde(default)]
    pub credentials: Option<Secret>,
    /// JetStream domain for stream autocomplete, when not the default.
    #[serde(default)]
    pub jetstream_domain: Option<String>,
    /// TLS settings; plain TCP unless enabled or a server says `tls://`.
    #[serde(default)]
    pub tls: TlsOptions,
}

/// TLS settings.
#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TlsOptions {
    /// Require TLS.
    #[serde(default)]
    pub enabled: bool,
    /// PEM certificate(s) of the CA to trust instead of the public web roots.
    #[serde(default)]
    #[schemars(regex(pattern = patchbay_core::schema::patterns::PEM_CERTIFICATE))]
    pub ca_cert_pem: Option<String>,
    /// Start TLS before the server's INFO (servers with `handshake_first`).
    #[serde(default)]
    pub handshake_first: bool,
}

impl NatsConfig {
    /// Whether any server asks for TLS.
    pub fn tls_required(&self) -> bool {
        self.tls.enabled || self.servers.iter().any(|s| s.trim().starts_with("tls://"))
    }

    /// The parsed servers, in order; unparsable ones are skipped (see [`check`]).
    pub fn endpoints(&self) -> Vec<Endpoint> {
        self.servers
            .iter()
            .filter_map(|s| parse_server(s))
            .collect()
    }
}

/// `host:port` out of `host[:port]`, `nats://…` or `tls://…`. User info in
/// the URL is refused: credentials belong in the secret fields.
pub fn parse_server(s: &str) -> Option<Endpoint> {
    let s = s.trim();
    let rest = s
        .strip_prefix("nats://")
        .or_else(|| s.strip_prefix("tls://"))
        .unwrap_or(s);
    Endpoint::parse(rest.trim_end_matches('/'), Some(DEFAULT_PORT))
}

/// Problems the schema cannot express.
pub fn check(config: &NatsConfig) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (i, s) in config.servers.iter().enumerate() {
        if parse_server(s).is_none() {
            errors.push(FieldError::new(
                format!("/servers/{i}"),
                "expected host:port, nats://host:port or tls://host:port (credentials go in their own fields)",
            ));
        }
    }
    let methods = [
        config.username.is_some() || config.password.is_some(),
        config.token.is_some(),
        config.credentials.is_some(),
    ];
    if methods.iter().filter(|m| **m).count() > 1 {
        errors.push(FieldError::new(
            "/token",
            "use one of username/password, token or credentials",
        ));
    }
    if config.username.is_some() != config.password.is_some() {
        errors.push(FieldError::new(
            "/password",
            "username and password go together",
        ));
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
/// `resolved.config::<NatsConfig>()`.
impl patchbay_core::ConnectorConfig for NatsConfig {
    const KIND: &'static str = "nats";
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: serde_json::Value) -> NatsConfig {
        serde_json::from_value(v).expect("config")
    }

    #[test]
    fn servers_in_every_spelling() {
        let c = parse(json!({ "servers": ["a", "nats://b:4333", "tls://c/"] }));
        let eps: Vec<String> = c.endpoints().iter().map(ToString::to_string).collect();
        assert_eq!(eps, ["a:4222", "b:4333", "c:4222"]);
        assert!(c.tls_required());
        assert!(check(&c).is_empty());
    }

    #[test]
    fn reports_every_problem() {
        let c = parse(json!({
            "servers": ["nats://u:p@host:4222"], "username": "u", "token": "t",
            "tls": { "ca_cert_pem": "x" }
        }));
        let paths: Vec<_> = check(&c).into_iter().map(|e| e.path).collect();
        assert_eq!(
            paths,
            ["/servers/0", "/token", "/password", "/tls/ca_cert_pem"]
        );
    }
}
