//! Config schemas: generated from typed structs, validated with `jsonschema`.

use jsonschema::error::ValidationErrorKind;
use serde_json::Value;

use crate::error::{Error, FieldError, Result};

/// The JSON Schema (draft 2020-12) of a connector's typed config.
///
/// Put `#[serde(deny_unknown_fields)]` on the struct so unknown fields are
/// rejected, and mark secrets with `#[schemars(extend("writeOnly" = true))]`.
pub fn schema_for<T: schemars::JsonSchema>() -> Value {
    serde_json::to_value(schemars::schema_for!(T)).expect("a schema is always JSON")
}

/// Regular expressions for connector config fields, for `#[schemars(regex(
/// pattern = …))]`: what the connectors' own checks accept (each pattern is
/// a subset of it), so that the published schema says it and data generated
/// from the schema is accepted. ECMA-262 syntax, also valid for Rust's
/// `regex` (the validator) and Python's `re` (test generators).
pub mod patterns {
    /// A host name as [`Endpoint::parse`](crate::Endpoint::parse) takes it.
    macro_rules! name {
        () => {
            "[A-Za-z0-9._-]{1,253}"
        };
    }
    /// An IPv6 address in its text forms (no zone, no embedded IPv4).
    macro_rules! ipv6 {
        () => {
            concat!(
                "(([0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}",
                "|([0-9A-Fa-f]{1,4}:){1,7}:",
                "|([0-9A-Fa-f]{1,4}:){1,6}:[0-9A-Fa-f]{1,4}",
                "|([0-9A-Fa-f]{1,4}:){1,5}(:[0-9A-Fa-f]{1,4}){1,2}",
                "|([0-9A-Fa-f]{1,4}:){1,4}(:[0-9A-Fa-f]{1,4}){1,3}",
                "|([0-9A-Fa-f]{1,4}:){1,3}(:[0-9A-Fa-f]{1,4}){1,4}",
                "|([0-9A-Fa-f]{1,4}:){1,2}(:[0-9A-Fa-f]{1,4}){1,5}",
                "|[0-9A-Fa-f]{1,4}:(:[0-9A-Fa-f]{1,4}){1,6}",
                "|:((:[0-9A-Fa-f]{1,4}){1,7}|:))"
            )
        };
    }
    /// A TCP port, 1 to 65535.
    macro_rules! port {
        () => {
            "([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])"
        };
    }
    /// `host[:port]` or `[ipv6][:port]`.
    macro_rules! host_port_opt {
        () => {
            concat!(
                "(",
                name!(),
                "(:",
                port!(),
                ")?|\\[",
                ipv6!(),
                "\\](:",
                port!(),
                ")?)"
            )
        };
    }
    /// `host:port` or `[ipv6]:port`.
    macro_rules! host_port {
        () => {
            concat!("(", name!(), "|\\[", ipv6!(), "\\]):", port!())
        };
    }

    /// A bare host: a name or an IPv6 address, no port, scheme or path.
    pub const HOST: &str = concat!("^(", name!(), "|", ipv6!(), ")$");
    /// `host[:port]` (the port has a default).
    pub const HOST_PORT_OPT: &str = concat!("^", host_port_opt!(), "$");
    /// A comma-separated list of `host:port` (Kafka's bootstrap servers).
    pub const HOST_PORT_LIST: &str = concat!("^ *", host_port!(), " *(, *", host_port!(), " *)*$");
    /// A NATS server: `host[:port]` behind an optional `nats://` or `tls://`.
    pub const NATS_SERVER: &str = concat!("^((nats|tls)://)?", host_port_opt!(), "/?$");
    /// An MQTT broker URL: `mqtt://`, `mqtts://`, `tcp://` or `ssl://`, then
    /// `host[:port]`.
    pub const MQTT_URL: &str = concat!(
        "^([Mm][Qq][Tt][Tt][Ss]?|[Tt][Cc][Pp]|[Ss][Ss][Ll])://",
        host_port_opt!(),
        "/?$"
    );
    /// PEM text with at least one certificate block and no NUL character.
    pub const PEM_CERTIFICATE: &str = "^[^\\x00]*-----BEGIN CERTIFICATE-----[^\\x00]*$";
    /// Text without NUL characters.
    pub const NO_NUL: &str = "^[^\\x00]*$";
}

/// Top-level properties marked `writeOnly: true`.
pub fn secret_fields(schema: &Value) -> Vec<String> {
    schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|props| {
            props
                .iter()
                .filter(|(_, p)| p.get("writeOnly").and_then(Value::as_bool) == Some(true))
                .map(|(name, _)| name.clone())
                .collect()
        })
        .unwrap_or_default()
}

/// A compiled config schema.
pub struct ConfigSchema {
    schema: Value,
    validator: jsonschema::Validator,
    secrets: Vec<String>,
}

impl ConfigSchema {
    /// Compiles `schema`.
    ///
    /// # Errors
    /// `Validation` when `schema` is not a valid JSON Schema.
    pub fn compile(schema: Value) -> Result<Self> {
        let validator = jsonschema::validator_for(&schema)
            .map_err(|e| Error::invalid("/", format!("invalid JSON Schema: {e}")))?;
        let secrets = secret_fields(&schema);
        Ok(Self {
            schema,
            validator,
            secrets,
        })
    }

    /// The schema as published.
    pub fn schema(&self) -> &Value {
        &self.schema
    }

    /// Names of secret fields.
    pub fn secrets(&self) -> &[String] {
        &self.secrets
    }

    /// Whether `field` is a secret.
    pub fn is_secret(&self, field: &str) -> bool {
        self.secrets.iter().any(|s| s == field)
    }

    /// Every schema violation of `config`, paths prefixed with `prefix`.
    /// Unknown fields are reported one by one at their own path. Messages
    /// never quote a secret field's value.
    pub fn validate(&self, config: &Value, prefix: &str) -> Vec<FieldError> {
        let mut out = Vec::new();
        for e in self.validator.iter_errors(config) {
            let path = e.instance_path().to_string();
            if let ValidationErrorKind::AdditionalProperties { unexpected } = e.kind() {
                out.extend(unexpected.iter().map(|field| {
                    let field = field.replace('~', "~0").replace('/', "~1");
                    FieldError::new(format!("{prefix}{path}/{field}"), "is not a known field")
                }));
                continue;
            }
            let top = path.split('/').nth(1).unwrap_or_default();
            let message = if self.is_secret(top) {
                // The default message quotes the value: say it without it.
                "has an invalid value for a secret field".to_owned()
            } else {
                e.to_string()
            };
            out.push(FieldError::new(format!("{prefix}{path}"), message));
        }
        out
    }
}

#[cfg(test)]
mod pattern_tests {
    use super::patterns::*;
    use serde_json::json;

    fn matches(pattern: &str, s: &str) -> bool {
        jsonschema::validator_for(&json!({ "pattern": pattern }))
            .expect("the pattern compiles in the validator")
            .is_valid(&json!(s))
    }

    #[test]
    fn patterns_take_what_the_checks_take() {
        for ok in ["db.local", "127.0.0.1", "::1", "fe80::1:2", "a_b-c"] {
            assert!(matches(HOST, ok), "{ok}");
        }
        for bad in ["db:5432", "db/x", "postgres://db", "[::1]", "", " db"] {
            assert!(!matches(HOST, bad), "{bad}");
        }
        for ok in ["h", "h:6379", "[::1]:7000", "[::1]"] {
            assert!(matches(HOST_PORT_OPT, ok), "{ok}");
        }
        for bad in ["h:0", "h:65536", "h:x", "::1:5"] {
            assert!(!matches(HOST_PORT_OPT, bad), "{bad}");
        }
        assert!(matches(HOST_PORT_LIST, "a:9092, b:9093,[::1]:1"));
        for bad in ["a", "a:9092,", "a:9092,,b:1", "a:99999"] {
            assert!(!matches(HOST_PORT_LIST, bad), "{bad}");
        }
        for ok in ["h", "nats://h:4222", "tls://[::1]:4222/"] {
            assert!(matches(NATS_SERVER, ok), "{ok}");
        }
        assert!(!matches(NATS_SERVER, "nats://u:p@h"));
        for ok in ["mqtt://h", "MQTTS://h:8883/", "tcp://[::1]:1883", "ssl://h"] {
            assert!(matches(MQTT_URL, ok), "{ok}");
        }
        for bad in ["h:1883", "http://h", "mqtt://u@h"] {
            assert!(!matches(MQTT_URL, bad), "{bad}");
        }
        assert!(matches(
            PEM_CERTIFICATE,
            "x\n-----BEGIN CERTIFICATE-----\ny"
        ));
        assert!(!matches(PEM_CERTIFICATE, "-----BEGIN CERTIFICATE-----\0"));
        assert!(!matches(NO_NUL, "a\0b"));
    }
}
