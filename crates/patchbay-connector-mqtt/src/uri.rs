//! `mqtt://user:password@host:1883` and `mqtts://` (TLS): the URL without its
//! user info becomes the config's `url`.

use patchbay_core::uri::ConnectionUri;
use patchbay_core::FieldError;
use serde_json::{json, Map, Value};

use crate::config::parse_url;

pub(crate) fn config_from_uri(uri: &ConnectionUri) -> Result<Value, Vec<FieldError>> {
    let mut errors = uri.unknown_query(&["client_id_prefix"]);
    if uri.path.is_some() {
        errors.push(FieldError::new("/uri", "an MQTT URI has no path"));
    }
    let host = uri.single_host().map_err(|e| vec![e])?;
    let mut config = Map::new();
    let url = match host.port {
        Some(p) => format!("{}://{}:{p}", uri.scheme, host.host),
        None => format!("{}://{}", uri.scheme, host.host),
    };
    config.insert("url".into(), json!(url));
    if let Some(u) = &uri.username {
        config.insert("username".into(), json!(u));
    }
    if let Some(p) = &uri.password {
        config.insert("password".into(), json!(p));
    }
    if let Some(prefix) = uri.query_value("client_id_prefix") {
        config.insert("client_id_prefix".into(), json!(prefix));
    }
    if errors.is_empty() {
        Ok(Value::Object(config))
    } else {
        Err(errors)
    }
}

pub(crate) fn uri_of(config: &Value) -> Option<String> {
    let broker = parse_url(config.get("url")?.as_str()?)?;
    let tls = broker.tls
        || config
            .pointer("/tls/enabled")
            .and_then(Value::as_bool)
            .unwrap_or(false);
    let ep = broker.endpoint;
    let host = if ep.host.contains(':') {
        format!("[{}]", ep.host)
    } else {
        ep.host
    };
    let query = config
        .get("client_id_prefix")
        .and_then(Value::as_str)
        .filter(|p| *p != "patchbay")
        .map(|p| vec![("client_id_prefix".to_owned(), p.to_owned())])
        .unwrap_or_default();
    let uri = ConnectionUri {
        scheme: if tls { "mqtts" } else { "mqtt" }.into(),
        username: config
            .get("username")
            .and_then(Value::as_str)
            .map(str::to_owned),
        password: None,
        hosts: vec![patchbay_core::uri::UriHost {
            host,
            port: Some(ep.port),
        }],
        path: None,
        query,
    };
    Some(uri.render())
}
