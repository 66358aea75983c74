//! The connector's typed config and its checks (its librdkafka form is
//! `client.rs`).

use std::borrow::Cow;
use std::collections::BTreeMap;

use patchbay_core::{Endpoint, Error, FieldError, Result, Secret};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::properties;

/// How the client talks to the brokers (Kafka's `security.protocol`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum SecurityProtocol {
    /// No TLS, no authentication.
    #[default]
    #[serde(rename = "PLAINTEXT")]
    Plaintext,
    /// TLS, no SASL.
    #[serde(rename = "SSL")]
    Ssl,
    /// SASL without TLS.
    #[serde(rename = "SASL_PLAINTEXT")]
    SaslPlaintext,
    /// SASL over TLS.
    #[serde(rename = "SASL_SSL")]
    SaslSsl,
}

impl SecurityProtocol {
    pub(crate) fn as_rdkafka(self) -> &'static str {
        match self {
            Self::Plaintext => "plaintext",
            Self::Ssl => "ssl",
            Self::SaslPlaintext => "sasl_plaintext",
            Self::SaslSsl => "sasl_ssl",
        }
    }

    /// Whether SASL is used.
    pub fn uses_sasl(self) -> bool {
        matches!(self, Self::SaslPlaintext | Self::SaslSsl)
    }

    /// Whether TLS is used.
    pub fn uses_tls(self) -> bool {
        matches!(self, Self::Ssl | Self::SaslSsl)
    }
}

/// SASL mechanism (Kafka's `sasl.mechanism`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum SaslMechanism {
    /// Username and password sent as is (use with TLS).
    #[serde(rename = "PLAIN")]
    Plain,
    /// Salted challenge-response with SHA-256.
    #[serde(rename = "SCRAM-SHA-256")]
    ScramSha256,
    /// Salted challenge-response with SHA-512.
    #[serde(rename = "SCRAM-SHA-512")]
    ScramSha512,
}

impl SaslMechanism {
    pub(crate) fn as_rdkafka(self) -> &'static str {
        match self {
            Self::Plain => "PLAIN",
            Self::ScramSha256 => "SCRAM-SHA-256",
            Self::ScramSha512 => "SCRAM-SHA-512",
        }
    }
}

/// Most entries a bootstrap list may have.
pub const MAX_BOOTSTRAP_SERVERS: usize = 32;

/// The fields that decide where the SASL password goes and how the brokers
/// are verified (`properties` holds TLS verification and DNS switches).
pub const ENDPOINT_FIELDS: &[&str] = &[
    "bootstrap_servers",
    "security_protocol",
    "sasl_mechanism",
    "ssl_ca_pem",
    "properties",
];

/// Config of a `kafka` profile.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
// The rules of `problems` between fields, stated in the schema too: the
// SASL fields exactly with the SASL protocols, a CA only with TLS.
#[schemars(extend("allOf" = [
    {
        "if": {
            "required": ["security_protocol"],
            "properties": { "security_protocol": { "enum": ["SASL_PLAINTEXT", "SASL_SSL"] } }
        },
        "then": {
            "required": ["sasl_mechanism", "sasl_username", "sasl_password"],
            "properties": {
                "sasl_mechanism": { "not": { "type": "null" } },
                "sasl_username": { "type": "string" },
                "sasl_password": { "type": "string" }
            }
        },
        "else": { "properties": {
            "sasl_mechanism": { "type": "null" },
            "sasl_username": { "type": "null" },
            "sasl_password": { "type": "null" }
        } }
    },
    {
        "if": {
            "required": ["security_protocol"],
            "properties": { "security_protocol": { "enum": ["SSL", "SASL_SSL"] } }
        },
        "else": { "properties": { "ssl_ca_pem": { "type": "null" } } }
    }
]))]
pub struct KafkaConfig {
    /// Comma-separated `host:port` list of bootstrap brokers.
    #[schemars(length(min = 1, max = 4096), regex(pattern = patchbay_core::schema::patterns::HOST_PORT_LIST))]
    pub bootstrap_servers: String,
    /// `PLAINTEXT` (default), `SSL`, `SASL_PLAINTEXT` or `SASL_SSL`.
    #[serde(default)]
    pub security_protocol: SecurityProtocol,
    /// Required with the SASL protocols.
    #[serde(default)]
    pub sasl_mechanism: Option<SaslMechanism>,
    /// SASL user name.
    #[serde(default)]
    #[schemars(length(min = 1, max = 512))]
    pub sasl_username: Option<String>,
    /// SASL password (secret).
    #[serde(default)]
    pub sasl_password: Option<Secret>,
    /// PEM text of the CA certificate(s) that sign the brokers'
    /// certificates; the system roots are used when absent.
    #[serde(default)]
    #[schemars(length(max = 65536), regex(pattern = patchbay_core::schema::patterns::PEM_CERTIFICATE))]
    pub ssl_ca_pem: Option<String>,
    /// Extra librdkafka properties, from an allow-list of tuning knobs.
    #[serde(default)]
    #[schemars(extend(
        "propertyNames" = { "enum": properties::ALLOWED_PROPERTIES },
        "additionalProperties" = { "type": "string", "maxLength": 1024, "pattern": patchbay_core::schema::patterns::TEXT }
    ))]
    pub properties: BTreeMap<String, String>,
}

impl KafkaConfig {
    /// The bootstrap brokers, each with an explicit port.
    ///
    /// # Errors
    /// `Validation` naming the first bad entry.
    pub fn endpoints(&self) -> Result<Vec<Endpoint>> {
        let mut out: Vec<Endpoint> = Vec::new();
        // Each entry is a DNS lookup and a policy check per probe: bounded.
        if self.bootstrap_servers.split(',').count() > MAX_BOOTSTRAP_SERVERS {
            return Err(Error::invalid(
                "/bootstrap_servers",
                format!("must list at most {MAX_BOOTSTRAP_SERVERS} brokers"),
            ));
        }
        for entry in self.bootstrap_servers.split(',') {
            let ep = Endpoint::parse(entry, None).ok_or_else(|| {
                Error::invalid(
                    "/bootstrap_servers",
                    format!("{:?} is not a host:port pair", entry.trim()),
                )
            })?;
            if !out.contains(&ep) {
                out.push(ep);
            }
        }
        Ok(out)
    }

    /// The bootstrap list as librdkafka gets it: `host:port` entries, each
    /// once. Borrowed when the field already has that form (the usual case):
    /// checking it then allocates nothing.
    ///
    /// # Errors
    /// As [`endpoints`](Self::endpoints).
    pub(crate) fn bootstrap_list(&self) -> Result<Cow<'_, str>> {
        if crate::bootstrap::is_canonical_list(&self.bootstrap_servers) {
            return Ok(Cow::Borrowed(&self.bootstrap_servers));
        }
        let servers: Vec<String> = self.endpoints()?.iter().map(ToString::to_string).collect();
        Ok(Cow::Owned(servers.join(",")))
    }

    /// The values of the secret fields, for scrubbing librdkafka's log lines.
    pub(crate) fn secret_values(&self) -> Vec<patchbay_core::secrecy::SecretString> {
        self.sasl_password
            .iter()
            .map(|p| p.expose().into())
            .collect()
    }

    /// Every problem beyond the schema, paths relative to the config.
    pub fn problems(&self) -> Vec<FieldError> {
        self.checked().1
    }

    /// The bootstrap list for librdkafka (`None` when it is invalid) and
    /// every problem beyond the schema: one pass for `client_config`.
    pub(crate) fn checked(&self) -> (Option<Cow<'_, str>>, Vec<FieldError>) {
        let mut errors = Vec::new();
        let servers = match self.bootstrap_list() {
            Ok(list) => Some(list),
            Err(e) => {
                if let Error::Validation(v) = e {
                    errors.extend(v.0);
                }
                None
            }
        };
        let sasl = self.security_protocol.uses_sasl();
        if sasl {
            for (present, field) in [
                (self.sasl_mechanism.is_some(), "sasl_mechanism"),
                (self.sasl_username.is_some(), "sasl_username"),
                (self.sasl_password.is_some(), "sasl_password"),
            ] {
                if !present {
                    errors.push(FieldError::new(
                        format!("/{field}"),
                        "is required with SASL_PLAINTEXT and SASL_SSL",
                    ));
                }
            }
        } else {
            for (present, field) in [
                (self.sasl_mechanism.is_some(), "sasl_mechanism"),
                (self.sasl_username.is_some(), "sasl_username"),
                (self.sasl_password.is_some(), "sasl_password"),
            ] {
                if present {
                    errors.push(FieldError::new(
                        format!("/{field}"),
                        "is only used with SASL_PLAINTEXT and SASL_SSL",
                    ));
                }
            }
        }
        if let Some(pem) = &self.ssl_ca_pem {
            if !self.security_protocol.uses_tls() {
                errors.push(FieldError::new(
                    "/ssl_ca_pem",
                    "is only used with SSL and SASL_SSL",
                ));
            } else if !has_certificate_block(pem) || pem.contains('\0') {
                errors.push(FieldError::new(
                    "/ssl_ca_pem",
                    "must be PEM text with a CERTIFICATE block",
                ));
            }
        }
        errors.extend(properties::check(&self.properties));
        (servers, errors)
    }
}

/// Whether `pem` has a certificate block (it usually starts with one: no
/// substring search then).
fn has_certificate_block(pem: &str) -> bool {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    pem.starts_with(BEGIN) || pem.contains(BEGIN)
}

/// Typed, kind-checked access from a resolved profile:
/// `resolved.config::<KafkaConfig>()`.
impl patchbay_core::ConnectorConfig for KafkaConfig {
    const KIND: &'static str = "kafka";
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(brokers: usize) -> KafkaConfig {
        let list: Vec<String> = (0..brokers).map(|i| format!("b{i}:9092")).collect();
        serde_json::from_value(serde_json::json!({ "bootstrap_servers": list.join(",") })).unwrap()
    }

    #[test]
    fn the_bootstrap_list_is_the_endpoints_written_out() {
        let parse = |list: &str| -> KafkaConfig {
            serde_json::from_value(serde_json::json!({ "bootstrap_servers": list })).unwrap()
        };
        for list in [
            "a:9092",
            "a:9092,b:9093",
            "[::1]:9092,127.0.0.1:9092",
            " a:9092",
            "a:9092 ,b:9093",
            "[host]:9092",
            "a:09092",
            "a:+9092",
            "a:9092,a:9092",
            "a:9092,b:1,a:9092",
        ] {
            let config = parse(list);
            let written: Vec<String> = config
                .endpoints()
                .unwrap()
                .iter()
                .map(ToString::to_string)
                .collect();
            let list_out = config.bootstrap_list().unwrap();
            assert_eq!(list_out, written.join(","), "{list:?}");
            assert_eq!(
                matches!(list_out, Cow::Borrowed(_)),
                list_out == list,
                "{list:?}"
            );
        }
        for bad in ["a", "a:0", "a:99999", "a:1,", "[::1:1", "a b:1"] {
            let problems = parse(bad).problems();
            assert_eq!(problems.len(), 1, "{bad:?}: {problems:?}");
            assert_eq!(problems[0].path, "/bootstrap_servers");
        }
    }

    #[test]
    fn bootstrap_lists_are_capped() {
        assert_eq!(config(MAX_BOOTSTRAP_SERVERS).endpoints().unwrap().len(), 32);
        let problems = config(MAX_BOOTSTRAP_SERVERS + 1).problems();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].path, "/bootstrap_servers");
        assert!(problems[0].message.contains("at most 32"));
    }
}
