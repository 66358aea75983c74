//! sqlx connect options from the config, and error-number classification.

use patchbay_connector_sql::{SqlConfig, TlsMode};
use patchbay_core::{Endpoint, FailureReason};
use sqlx::error::DatabaseError;
use sqlx::mysql::{MySqlConnectOptions, MySqlDatabaseError, MySqlSslMode};
use sqlx::ConnectOptions;

/// The connect options of one probe, statements not logged.
///
/// sqlx normally follows the handshake with a `SET sql_mode…, time_zone…,
/// NAMES…` round trip; a probe reads only catalog names and numbers, and the
/// handshake already selects utf8mb4, so that round trip is skipped.
pub fn connect_options(config: &SqlConfig, target: &Endpoint) -> MySqlConnectOptions {
    let ssl_mode = match config.tls_mode {
        TlsMode::Disable => MySqlSslMode::Disabled,
        TlsMode::Prefer => MySqlSslMode::Preferred,
        TlsMode::Require => MySqlSslMode::Required,
        TlsMode::VerifyCa => MySqlSslMode::VerifyCa,
        TlsMode::VerifyFull => MySqlSslMode::VerifyIdentity,
    };
    let mut options = MySqlConnectOptions::new()
        .host(&target.host)
        .port(target.port)
        .username(&config.username)
        .ssl_mode(ssl_mode)
        .charset("utf8mb4")
        .pipes_as_concat(false)
        .no_engine_substitution(false)
        .timezone(None)
        .set_names(false)
        .statement_cache_capacity(0);
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
    options.disable_statement_logging()
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
