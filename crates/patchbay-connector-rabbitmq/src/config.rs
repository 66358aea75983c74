//! The RabbitMQ config: host, port, virtual host, credentials, TLS.

use patchbay_core::{Endpoint, FieldError, Secret};
use schemars::JsonSchema;
use serde::Deserialize;

/// AMQP port.
pub const AMQP_PORT: u16 = 5672;
/// AMQP over TLS port.
pub const AMQPS_PORT: u16 = 5671;

/// A RabbitMQ (AMQP 0-9-1) connection profile's config.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RabbitMqConfig {
    /// Broker host name or IP address.
    #[schemars(length(min = 1, max = 253), regex(pattern = patchbay_core::schema::patterns::HOST))]
    pub host: String,
    /// Broker port; 5672, or 5671 with TLS, when absent.
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub port: Option<u16>,
    /// Virtual host to open.
    #[serde(default = "default_vhost")]
    pub virtual_host: String,
    /// User name (SASL PLAIN).
    #[schemars(length(min = 1))]
    pub username: String,
    /// Password, or a reference such as `{{ env:AMQP_PASSWORD }}`.
    #[serde(default)]
    pub password: Option<Secret>,
    /// TLS settings; plain TCP when absent.
    #[serde(default)]
    pub tls: TlsOptions,
}

fn default_vhost() -> String {
    "/".to_owned()
}

/// TLS settings.
#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TlsOptions {
    /// Connect over TLS (`amqps://`).
    #[serde(default)]
    pub enabled: bool,
    /// PEM certificate(s) of the CA to trust instead of the public web roots.
    #[serde(default)]
    #[schemars(regex(pattern = patchbay_core::schema::patterns::PEM_CERTIFICATE))]
    pub ca_cert_pem: Option<String>,
    /// Name to verify the certificate against, when not `host`.
    #[serde(default)]
    pub server_name: Option<String>,
}

impl RabbitMqConfig {
    /// The broker's endpoint, if `host` is usable.
    pub fn endpoint(&self) -> Option<Endpoint> {
        let default = if self.tls.enabled {
            AMQPS_PORT
        } else {
            AMQP_PORT
        };
        let host = self.host.trim_start_matches('[').trim_end_matches(']');
        let valid = host.parse::<std::net::IpAddr>().is_ok()
            || (!host.contains(':') && Endpoint::parse(&format!("{host}:1"), None).is_some());
        valid.then(|| Endpoint::new(host, self.port.unwrap_or(default)))
    }
}

/// Problems the schema cannot express.
pub fn check(config: &RabbitMqConfig) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if config.host.matches(':').count() == 1 {
        errors.push(FieldError::new(
            "/host",
            "give the port in `port`, not in `host`",
        ));
    } else if config.endpoint().is_none() {
        errors.push(FieldError::new(
            "/host",
            format!("{:?} is not a host name or IP address", config.host),
        ));
    }
    if config.port == Some(0) {
        errors.push(FieldError::new("/port", "port must be 1-65535"));
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
/// `resolved.config::<RabbitMqConfig>()`.
impl patchbay_core::ConnectorConfig for RabbitMqConfig {
    const KIND: &'static str = "rabbitmq";
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: serde_json::Value) -> RabbitMqConfig {
        serde_json::from_value(v).expect("config")
    }

    #[test]
    fn defaults() {
        let c = parse(json!({ "host": "mq.internal", "username": "app" }));
        assert_eq!(c.virtual_host, "/");
        assert_eq!(c.endpoint(), Some(Endpoint::new("mq.internal", 5672)));
        let c = parse(json!({ "host": "::1", "username": "app", "tls": { "enabled": true } }));
        assert_eq!(c.endpoint(), Some(Endpoint::new("::1", 5671)));
        assert!(check(&c).is_empty());
    }

    #[test]
    fn reports_problems() {
        let c = parse(
            json!({ "host": "mq:5672", "username": "u", "port": 0, "tls": { "ca_cert_pem": "x" } }),
        );
        let paths: Vec<_> = check(&c).into_iter().map(|e| e.path).collect();
        assert_eq!(paths, ["/host", "/port", "/tls/ca_cert_pem"]);
        let c = parse(json!({ "host": "bad host", "username": "u" }));
        assert_eq!(check(&c).len(), 1);
    }
}
