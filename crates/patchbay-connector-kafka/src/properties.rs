//! Which extra librdkafka properties a profile may set.
//!
//! A profile is user input that makes this process open connections, so the
//! extra map is an allow-list: tuning knobs only. Anything that reads a local
//! file, loads code, runs a command or redirects traffic is refused, and so
//! is anything the typed fields already cover.

use patchbay_core::FieldError;
use std::collections::BTreeMap;

/// Extra properties a profile may set: socket, reconnect, protocol and TLS
/// tuning that reads no file and contacts nothing new.
pub const ALLOWED_PROPERTIES: &[&str] = &[
    "api.version.request",
    "api.version.fallback.ms",
    "broker.address.family",
    "broker.address.ttl",
    "broker.version.fallback",
    "client.dns.lookup",
    "client.id",
    "client.rack",
    "connections.max.idle.ms",
    "enable.ssl.certificate.verification",
    "max.in.flight.requests.per.connection",
    "message.max.bytes",
    "metadata.max.age.ms",
    "receive.message.max.bytes",
    "reconnect.backoff.max.ms",
    "reconnect.backoff.ms",
    "socket.keepalive.enable",
    "socket.nagle.disable",
    "socket.receive.buffer.bytes",
    "socket.send.buffer.bytes",
    "ssl.cipher.suites",
    "ssl.curves.list",
    "ssl.endpoint.identification.algorithm",
    "ssl.sigalgs.list",
    "topic.metadata.refresh.interval.ms",
];

/// Properties the typed config fields own, with the field to use instead.
const TYPED: &[(&str, &str)] = &[
    ("bootstrap.servers", "bootstrap_servers"),
    ("metadata.broker.list", "bootstrap_servers"),
    ("security.protocol", "security_protocol"),
    ("sasl.mechanism", "sasl_mechanism"),
    ("sasl.mechanisms", "sasl_mechanism"),
    ("sasl.username", "sasl_username"),
    ("sasl.password", "sasl_password"),
    ("ssl.ca.pem", "ssl_ca_pem"),
];

/// Longest accepted property value.
const MAX_VALUE_LEN: usize = 1024;

/// Whether `name` reads local files or loads/runs code, so it is refused
/// with a message saying so (not just "not allowed").
fn reads_files_or_loads_code(name: &str) -> bool {
    name.ends_with(".location")
        || name.ends_with(".file")
        || name.ends_with(".keytab")
        || name.ends_with(".cmd")
        || name.starts_with("plugin.")
        || name.starts_with("ssl.engine")
        || name.starts_with("ssl_engine")
        || name == "ssl.providers"
        || name == "ssl.ca.certificate.stores"
        || name.ends_with("_cb")
        || name == "opaque"
}

/// Every problem with the `properties` map; paths are `/properties/<name>`.
pub fn check(properties: &BTreeMap<String, String>) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (name, value) in properties {
        // The usual case first: an allowed name (none of them is refused
        // below; see the tests) needs only its value checked.
        if ALLOWED_PROPERTIES.contains(&name.as_str())
            && value.len() <= MAX_VALUE_LEN
            && !value.contains('\0')
        {
            continue;
        }
        // Built only for a problem: a valid map costs no allocation.
        let path = || format!("/properties/{}", name.replace('~', "~0").replace('/', "~1"));
        if reads_files_or_loads_code(name) {
            errors.push(FieldError::new(
                path(),
                format!("{name} reads local files or loads code and is refused"),
            ));
        } else if let Some((_, field)) = TYPED.iter().find(|(p, _)| p == name) {
            errors.push(FieldError::new(
                path(),
                format!("set {name} with the {field} field"),
            ));
        } else if !ALLOWED_PROPERTIES.contains(&name.as_str()) {
            errors.push(FieldError::new(
                path(),
                format!(
                    "{name} is not an allowed property (allowed: {})",
                    ALLOWED_PROPERTIES.join(", ")
                ),
            ));
        } else if value.len() > MAX_VALUE_LEN || value.contains('\0') {
            errors.push(FieldError::new(
                path(),
                format!("must be at most {MAX_VALUE_LEN} bytes without NUL characters"),
            ));
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(name: &str, value: &str) -> Vec<FieldError> {
        check(&BTreeMap::from([(name.to_owned(), value.to_owned())]))
    }

    #[test]
    fn file_and_code_loading_properties_are_refused() {
        for name in [
            "ssl.key.location",
            "ssl.ca.location",
            "ssl.keystore.location",
            "plugin.library.paths",
            "sasl.kerberos.kinit.cmd",
            "sasl.kerberos.keytab",
            "ssl.engine.location",
            "sasl.oauthbearer.assertion.file",
            "ssl.providers",
        ] {
            let errors = one(name, "/etc/passwd");
            assert_eq!(errors.len(), 1, "{name}");
            assert!(
                errors[0]
                    .message
                    .contains("reads local files or loads code"),
                "{name}: {errors:?}"
            );
            assert_eq!(errors[0].path, format!("/properties/{name}"));
        }
    }

    #[test]
    fn typed_fields_and_unknown_names_are_refused() {
        assert!(one("bootstrap.servers", "evil:9092")[0]
            .message
            .contains("bootstrap_servers"));
        assert!(one("sasl.password", "x")[0]
            .message
            .contains("sasl_password"));
        assert!(one("debug", "all")[0]
            .message
            .contains("not an allowed property"));
        assert!(one("client.id", "a\0b")[0].message.contains("NUL"));
    }

    #[test]
    fn the_allow_list_refuses_nothing_itself() {
        for name in ALLOWED_PROPERTIES {
            assert!(!reads_files_or_loads_code(name), "{name}");
            assert!(!TYPED.iter().any(|(p, _)| p == name), "{name}");
        }
    }

    #[test]
    fn tuning_properties_pass() {
        assert!(one("client.id", "billing").is_empty());
        assert!(one("socket.keepalive.enable", "true").is_empty());
        assert!(one("ssl.endpoint.identification.algorithm", "none").is_empty());
    }
}
