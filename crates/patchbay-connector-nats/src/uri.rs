//! `nats://user:password@host:4222,host2:4222` and `tls://…` (TLS on);
//! a user name without a password is a token (`nats://token@host`).

use patchbay_core::uri::{ConnectionUri, UriHost};
use patchbay_core::FieldError;
use serde_json::{json, Map, Value};

use crate::config::parse_server;

const DEFAULT_PORT: u16 = 4222;

pub(crate) fn config_from_uri(uri: &ConnectionUri) -> Result<Value, Vec<FieldError>> {
    let errors = uri.unknown_query(&["jetstream_domain"]);
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut config = Map::new();
    let servers: Vec<String> = uri
        .hosts
        .iter()
        .map(|h| h.with_port(DEFAULT_PORT))
        .collect();
    config.insert("servers".into(), json!(servers));
    match (&uri.username, &uri.password) {
        (Some(token), None) => drop(config.insert("token".into(), json!(token))),
        // `user:@host`: a user whose password is given elsewhere.
        (Some(u), Some(p)) if p.is_empty() => drop(config.insert("username".into(), json!(u))),
        (user, password) => {
            if let Some(u) = user {
                config.insert("username".into(), json!(u));
            }
            if let Some(p) = password {
                config.insert("password".into(), json!(p));
            }
        }
    }
    if let Some(d) = uri.query_value("jetstream_domain") {
        config.insert("jetstream_domain".into(), json!(d));
    }
    if uri.scheme == "tls" {
        config.insert("tls".into(), json!({ "enabled": true }));
    }
    Ok(Value::Object(config))
}

pub(crate) fn uri_of(config: &Value) -> Option<String> {
    let servers = config.get("servers")?.as_array()?;
    let mut tls = config
        .pointer("/tls/enabled")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let hosts = servers
        .iter()
        .map(|s| {
            let s = s.as_str()?;
            tls |= s.trim().starts_with("tls://");
            let ep = parse_server(s)?;
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
    let query = config
        .get("jetstream_domain")
        .and_then(Value::as_str)
        .map(|d| vec![("jetstream_domain".to_owned(), d.to_owned())])
        .unwrap_or_default();
    let uri = ConnectionUri {
        scheme: if tls { "tls" } else { "nats" }.into(),
        // A token is a secret: only a user name is rendered.
        username: config
            .get("username")
            .and_then(Value::as_str)
            .map(str::to_owned),
        password: None,
        hosts,
        path: None,
        query,
    };
    // A user renders as `user:@` so that it reads back as a user, not a token.
    let text = uri.render();
    Some(match &uri.username {
        Some(_) => text.replacen('@', ":@", 1),
        None => text,
    })
}
