//! How to connect a [`PostgresStore`](crate::PostgresStore).

use std::str::FromStr;
use std::time::Duration;

use patchbay_core::{Error, Result};
use sqlx::postgres::PgConnectOptions;

/// Options for [`PostgresStore::connect_with`](crate::PostgresStore::connect_with).
#[derive(Debug, Clone)]
pub struct PostgresConfig {
    /// `postgres://user:password@host:port/database?…` (libpq-style options
    /// such as `sslmode` are understood).
    pub url: String,
    /// Schema holding the store's tables (default `patchbay`): lowercase
    /// ASCII letters, digits and `_`, starting with a letter or `_`, at most
    /// 63 bytes. Created by the migrations.
    pub schema: String,
    /// Pooled connections per replica (default 10).
    pub max_connections: u32,
    /// How long a call waits for a usable connection before failing with
    /// `STORAGE` (default 5 s). Bounds calls made while the server is down.
    pub acquire_timeout: Duration,
    /// Run the embedded migrations when connecting (default true).
    pub migrate_on_open: bool,
}

impl PostgresConfig {
    /// Defaults for `url` and `schema`.
    pub fn new(url: impl Into<String>, schema: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            schema: schema.into(),
            max_connections: 10,
            acquire_timeout: Duration::from_secs(5),
            migrate_on_open: true,
        }
    }

    pub(crate) fn connect_options(&self) -> Result<PgConnectOptions> {
        PgConnectOptions::from_str(&self.url)
            // The URL may hold a password: never echo it.
            .map_err(|_| Error::invalid("/url", "is not a valid postgres:// URL"))
    }
}

/// Checks a schema name; it is interpolated (quoted) into SQL, so only a
/// plain identifier is accepted.
pub(crate) fn check_schema(schema: &str) -> Result<()> {
    let ok = !schema.is_empty()
        && schema.len() <= 63
        && schema.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && schema
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "/schema",
            "must be 1 to 63 lowercase ASCII letters, digits or '_', starting with a letter or '_'",
        ))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn schema_names() {
        for good in ["patchbay", "_x", "app_1"] {
            assert!(super::check_schema(good).is_ok(), "{good}");
        }
        for bad in ["", "1x", "Upper", "a-b", "a\"b", &"a".repeat(64)] {
            assert!(super::check_schema(bad).is_err(), "{bad}");
        }
    }
}
