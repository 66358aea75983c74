//! One authenticated connection to one node, and failure classification.

use patchbay_core::{CheckedAddrs, Endpoint, Error, FailureReason, Result};
use redis::aio::MultiplexedConnection;
use redis::RedisError;
use tokio::time::{timeout_at, Instant};

use crate::client::{client_with, connection_info};
use crate::config::RedisConfig;
use crate::resolver::connection_config_via;

/// Runs `fut` until `deadline`; past it, a `timeout` failure naming `what`.
pub async fn by_deadline<T>(
    deadline: Instant,
    what: &str,
    fut: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    timeout_at(deadline, fut).await.unwrap_or_else(|_| {
        Err(Error::connection_failed(
            FailureReason::Timeout,
            format!("no answer from Redis while {what} before the deadline"),
        ))
    })
}

/// Connects to `ep` with the profile's [`connection_info`] (the driver
/// authenticates and selects the database), at `ep`'s checked addresses
/// when there are any. The caller bounds it with a deadline; dropping the
/// connection closes the socket and ends the client's driver task.
pub async fn connect(
    config: &RedisConfig,
    checked: &CheckedAddrs,
    ep: &Endpoint,
) -> Result<MultiplexedConnection> {
    if checked.get(ep).is_empty() {
        resolves(ep).await?;
    }
    // The profile's own connection info (credentials and database
    // included), minus the CLIENT SETINFO round trip a probe does not need.
    let info = connection_info(config, ep)?;
    let settings = info.redis_settings().clone().set_skip_set_lib_name();
    let client = client_with(config, info.set_redis_settings(settings))?;
    // The probe's deadline bounds everything: no client-side timeouts.
    let settings = connection_config_via(checked)
        .set_connection_timeout(None)
        .set_response_timeout(None);
    let conn = client
        .get_multiplexed_async_connection_with_config(&settings)
        .await
        .map_err(|e| classify(e, config.tls.enabled))?;
    Ok(conn)
}

/// Resolves `ep` so that a bad name is told apart from other I/O errors
/// (only when no checked addresses stand in for the name).
async fn resolves(ep: &Endpoint) -> Result<()> {
    let mut addrs = tokio::net::lookup_host((ep.host.as_str(), ep.port))
        .await
        .map_err(|e| {
            Error::connection_failed(
                FailureReason::Dns,
                format!("cannot resolve {}: {e}", ep.host),
            )
        })?;
    if addrs.next().is_none() {
        return Err(Error::connection_failed(
            FailureReason::Dns,
            format!("{} has no address", ep.host),
        ));
    }
    Ok(())
}

/// Maps a client error to a classified probe failure with the server's text.
pub fn classify(e: RedisError, tls: bool) -> Error {
    let reason = if e.is_connection_refusal() {
        FailureReason::Refused
    } else if e.is_timeout() {
        FailureReason::Timeout
    } else if matches!(e.kind(), redis::ErrorKind::AuthenticationFailed)
        || matches!(e.code(), Some("NOAUTH" | "WRONGPASS" | "NOPERM"))
    {
        FailureReason::Auth
    } else if e.is_io_error() && tls {
        // Handshake and certificate errors surface as I/O errors.
        FailureReason::Tls
    } else if e.to_string().contains("failed to lookup address") {
        FailureReason::Dns
    } else {
        FailureReason::Other
    };
    Error::connection_failed(reason, e.to_string())
}
