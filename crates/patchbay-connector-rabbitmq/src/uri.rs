//! `amqp://user:password@host:5672/vhost` and `amqps://` (TLS), as RabbitMQ's
//! URI spec: the path is the percent-encoded virtual host (`%2F` is `/`, the
//! default when there is no path).

use patchbay_core::uri::{ConnectionUri, UriHost};
use patchbay_core::FieldError;
use serde_json::{json, Map, Value};

pub(crate) fn config_from_uri(uri: &ConnectionUri) -> Result<Value, Vec<FieldError>> {
    let errors = uri.unknown_query(&["server_name"]);
    if !errors.is_empty() {
        return Err(errors);
    }
    let host = uri.single_host().map_err(|e| vec![e])?;
    let mut config = Map::new();
    config.insert(
        "host".into(),
        json!(host.host.trim_start_matches('[').trim_end_matches(']')),
    );
    if let Some(p) = host.port {
        config.insert("port".into(), json!(p));
    }
    config.insert(
        "virtual_host".into(),
        json!(uri.path.as_deref().unwrap_or("/")),
    );
    // RabbitMQ's own default user when the URI names none.
    config.insert(
        "username".into(),
        json!(uri.username.as_deref().unwrap_or("guest")),
    );
    if let Some(p) = &uri.password {
        config.insert("password".into(), json!(p));
    }
    let mut tls = Map::new();
    if uri.scheme == "amqps" {
        tls.insert("enabled".into(), json!(true));
    }
    if let Some(name) = uri.query_value("server_name") {
        tls.insert("server_name".into(), json!(name));
    }
    if !tls.is_empty() {
        config.insert("tls".into(), Value::Object(tls));
    }
    Ok(Value::Object(config))
}

pub(crate) fn uri_of(config: &Value) -> Option<String> {
    let host = config.get("host")?.as_str()?;
    let host = if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_owned()
    };
    let tls = config
        .pointer("/tls/enabled")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let vhost = config
        .get("virtual_host")
        .and_then(Value::as_str)
        .unwrap_or("/");
    let query = config
        .pointer("/tls/server_name")
        .and_then(Value::as_str)
        .map(|n| vec![("server_name".to_owned(), n.to_owned())])
        .unwrap_or_default();
    let uri = ConnectionUri {
        scheme: if tls { "amqps" } else { "amqp" }.into(),
        username: config
            .get("username")
            .and_then(Value::as_str)
            .map(str::to_owned),
        password: None,
        hosts: vec![UriHost {
            host,
            port: config.get("port").and_then(Value::as_u64).map(|p| p as u16),
        }],
        path: (vhost != "/").then(|| vhost.to_owned()),
        query,
    };
    Some(uri.render())
}
