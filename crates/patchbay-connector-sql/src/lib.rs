//! What the patchbay Postgres and MySQL connectors share: the config both
//! publish ([`SqlConfig`], [`TlsMode`]), literal `LIKE` prefixes
//! ([`like_prefix`]), human sizes ([`human_size`]), failure classification
//! ([`classify`]), one-connection probes bounded by a deadline
//! ([`with_connection`]) and suggestion builders ([`suggest`]).
//!
//! Driver specifics (connect options, SQLSTATE / error-number tables,
//! catalog queries) stay in the connector crates.
#![warn(missing_docs)]

mod classify;
mod config;
mod like;
mod probe;
mod request;
mod size;
pub mod suggest;
pub mod uri;

pub use classify::{classify, timeout_error};
pub use config::{SqlConfig, TlsMode};
pub use like::{like_prefix, LIKE_ESCAPE};
pub use probe::{with_connection, BoxFuture, Limits};
pub use request::CatalogRequest;
pub use size::human_size;

/// System schemas left out of `schemas` and `tables` suggestions.
pub const SYSTEM_SCHEMAS: &[&str] = &[
    "information_schema",
    "pg_catalog",
    "mysql",
    "performance_schema",
    "sys",
];

/// Application name the connectors report to the server, so a DBA can tell
/// probe sessions apart (`pg_stat_activity.application_name`).
pub const APPLICATION_NAME: &str = "patchbay-probe";
