//! sqlx errors mapped to patchbay's meanings.

use patchbay_core::Error;
use sqlx::error::ErrorKind;

/// A `STORAGE` error saying what failed, with the sqlx error as its source.
pub(crate) fn storage(what: &str, e: sqlx::Error) -> Error {
    Error::storage(format!("postgres store: {what} failed"), e)
}

fn kind(e: &sqlx::Error) -> Option<ErrorKind> {
    match e {
        sqlx::Error::Database(d) => Some(d.kind()),
        _ => None,
    }
}

/// A unique index (name key or id) refused the write.
pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    kind(e) == Some(ErrorKind::UniqueViolation)
}

/// A foreign key refused the write: a delete with dependents, or an attach
/// to a missing profile.
pub(crate) fn is_foreign_key_violation(e: &sqlx::Error) -> bool {
    kind(e) == Some(ErrorKind::ForeignKeyViolation)
}

/// A stored row that does not decode.
pub(crate) fn corrupt(id: &str, what: &str, source: sqlx::Error) -> Error {
    Error::storage(
        format!("postgres store: profile {id} has a corrupt {what}"),
        source,
    )
}
