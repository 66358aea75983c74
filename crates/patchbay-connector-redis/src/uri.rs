//! `redis://[user][:password]@host:port/db` and `rediss://` (TLS); several
//! hosts (or `?mode=cluster`) name cluster seeds.

use patchbay_core::uri::{ConnectionUri, UriHost};
use patchbay_core::{Endpoint, FieldError};
use serde_json::{json, Map, Value};

const DEFAULT_PORT: u16 = 6379;

pub(crate) fn config_from_uri(uri: &ConnectionUri) -> Result<Value, Vec<FieldError>> {
    let mut errors = uri.unknown_query(&["mode"]);
    let mut config = Map::new();
    let addresses: Vec<String> = uri
        .hosts
        .iter()
        .map(|h| h.with_port(DEFAULT_PORT))
        .collect();
    config.insert("addresses".into(), json!(addresses));
    let cluster = match uri.query_value("mode") {
        None => uri.hosts.len() > 1,
        Some("cluster") => true,
        Some("standalone") => false,
        Some(_) => {
            errors.push(FieldError::new(
                "/uri",
                "`mode` must be `standalone` or `cluster`",
            ));
            false
        }
    };
    config.insert(
        "mode".into(),
        json!(if cluster { "cluster" } else { "standalone" }),
    );
    if let Some(db) = &uri.path {
        match db.parse::<u32>() {
            Ok(n) => drop(config.insert("database".into(), json!(n))),
            Err(_) => errors.push(FieldError::new(
                "/uri",
                "the path must be a database number (`/0`)",
            )),
        }
    }
    if let Some(u) = &uri.username {
        config.insert("username".into(), json!(u));
    }
    if let Some(p) = &uri.password {
        config.insert("password".into(), json!(p));
    }
    if uri.scheme == "rediss" {
        config.insert("tls".into(), json!({ "enabled": true }));
    }
    if errors.is_empty() {
        Ok(Value::Object(config))
    } else {
        Err(errors)
    }
}

pub(crate) fn uri_of(config: &Value) -> Option<String> {
    let hosts = config
        .get("addresses")?
        .as_array()?
        .iter()
        .map(|a| {
            let ep = Endpoint::parse(a.as_str()?, Some(DEFAULT_PORT))?;
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
    let tls = config
        .pointer("/tls/enabled")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let cluster = config.get("mode").and_then(Value::as_str) == Some("cluster");
    let db = config.get("database").and_then(Value::as_u64).unwrap_or(0);
    let uri = ConnectionUri {
        scheme: if tls { "rediss" } else { "redis" }.into(),
        username: config
            .get("username")
            .and_then(Value::as_str)
            .map(str::to_owned),
        password: None,
        path: (db != 0).then(|| db.to_string()),
        // The host count implies the mode; say it only when it does not.
        query: match (cluster, hosts.len() > 1) {
            (true, false) => vec![("mode".into(), "cluster".into())],
            (false, true) => vec![("mode".into(), "standalone".into())],
            _ => vec![],
        },
        hosts,
    };
    Some(uri.render())
}
