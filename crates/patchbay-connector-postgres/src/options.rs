//! sqlx connect options from the config, and SQLSTATE classification.

use std::time::Duration;

use patchbay_connector_sql::{SqlConfig, TlsMode, APPLICATION_NAME};
use patchbay_core::{Endpoint, FailureReason};
use sqlx::error::DatabaseError;
use sqlx::postgres::{PgConnectOptions, PgSslMode};
use sqlx::ConnectOptions;

/// The connect options of one probe: everything from the config (the PG*
/// variables and `.pgpass` of the host process are not consulted for the
/// host, port, user, password or database), probe statements not logged.
///
/// `statement_timeout` is set to `budget`: a probe that gives up at its
/// deadline only drops the socket, and a backend busy with a statement
/// (say, waiting for a lock in `pg_total_relation_size`) would not notice
/// until the statement ends. The server now ends it by then.
pub fn connect_options(
    config: &SqlConfig,
    target: &Endpoint,
    budget: Duration,
) -> PgConnectOptions {
    let ssl_mode = match config.tls_mode {
        TlsMode::Disable => PgSslMode::Disable,
        TlsMode::Prefer => PgSslMode::Prefer,
        TlsMode::Require => PgSslMode::Require,
        TlsMode::VerifyCa => PgSslMode::VerifyCa,
        TlsMode::VerifyFull => PgSslMode::VerifyFull,
    };
    // libpq's default database is the user's name.
    let database = config.database.as_deref().unwrap_or(&config.username);
    let mut options = PgConnectOptions::new_without_pgpass()
        .host(&target.host)
        .port(target.port)
        .username(&config.username)
        .password(config.password.expose())
        .database(database)
        .ssl_mode(ssl_mode)
        .application_name(APPLICATION_NAME)
        // One connection, a handful of statements: nothing worth caching.
        .statement_cache_capacity(0)
        .options([("statement_timeout", budget.as_millis().max(1))]);
    if let Some(pem) = &config.ca_certificate {
        options = options.ssl_root_cert_from_pem(pem.as_bytes().to_vec());
    }
    options.disable_statement_logging()
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
