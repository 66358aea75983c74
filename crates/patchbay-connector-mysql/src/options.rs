//! The one way a `mysql` profile becomes sqlx connect options (hosts'
//! clients and the connector's probes alike), and error-number
//! classification.

use patchbay_connector_sql::{SqlConfig, TlsMode};
use patchbay_core::{FailureReason, Result};
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
    let target = config.endpoint(DEFAULT_PORT)?;
    let mut options = MySqlConnectOptions::new()
        .host(&target.host)
        .port(target.port)
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

/// [`connect_options`] as a probe uses them: statements not logged, no
/// statement cache, and no session `SET` after the handshake. sqlx
/// normally follows the handshake with a `SET sql_mode…, time_zone…,
/// NAMES…` round trip; a probe reads only catalog names and numbers, and
/// the handshake already selects utf8mb4, so that round trip is skipped.
pub(crate) fn probe_options(config: &SqlConfig) -> Result<MySqlConnectOptions> {
    Ok(connect_options(config)?
        .pipes_as_concat(false)
        .no_engine_substitution(false)
        .timezone(None)
        .set_names(false)
        .statement_cache_capacity(0)
        .disable_statement_logging())
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
