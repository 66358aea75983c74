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
    /// A control character other than tab, LF and CR: what
    /// [`check_text`](crate::input::check_text) refuses in config strings
    /// (Unicode `Cc`, U+0000–U+001F and U+007F–U+009F).
    macro_rules! control {
        () => {
            "\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F\\x7F-\\x9F"
        };
    }

    /// PEM text with at least one certificate block and no control character
    /// but tab, CR and LF.
    pub const PEM_CERTIFICATE: &str = concat!(
        "^[^",
        control!(),
        "]*-----BEGIN CERTIFICATE-----[^",
        control!(),
        "]*$"
    );
    /// Text without control characters but tab, CR and LF: every config
    /// string the server takes. Added to each published string schema that
    /// has no pattern of its own (see [`ConfigSchema::compile`](super::ConfigSchema::compile)).
    pub const TEXT: &str = concat!("^[^", control!(), "]*$");
    /// One line: no control character at all (object keys).
    pub const LINE: &str = "^[^\\x00-\\x1F\\x7F-\\x9F]*$";
}

/// The schema as published: every string without a pattern of its own gets
/// [`patterns::TEXT`], and every map's keys [`patterns::LINE`], which is what
/// [`input::check_json`](crate::input::check_json) enforces on every config,
/// so a client generating data from the schema sends what is taken.
fn published(mut schema: Value) -> Value {
    tighten(&mut schema);
    schema
}

fn tighten(node: &mut Value) {
    match node {
        Value::Object(map) => {
            let is_string = match map.get("type") {
                Some(Value::String(t)) => t == "string",
                Some(Value::Array(ts)) => ts.iter().any(|t| t == "string"),
                _ => false,
            };
            if is_string && !map.contains_key("pattern") && !map.contains_key("enum") {
                map.insert("pattern".into(), Value::from(patterns::TEXT));
            }
            if map.get("type").is_some_and(|t| t == "object")
                && map
                    .get("additionalProperties")
                    .is_some_and(Value::is_object)
                && !map.contains_key("propertyNames")
            {
                map.insert(
                    "propertyNames".into(),
                    serde_json::json!({ "pattern": patterns::LINE }),
                );
            }
            map.values_mut().for_each(tighten);
        }
        Value::Array(items) => items.iter_mut().for_each(tighten),
        _ => {}
    }
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
        // The validator keeps the connector's own schema: the control
        // characters `published` states are refused by `input::check_json`,
        // with one error per field rather than two.
        let validator = jsonschema::validator_for(&schema)
            .map_err(|e| Error::invalid("/", format!("invalid JSON Schema: {e}")))?;
        let secrets = secret_fields(&schema);
        Ok(Self {
            schema: published(schema),
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
        assert!(!matches(TEXT, "a\0b"));
        for ok in ["", "a b", "tab\there", "two\r\nlines", "é ü 中"] {
            assert!(matches(TEXT, ok), "{ok:?}");
        }
        for bad in ["a\u{1}", "\u{1b}[31m", "\u{7f}", "x\u{85}", "\u{9f}"] {
            assert!(!matches(TEXT, bad), "{bad:?}");
            assert!(
                crate::input::check_text("/x", bad).is_err(),
                "the check refuses what the pattern refuses: {bad:?}"
            );
        }
        assert!(!matches(LINE, "a\tb"));
        assert!(matches(LINE, "bootstrap.servers"));
    }

    #[test]
    fn published_strings_refuse_control_characters() {
        let schema = super::ConfigSchema::compile(json!({
            "type": "object",
            "properties": {
                "user": { "type": ["string", "null"] },
                "host": { "type": "string", "pattern": "^h$" },
                "mode": { "type": "string", "enum": ["a", "b"] },
                "props": { "type": "object", "additionalProperties": { "type": "string" } }
            }
        }))
        .expect("compiles");
        let p = &schema.schema()["properties"];
        assert_eq!(p["user"]["pattern"], TEXT);
        assert_eq!(p["host"]["pattern"], "^h$");
        assert!(p["mode"].get("pattern").is_none());
        assert_eq!(p["props"]["additionalProperties"]["pattern"], TEXT);
        assert_eq!(p["props"]["propertyNames"]["pattern"], LINE);
    }
}
