//! Turning sqlx errors into classified probe failures.

use std::io;

use patchbay_core::{Endpoint, Error, FailureReason};
use sqlx::error::DatabaseError;
use tokio::time::{timeout_at, Instant};

/// A `timeout` failure naming the target and the budget.
pub fn timeout_error(target: &Endpoint, what: &str, budget_ms: u128) -> Error {
    Error::connection_failed(
        FailureReason::Timeout,
        format!("{what} {target} took longer than {budget_ms} ms"),
    )
}

/// Classifies `err` from talking to `target`.
///
/// Server errors keep the server's own message and are classified by
/// `db_reason` (SQLSTATE or error-number tables live in each connector).
/// I/O errors: refused, timed out, a TLS handshake failure, or, when the
/// host name does not resolve (checked again before `deadline`), `dns`.
/// None of sqlx's messages carry the password; the service scrubs anyway.
pub async fn classify(
    err: sqlx::Error,
    target: &Endpoint,
    deadline: Instant,
    db_reason: fn(&dyn DatabaseError) -> FailureReason,
) -> Error {
    classify_at(err, target, false, deadline, db_reason).await
}

/// [`classify`], for a connection made to an address (`by_address`) rather
/// than to `target`'s name: no lookup can have failed, and none is made.
pub(crate) async fn classify_at(
    err: sqlx::Error,
    target: &Endpoint,
    by_address: bool,
    deadline: Instant,
    db_reason: fn(&dyn DatabaseError) -> FailureReason,
) -> Error {
    let (reason, message) = match &err {
        sqlx::Error::Database(db) => (db_reason(db.as_ref()), db.message().to_owned()),
        sqlx::Error::Tls(e) => (FailureReason::Tls, format!("{target}: {e}")),
        sqlx::Error::Io(e) if by_address => (io_kind(e), format!("{target}: {e}")),
        sqlx::Error::Io(e) => (
            io_reason(e, target, deadline).await,
            format!("{target}: {e}"),
        ),
        other => (FailureReason::Other, format!("{target}: {other}")),
    };
    Error::connection_failed(reason, message)
}

/// What an I/O error says by itself: refused, timed out, TLS, or other.
fn io_kind(e: &io::Error) -> FailureReason {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => FailureReason::Refused,
        io::ErrorKind::TimedOut => FailureReason::Timeout,
        _ if is_tls(e) => FailureReason::Tls,
        _ => FailureReason::Other,
    }
}

async fn io_reason(e: &io::Error, target: &Endpoint, deadline: Instant) -> FailureReason {
    let reason = io_kind(e);
    if reason != FailureReason::Other {
        return reason;
    }
    // getaddrinfo failures come back as an uncategorized io::Error; rather
    // than trusting the text alone, ask the resolver once more.
    if e.to_string().contains("failed to lookup address") || !resolves(target, deadline).await {
        return FailureReason::Dns;
    }
    FailureReason::Other
}

/// Whether `e` is (or wraps) a rustls error: the handshake failed.
fn is_tls(e: &io::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = e.get_ref().map(|e| e as _);
    while let Some(s) = source {
        if s.is::<rustls::Error>() {
            return true;
        }
        source = s.source();
    }
    false
}

async fn resolves(target: &Endpoint, deadline: Instant) -> bool {
    let lookup = tokio::net::lookup_host((target.host.as_str(), target.port));
    // Out of time is not evidence of a DNS failure.
    !matches!(timeout_at(deadline, lookup).await, Ok(Err(_)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn io_errors() {
        let target = Endpoint::new("127.0.0.1", 1);
        let deadline = Instant::now() + std::time::Duration::from_secs(2);
        let refused = io::Error::from(io::ErrorKind::ConnectionRefused);
        assert_eq!(
            io_reason(&refused, &target, deadline).await,
            FailureReason::Refused
        );
        let tls = io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        );
        assert_eq!(io_reason(&tls, &target, deadline).await, FailureReason::Tls);
        let reset = io::Error::from(io::ErrorKind::ConnectionReset);
        assert_eq!(
            io_reason(&reset, &target, deadline).await,
            FailureReason::Other
        );
        // A 70-character label: the resolver rejects it locally, no DNS server involved.
        let unresolvable = Endpoint::new(format!("{}.invalid", "n".repeat(70)), 5432);
        assert_eq!(
            io_reason(&reset, &unresolvable, deadline).await,
            FailureReason::Dns
        );
        // Connected by address: the name was never looked up, nor is it now.
        let err = classify_at(
            sqlx::Error::Io(reset),
            &unresolvable,
            true,
            deadline,
            |_| FailureReason::Other,
        )
        .await;
        match err {
            Error::ConnectionFailed(f) => assert_eq!(f.reason, FailureReason::Other, "{f}"),
            other => panic!("{other:?}"),
        }
    }
}
