//! The MQTT config: broker URL, credentials, client id prefix, TLS.

use patchbay_core::{Endpoint, FieldError, Secret};
use schemars::JsonSchema;
use serde::Deserialize;

/// MQTT port.
pub const MQTT_PORT: u16 = 1883;
/// MQTT over TLS port.
pub const MQTTS_PORT: u16 = 8883;

/// An MQTT (3.1.1) connection profile's config.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
// The rule of `check` between fields, stated in the schema too.
#[schemars(extend(
    "if" = { "required": ["password"], "properties": { "password": { "type": "string" } } },
    "then" = { "required": ["username"], "properties": { "username": { "type": "string" } } }
))]
pub struct MqttConfig {
    /// Broker URL: `mqtt://host[:port]` (1883) or `mqtts://host[:port]`
    /// (8883, TLS); `tcp://` and `ssl://` are accepted too. No credentials
    /// in the URL.
    #[schemars(length(min = 1, max = 300), regex(pattern = patchbay_core::schema::patterns::MQTT_URL))]
    pub url: String,
    /// User name.
    #[serde(default)]
    pub username: Option<String>,
    /// Password, or a reference such as `{{ env:MQTT_PASSWORD }}`; needs
    /// `username` (MQTT 3.1.1).
    #[serde(default)]
    pub password: Option<Secret>,
    /// Start of the client id; a random suffix keeps probes from kicking
    /// each other (or a live client) off the broker.
    #[serde(default = "default_prefix")]
    #[schemars(length(min = 1, max = 14), regex(pattern = r"^[0-9A-Za-z_-]+$"))]
    pub client_id_prefix: String,
    /// TLS settings (TLS is on when `enabled` or the URL is `mqtts://`).
    #[serde(default)]
    pub tls: TlsOptions,
}

fn default_prefix() -> String {
    "patchbay".to_owned()
}

/// TLS settings.
#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TlsOptions {
    /// Use TLS even with an `mqtt://` URL.
    #[serde(default)]
    pub enabled: bool,
    /// PEM certificate(s) of the CA to trust instead of the public web roots.
    #[serde(default)]
    #[schemars(regex(pattern = patchbay_core::schema::patterns::PEM_CERTIFICATE))]
    pub ca_cert_pem: Option<String>,
}

/// A parsed broker URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broker {
    /// Where to connect.
    pub endpoint: Endpoint,
    /// Whether the URL asks for TLS.
    pub tls: bool,
}

/// Parses `mqtt://`, `mqtts://`, `tcp://`, `ssl://` URLs.
pub fn parse_url(url: &str) -> Option<Broker> {
    let (scheme, rest) = url.trim().split_once("://")?;
    let tls = match scheme.to_ascii_lowercase().as_str() {
        "mqtt" | "tcp" => false,
        "mqtts" | "ssl" => true,
        _ => return None,
    };
    let default = if tls { MQTTS_PORT } else { MQTT_PORT };
    let endpoint = Endpoint::parse(rest.trim_end_matches('/'), Some(default))?;
    Some(Broker { endpoint, tls })
}

impl MqttConfig {
    /// The broker, if the URL parses.
    pub fn broker(&self) -> Option<Broker> {
        parse_url(&self.url)
    }

    /// Whether the connection uses TLS.
    pub fn tls(&self) -> bool {
        self.tls.enabled || self.broker().is_some_and(|b| b.tls)
    }
}

/// Problems the schema cannot express.
pub fn check(config: &MqttConfig) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if config.broker().is_none() {
        errors.push(FieldError::new(
            "/url",
            "expected mqtt://host[:port] or mqtts://host[:port] (credentials go in their own fields)",
        ));
    }
    if config.password.is_some() && config.username.is_none() {
        errors.push(FieldError::new(
            "/username",
            "MQTT 3.1.1 sends a password only with a user name",
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
/// `resolved.config::<MqttConfig>()`.
impl patchbay_core::ConnectorConfig for MqttConfig {
    const KIND: &'static str = "mqtt";
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn urls() {
        let b = parse_url("mqtt://broker.local").unwrap();
        assert_eq!(
            (b.endpoint.to_string(), b.tls),
            ("broker.local:1883".to_owned(), false)
        );
        let b = parse_url("mqtts://[::1]:9000/").unwrap();
        assert_eq!(
            (b.endpoint.to_string(), b.tls),
            ("[::1]:9000".to_owned(), true)
        );
        assert!(parse_url("mqtt://user:pw@host").is_none());
        assert!(parse_url("http://host").is_none());
        assert!(parse_url("host:1883").is_none());
    }

    #[test]
    fn reports_problems() {
        let c: MqttConfig = serde_json::from_value(json!({
            "url": "broker", "password": "p", "tls": { "ca_cert_pem": "x" }
        }))
        .unwrap();
        let paths: Vec<_> = check(&c).into_iter().map(|e| e.path).collect();
        assert_eq!(paths, ["/url", "/username", "/tls/ca_cert_pem"]);
        assert_eq!(c.client_id_prefix, "patchbay");
    }
}
