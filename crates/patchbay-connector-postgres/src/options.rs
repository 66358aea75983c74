//! The one way a `postgres` profile becomes sqlx connect options (hosts'
//! clients and the connector's probes alike), and SQLSTATE classification.

use std::time::Duration;

use patchbay_connector_sql::{SqlConfig, TlsMode, APPLICATION_NAME};
use patchbay_core::{CheckedAddrs, FailureReason, Result};
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
    let (host, port) = config.host_port(DEFAULT_PORT)?;
    // libpq's default database is the user's name.
    let database = config.database.as_deref().unwrap_or(&config.username);
    let options = PgConnectOptions::new_without_pgpass()
        .host(host)
        .port(port)
        .username(&config.username)
        .password(config.password.expose())
        .database(database)
        .ssl_mode(ssl_mode(config.tls_mode));
    Ok(match &config.ca_certificate {
        Some(pem) => options.ssl_root_cert_from_pem(pem.as_bytes().to_vec()),
        None => options,
    })
}

/// [`connect_options`] aimed at the addresses the host name was resolved
/// to and checked (`checked`, as [`ResolvedConfig::checked`] gives them):
/// one set of options per address, in order, to try in turn, each naming
/// the address instead of the host, so the driver does no lookup of its
/// own. This is how the connector's probes connect.
///
/// The driver takes one host for both the TCP connection and TLS, so the
/// host name stays (and sqlx resolves it once more) when the certificate
/// is checked against it: `verify-full`, and `verify-ca` too with sqlx 0.8
/// (see [`SqlConfig::pinnable_addrs`]); likewise without a checked address
/// for this endpoint. Then the one item is [`connect_options`] itself.
/// With an address, TLS (`prefer`, `require`) sends no SNI.
///
/// ```
/// use patchbay_connector_postgres::connect_options_via;
/// use patchbay_core::{CheckedAddrs, Endpoint};
/// let config = serde_json::from_value(serde_json::json!({
///     "host": "db.internal", "username": "app", "tls_mode": "require"
/// })).unwrap();
/// let checked = CheckedAddrs::default()
///     .with(Endpoint::new("db.internal", 5432), vec!["10.0.0.7:5432".parse().unwrap()]);
/// let options = connect_options_via(&config, &checked).unwrap();
/// assert_eq!(options.len(), 1);
/// assert_eq!(options[0].get_host(), "10.0.0.7");
/// ```
///
/// [`ResolvedConfig::checked`]: patchbay_core::ResolvedConfig::checked
///
/// # Errors
/// As [`connect_options`].
pub fn connect_options_via(
    config: &SqlConfig,
    checked: &CheckedAddrs,
) -> Result<Vec<PgConnectOptions>> {
    let options = connect_options(config)?;
    let addrs = config.pinnable_addrs(DEFAULT_PORT, checked);
    if addrs.is_empty() {
        return Ok(vec![options]);
    }
    Ok(addrs
        .iter()
        .map(|a| options.clone().host(&a.ip().to_string()).port(a.port()))
        .collect())
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

/// [`connect_options_via`] with what a probe adds: its application name, no
/// statement cache or logging, and `statement_timeout` set to `budget`.
/// A probe that gives up at its deadline only drops the socket, and a
/// backend busy with a statement (say, waiting for a lock in
/// `pg_total_relation_size`) would not notice until the statement ends;
/// the server now ends it by then.
/// Whether the options name addresses is the second value.
pub(crate) fn probe_options(
    config: &SqlConfig,
    checked: &CheckedAddrs,
    budget: Duration,
) -> Result<(Vec<PgConnectOptions>, bool)> {
    let by_address = !config.pinnable_addrs(DEFAULT_PORT, checked).is_empty();
    let options = connect_options_via(config, checked)?
        .into_iter()
        .map(|o| {
            o.application_name(APPLICATION_NAME)
                // One connection, a handful of statements: nothing worth caching.
                .statement_cache_capacity(0)
                .options([("statement_timeout", budget.as_millis().max(1))])
                .disable_statement_logging()
        })
        .collect();
    Ok((options, by_address))
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
