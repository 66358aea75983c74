//! MySQL and MariaDB connector for patchbay: a live connection test (server
//! version, latency) and autocomplete of schemas, tables (with the catalog's
//! row estimate and size) and columns.
//!
//! Every probe opens exactly one connection (no pool), bounded by the
//! probe's deadline, and closes it before returning. It connects with
//! [`connect_options_via`]: the same options a host builds its own pool
//! from ([`connect_options`]), aimed at the addresses the service checked.
//!
//! ```
//! use patchbay_core::Connector;
//! let my = patchbay_connector_mysql::MySqlConnector;
//! assert_eq!(my.kind(), "mysql");
//! assert_eq!(my.config_schema()["properties"]["port"]["default"], 3306);
//! ```
#![warn(missing_docs)]

mod catalog;
mod config;
mod options;

use patchbay_connector_sql::{with_connection, BoxFuture, Limits};
use patchbay_core::{
    async_trait, AutocompleteQuery, Connector, Endpoint, FieldError, ResolvedConfig, Result,
    Suggestion, TestReport,
};
use serde_json::Value;
use sqlx::{Executor, MySqlConnection, Row};
use tokio::time::Instant;

pub use config::MySqlConfig;
pub use options::{connect_options, connect_options_via, failure_reason};
/// The config [`connect_options`] takes (shared with the other SQL connector).
pub use patchbay_connector_sql::{SqlConfig, TlsMode};
/// The driver crate this connector is built on (`sqlx`), re-exported so
/// hosts build their pools from [`connect_options`] with the same version.
pub use sqlx;

/// Port used when the config names none.
pub const DEFAULT_PORT: u16 = 3306;

/// The `mysql` connector (MariaDB too). Stateless: construct it freely.
#[derive(Debug, Clone, Copy, Default)]
pub struct MySqlConnector;

#[async_trait]
impl Connector for MySqlConnector {
    fn kind(&self) -> &'static str {
        <MySqlConfig as patchbay_core::ConnectorConfig>::KIND
    }

    /// Where its secrets go: a change here needs them entered again.
    fn endpoint_fields(&self) -> &'static [&'static str] {
        SqlConfig::ENDPOINT_FIELDS
    }

    fn uri_schemes(&self) -> &'static [&'static str] {
        &["mysql", "mariadb"]
    }

    fn config_from_uri(
        &self,
        uri: &patchbay_core::ConnectionUri,
    ) -> std::result::Result<Value, Vec<FieldError>> {
        patchbay_connector_sql::uri::config_from_uri(uri, &patchbay_connector_sql::uri::MYSQL)
    }

    fn uri_of(&self, config: &Value) -> Option<String> {
        patchbay_connector_sql::uri::uri_of(config, &patchbay_connector_sql::uri::MYSQL)
    }

    fn description(&self) -> &'static str {
        "MySQL or MariaDB database server"
    }

    fn config_schema(&self) -> Value {
        SqlConfig::schema(DEFAULT_PORT)
    }

    fn autocomplete_types(&self) -> &'static [&'static str] {
        &["schemas", "tables", "columns"]
    }

    fn check(&self, config: &Value) -> Vec<FieldError> {
        SqlConfig::check(config, DEFAULT_PORT)
    }

    fn endpoints(&self, config: &ResolvedConfig) -> Result<Vec<Endpoint>> {
        Ok(vec![config.parse::<SqlConfig>()?.endpoint(DEFAULT_PORT)?])
    }

    async fn test(&self, resolved: &ResolvedConfig, deadline: Instant) -> Result<TestReport> {
        let config: SqlConfig = resolved.parse()?;
        let target = config.endpoint(DEFAULT_PORT)?;
        let limits = Limits::new(deadline, config.connect_timeout());
        let (options, by_address) = options::probe_options(&config, resolved.checked())?;
        let (full, latency_ms) = with_connection(
            &options,
            by_address,
            &target,
            &limits,
            failure_reason,
            |c| server_version(c, limits),
        )
        .await?;
        Ok(TestReport::success(latency_ms)
            .with_version(short_version(&full))
            .with_detail("server_version", full))
    }

    async fn autocomplete(
        &self,
        resolved: &ResolvedConfig,
        query: &AutocompleteQuery,
        deadline: Instant,
    ) -> Result<Vec<Suggestion>> {
        let config: SqlConfig = resolved.parse()?;
        let target = config.endpoint(DEFAULT_PORT)?;
        let limits = Limits::new(deadline, config.connect_timeout());
        let request = catalog::Request::new(query, "mysql")?;
        let (options, by_address) = options::probe_options(&config, resolved.checked())?;
        with_connection(
            &options,
            by_address,
            &target,
            &limits,
            failure_reason,
            |c| Box::pin(catalog::run(request, c)),
        )
        .await
    }
}

/// Asks the version with the simple protocol: one round trip.
fn server_version(
    conn: &mut MySqlConnection,
    limits: Limits,
) -> BoxFuture<'_, sqlx::Result<(String, u64)>> {
    Box::pin(async move {
        // A bare &str runs unprepared: the text protocol, one round trip.
        let row = conn.fetch_one("SELECT VERSION()").await?;
        let latency = limits.elapsed_ms();
        Ok((row.try_get::<String, _>(0)?, latency))
    })
}

/// `VERSION()` without the packager's suffix: `10.11.19-MariaDB-0+deb12u1`
/// becomes `10.11.19-MariaDB`, `8.0.36-0ubuntu0.22.04.1` becomes `8.0.36`.
fn short_version(full: &str) -> String {
    const MARIADB: &str = "-MariaDB";
    match full.find(MARIADB) {
        Some(i) => full[..i + MARIADB.len()].to_owned(),
        None => full.split('-').next().unwrap_or(full).to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn short_versions() {
        use super::short_version;
        assert_eq!(
            short_version("10.11.19-MariaDB-0+deb12u1"),
            "10.11.19-MariaDB"
        );
        assert_eq!(short_version("10.11.19-MariaDB"), "10.11.19-MariaDB");
        assert_eq!(short_version("8.0.36-0ubuntu0.22.04.1"), "8.0.36");
        assert_eq!(short_version("8.4.0"), "8.4.0");
    }
}
