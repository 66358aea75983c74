//! The one way a `postgres` profile becomes sqlx connect options (hosts'
//! clients and the connector's probes alike), and SQLSTATE classification.

use std::time::Duration;

use patchbay_connector_sql::{SqlConfig, TlsMode, APPLICATION_NAME};
use patchbay_core::{FailureReason, Result};
use sqlx::error::DatabaseError;
use sqlx::postgres::{PgConnectOptions, PgSslMode};
use sqlx::ConnectOptions;

use crate::DEFAULT_PORT;

/// The connect options of a `postgres` profile's config: host, port, user,
/// password, database and TLS (mode and CA), nothing else. The PG*
/// variables and `.pgpass` of the host process are not consulted for any
/// of these: a profile means the same thing in every process.
///
/// This is what the connector's own test and autocomplete connect with
/// (adding only their session limits), so a profile that tests green
/// connects the same way in a host:
///
/// ```
/// use patchbay_connector_postgres::{connect_options, sqlx::postgres::PgSslMode};
/// let config = serde_json::from_value(serde_json::json!({
///     "host": "db.internal", "username": "app", "password": "s3cret", "tls_mode": "require"
/// })).unwrap();
/// let options = connect_options(&config).unwrap();
/// assert_eq!((options.get_host(), options.get_port()), ("db.internal", 5432));
/// assert!(matches!(options.get_ssl_mode(), PgSslMode::Require));
/// // Pool it: sqlx::PgPool::connect_lazy_with(options)
/// ```
///
/// # Errors
/// `Validation` on `/host` when the host is not a bare name or address.
pub fn connect_options(config: &SqlConfig) -> Result<PgConnectOptions> {
    let target = config.endpoint(DEFAULT_PORT)?;
    // libpq's default database is the user's name.
    let database = config.database.as_deref().unwrap_or(&config.username);
    let options = PgConnectOptions::new_without_pgpass()
        .host(&target.host)
        .port(target.port)
        .username(&config.username)
        .password(config.password.expose())
        .database(database)
        .ssl_mode(ssl_mode(config.tls_mode));
    Ok(match &config.ca_certificate {
        Some(pem) => options.ssl_root_cert_from_pem(pem.as_bytes().to_vec()),
        None => options,
    })
}

/// libpq's `sslmode` of the same name.
fn ssl_mode(mode: TlsMode) -> PgSslMode {
    match mode {
        TlsMode::Disable => PgSslMode::Disable,
        TlsMode::Prefer => PgSslMode::Prefer,
        TlsMode::Require => PgSslMode::Require,
        TlsMode::VerifyCa => PgSslMode::VerifyCa,
        TlsMode::VerifyFull => PgSslMode::VerifyFull,
    }
}

/// [`connect_options`] with what a probe adds: its application name, no
/// statement cache or logging, and `statement_timeout` set to `budget`.
/// A probe that gives up at its deadline only drops the socket, and a
/// backend busy with a statement (say, waiting for a lock in
/// `pg_total_relation_size`) would not notice until the statement ends;
/// the server now ends it by then.
pub(crate) fn probe_options(config: &SqlConfig, budget: Duration) -> Result<PgConnectOptions> {
    Ok(connect_options(config)?
        .application_name(APPLICATION_NAME)
        // One connection, a handful of statements: nothing worth caching.
        .statement_cache_capacity(0)
        .options([("statement_timeout", budget.as_millis().max(1))])
        .disable_statement_logging())
}

/// SQLSTATE → reason: class 28 (invalid authorization: bad password, no
/// such role, no pg_hba entry, role cannot log in) and 42501 (no CONNECT
/// privilege) are `auth`; 3D000 (no such database) is `not_found`.
pub fn failure_reason(error: &dyn DatabaseError) -> FailureReason {
    match error.code().as_deref() {
        Some(code) if code.starts_with("28") || code == "42501" => FailureReason::Auth,
        Some("3D000") => FailureReason::NotFound,
        _ => FailureReason::Other,
    }
}
