//! The one way a `mysql` profile becomes sqlx connect options (hosts'
//! clients and the connector's probes alike), and error-number
//! classification.

use patchbay_connector_sql::{SqlConfig, TlsMode};
use patchbay_core::{CheckedAddrs, FailureReason, Result};
use sqlx::error::DatabaseError;
use sqlx::mysql::{MySqlConnectOptions, MySqlDatabaseError, MySqlSslMode};
use sqlx::ConnectOptions;

use crate::DEFAULT_PORT;

/// The connect options of a `mysql` profile's config: host, port, user,
/// password, database, TLS (mode and CA) and the `utf8mb4` character set;
/// everything else stays sqlx's default (its session `SET` of `sql_mode`,
/// `time_zone` and `NAMES` included).
///
/// This is what the connector's own test and autocomplete connect with
/// (adding only what a probe skips), so a profile that tests green
/// connects the same way in a host:
///
/// ```
/// use patchbay_connector_mysql::{connect_options, sqlx::mysql::MySqlSslMode};
/// let config = serde_json::from_value(serde_json::json!({
///     "host": "db.internal", "username": "app", "database": "shop", "tls_mode": "verify-full"
/// })).unwrap();
/// let options = connect_options(&config).unwrap();
/// assert_eq!((options.get_host(), options.get_port()), ("db.internal", 3306));
/// assert!(matches!(options.get_ssl_mode(), MySqlSslMode::VerifyIdentity));
/// // Pool it: sqlx::MySqlPool::connect_lazy_with(options)
/// ```
///
/// # Errors
/// `Validation` on `/host` when the host is not a bare name or address.
pub fn connect_options(config: &SqlConfig) -> Result<MySqlConnectOptions> {
    let (host, port) = config.host_port(DEFAULT_PORT)?;
    let mut options = MySqlConnectOptions::new()
        .host(host)
        .port(port)
        .username(&config.username)
        .ssl_mode(ssl_mode(config.tls_mode))
        .charset("utf8mb4");
    // An empty password must be no password: sqlx would otherwise send a
    // scramble of "" and the server would deny "(using password: YES)".
    if !config.password.expose().is_empty() {
        options = options.password(config.password.expose());
    }
    if let Some(database) = &config.database {
        options = options.database(database);
    }
    if let Some(pem) = &config.ca_certificate {
        options = options.ssl_ca_from_pem(pem.as_bytes().to_vec());
    }
    Ok(options)
}

/// [`connect_options`] aimed at the addresses the host name was resolved
/// to and checked (`checked`, as [`ResolvedConfig::checked`] gives them):
/// one set of options per address, in order, to try in turn, each naming
/// the address instead of the host, so the driver does no lookup of its
/// own. This is how the connector's probes connect.
///
/// The driver takes one host for both the TCP connection and TLS, so the
/// host name stays (and sqlx resolves it once more) when the certificate
/// is checked against it: `verify-full` (`VERIFY_IDENTITY`), and
/// `verify-ca` too with sqlx 0.8 (see [`SqlConfig::pinnable_addrs`]);
/// likewise without a checked address for this endpoint. Then the one
/// item is [`connect_options`] itself.
///
/// ```
/// use patchbay_connector_mysql::connect_options_via;
/// use patchbay_core::{CheckedAddrs, Endpoint};
/// let config = serde_json::from_value(serde_json::json!({
///     "host": "db.internal", "username": "app", "tls_mode": "verify-full"
/// })).unwrap();
/// let checked = CheckedAddrs::default()
///     .with(Endpoint::new("db.internal", 3306), vec!["10.0.0.7:3306".parse().unwrap()]);
/// // verify-full needs the name: the options keep it.
/// assert_eq!(connect_options_via(&config, &checked).unwrap()[0].get_host(), "db.internal");
/// ```
///
/// [`ResolvedConfig::checked`]: patchbay_core::ResolvedConfig::checked
///
/// # Errors
/// As [`connect_options`].
pub fn connect_options_via(
    config: &SqlConfig,
    checked: &CheckedAddrs,
) -> Result<Vec<MySqlConnectOptions>> {
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

/// The MySQL `ssl-mode` of the libpq-named mode.
fn ssl_mode(mode: TlsMode) -> MySqlSslMode {
    match mode {
        TlsMode::Disable => MySqlSslMode::Disabled,
        TlsMode::Prefer => MySqlSslMode::Preferred,
        TlsMode::Require => MySqlSslMode::Required,
        TlsMode::VerifyCa => MySqlSslMode::VerifyCa,
        TlsMode::VerifyFull => MySqlSslMode::VerifyIdentity,
    }
}

/// [`connect_options_via`] as a probe uses them: statements not logged, no
/// statement cache, and no session `SET` after the handshake. sqlx
/// normally follows the handshake with a `SET sql_mode…, time_zone…,
/// NAMES…` round trip; a probe reads only catalog names and numbers, and
/// the handshake already selects utf8mb4, so that round trip is skipped.
/// Whether the options name addresses is the second value.
pub(crate) fn probe_options(
    config: &SqlConfig,
    checked: &CheckedAddrs,
) -> Result<(Vec<MySqlConnectOptions>, bool)> {
    let by_address = !config.pinnable_addrs(DEFAULT_PORT, checked).is_empty();
    let options = connect_options_via(config, checked)?
        .into_iter()
        .map(|o| {
            o.pipes_as_concat(false)
                .no_engine_substitution(false)
                .timezone(None)
                .set_names(false)
                .statement_cache_capacity(0)
                .disable_statement_logging()
        })
        .collect();
    Ok((options, by_address))
}

/// Server error number → reason. `auth`: 1044 (no access to the database),
/// 1045 (access denied), 1130 (host not allowed), 1251 (auth plugin),
/// 1698 (no password), 1862 (password expired). `not_found`: 1049 (unknown
/// database). `tls`: 3159 (MySQL: secure transport required).
pub fn failure_reason(error: &dyn DatabaseError) -> FailureReason {
    let Some(error) = error.try_downcast_ref::<MySqlDatabaseError>() else {
        return FailureReason::Other;
    };
    match error.number() {
        1044 | 1045 | 1130 | 1251 | 1698 | 1862 => FailureReason::Auth,
        1049 => FailureReason::NotFound,
        3159 => FailureReason::Tls,
        _ => FailureReason::Other,
    }
}
