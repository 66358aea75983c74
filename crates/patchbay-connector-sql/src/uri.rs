//! Connection URIs of the SQL connectors: `postgres://` / `postgresql://`
//! with libpq's `sslmode`, `mysql://` / `mariadb://` with `ssl-mode`.

use patchbay_core::uri::{ConnectionUri, UriHost};
use patchbay_core::FieldError;
use serde_json::{json, Map, Value};

use crate::config::SqlConfig;

/// How one SQL system spells its URIs.
pub struct UriDialect {
    /// The scheme `uri_of` writes.
    pub scheme: &'static str,
    /// The query parameter holding the TLS mode.
    pub tls_param: &'static str,
    /// URI spelling → config `tls_mode`, compared case-insensitively.
    pub modes: &'static [(&'static str, &'static str)],
}

/// libpq: `postgresql://user:password@host:port/database?sslmode=require`.
pub const POSTGRES: UriDialect = UriDialect {
    scheme: "postgresql",
    tls_param: "sslmode",
    modes: &[
        ("disable", "disable"),
        ("prefer", "prefer"),
        ("require", "require"),
        ("verify-ca", "verify-ca"),
        ("verify-full", "verify-full"),
    ],
};

/// MySQL: `mysql://user:password@host:port/database?ssl-mode=REQUIRED`.
pub const MYSQL: UriDialect = UriDialect {
    scheme: "mysql",
    tls_param: "ssl-mode",
    modes: &[
        ("DISABLED", "disable"),
        ("PREFERRED", "prefer"),
        ("REQUIRED", "require"),
        ("VERIFY_CA", "verify-ca"),
        ("VERIFY_IDENTITY", "verify-full"),
    ],
};

fn err(message: String) -> FieldError {
    FieldError::new("/uri", message)
}

/// A config from `uri`; the service validates it like any other.
///
/// # Errors
/// Every problem, at `/uri`.
pub fn config_from_uri(
    uri: &ConnectionUri,
    dialect: &UriDialect,
) -> Result<Value, Vec<FieldError>> {
    let mut errors = uri.unknown_query(&[dialect.tls_param, "connect_timeout"]);
    let mut config = Map::new();
    match uri.single_host() {
        Ok(UriHost { host, port }) => {
            config.insert(
                "host".into(),
                json!(host.trim_start_matches('[').trim_end_matches(']')),
            );
            if let Some(p) = port {
                config.insert("port".into(), json!(p));
            }
        }
        Err(e) => errors.push(e),
    }
    match &uri.username {
        Some(u) => drop(config.insert("username".into(), json!(u))),
        None => errors.push(err("the URI names no user (`scheme://user@host`)".into())),
    }
    if let Some(p) = &uri.password {
        config.insert("password".into(), json!(p));
    }
    if let Some(db) = &uri.path {
        config.insert("database".into(), json!(db));
    }
    if let Some(mode) = uri.query_value(dialect.tls_param) {
        match dialect
            .modes
            .iter()
            .find(|(m, _)| m.eq_ignore_ascii_case(mode))
        {
            Some((_, v)) => drop(config.insert("tls_mode".into(), json!(v))),
            None => errors.push(err(format!(
                "`{}` must be one of {}",
                dialect.tls_param,
                dialect
                    .modes
                    .iter()
                    .map(|(m, _)| *m)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }
    if let Some(t) = uri.query_value("connect_timeout") {
        match t.parse::<u64>() {
            Ok(s) if (1..=600).contains(&s) => {
                drop(config.insert("connect_timeout_ms".into(), json!(s * 1000)))
            }
            _ => errors.push(err(
                "`connect_timeout` must be whole seconds from 1 to 600".into()
            )),
        }
    }
    if errors.is_empty() {
        Ok(Value::Object(config))
    } else {
        Err(errors)
    }
}

/// A stored config as a URI, without its password (nor its CA, which has
/// no URI form).
pub fn uri_of(config: &Value, dialect: &UriDialect) -> Option<String> {
    let c: SqlConfig = serde_json::from_value(config.clone()).ok()?;
    let host = if c.host.contains(':') {
        format!("[{}]", c.host)
    } else {
        c.host.clone()
    };
    let (mode, _) = dialect
        .modes
        .iter()
        .find(|(_, v)| *v == c.tls_mode.as_str())?;
    // The mode only when the profile sets one (absent is the default).
    let mut query = Vec::new();
    if config.get("tls_mode").is_some() {
        query.push((dialect.tls_param.to_owned(), (*mode).to_owned()));
    }
    if let Some(ms) = c.connect_timeout_ms {
        query.push(("connect_timeout".into(), ms.div_ceil(1000).to_string()));
    }
    let uri = ConnectionUri {
        scheme: dialect.scheme.into(),
        username: Some(c.username),
        password: None,
        hosts: vec![UriHost { host, port: c.port }],
        path: c.database,
        query,
    };
    Some(uri.render())
}
