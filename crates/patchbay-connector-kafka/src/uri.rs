//! `kafka://user:password@broker1:9092,broker2:9092?security_protocol=SASL_SSL&sasl_mechanism=SCRAM-SHA-256`:
//! the bootstrap list as the URI's hosts, SASL credentials as its user info.

use patchbay_core::uri::{ConnectionUri, UriHost};
use patchbay_core::{Endpoint, FieldError};
use serde_json::{json, Map, Value};

const DEFAULT_PORT: u16 = 9092;

pub(crate) fn config_from_uri(uri: &ConnectionUri) -> Result<Value, Vec<FieldError>> {
    let errors = uri.unknown_query(&["security_protocol", "sasl_mechanism"]);
    if !errors.is_empty() {
        return Err(errors);
    }
    let hosts: Vec<String> = uri
        .hosts
        .iter()
        .map(|h| h.with_port(DEFAULT_PORT))
        .collect();
    let mut config = Map::new();
    config.insert("bootstrap_servers".into(), json!(hosts.join(",")));
    let sasl = uri.username.is_some() || uri.password.is_some();
    let protocol = uri
        .query_value("security_protocol")
        .map(str::to_ascii_uppercase)
        .unwrap_or_else(|| if sasl { "SASL_PLAINTEXT" } else { "PLAINTEXT" }.into());
    config.insert("security_protocol".into(), json!(protocol));
    if let Some(m) = uri.query_value("sasl_mechanism") {
        config.insert("sasl_mechanism".into(), json!(m.to_ascii_uppercase()));
    } else if sasl {
        config.insert("sasl_mechanism".into(), json!("PLAIN"));
    }
    if let Some(u) = &uri.username {
        config.insert("sasl_username".into(), json!(u));
    }
    if let Some(p) = &uri.password {
        config.insert("sasl_password".into(), json!(p));
    }
    Ok(Value::Object(config))
}

pub(crate) fn uri_of(config: &Value) -> Option<String> {
    let servers = config.get("bootstrap_servers")?.as_str()?;
    let hosts = servers
        .split(',')
        .map(|s| {
            let ep = Endpoint::parse(s.trim(), Some(DEFAULT_PORT))?;
            let host = if ep.host.contains(':') {
                format!("[{}]", ep.host)
            } else {
                ep.host
            };
            Some(UriHost {
                host,
                port: Some(ep.port),
            })
        })
        .collect::<Option<Vec<_>>>()?;
    let mut query = Vec::new();
    for key in ["security_protocol", "sasl_mechanism"] {
        if let Some(v) = config.get(key).and_then(Value::as_str) {
            query.push((key.to_owned(), v.to_owned()));
        }
    }
    let uri = ConnectionUri {
        scheme: "kafka".into(),
        username: config
            .get("sasl_username")
            .and_then(Value::as_str)
            .map(str::to_owned),
        password: None,
        hosts,
        path: None,
        query,
    };
    Some(uri.render())
}
