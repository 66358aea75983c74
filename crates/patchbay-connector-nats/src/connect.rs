//! One client connection, bounded by the probe's deadline, and failure
//! classification.

use std::time::Duration;

use async_nats::{Client, ConnectError, ConnectErrorKind};
use patchbay_core::{CheckedAddrs, Error, FailureReason, Result};
use tokio::time::{timeout_at, Instant};

use crate::client::connect_via;
use crate::config::NatsConfig;

/// Runs `fut` until `deadline`; past it, a `timeout` failure naming `what`.
pub async fn by_deadline<T>(
    deadline: Instant,
    what: &str,
    fut: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    timeout_at(deadline, fut).await.unwrap_or_else(|_| {
        Err(Error::connection_failed(
            FailureReason::Timeout,
            format!("no answer from NATS while {what} before the deadline"),
        ))
    })
}

/// Connects with the profile's options and servers, aimed at the `checked`
/// addresses ([`connect_via`]; CONNECT, then PING/PONG: the server has
/// checked the credentials when this returns). Each server address is
/// tried once, in order, with no delay; dropping the client ends its
/// connection task.
pub async fn connect(
    config: &NatsConfig,
    checked: &CheckedAddrs,
    deadline: Instant,
) -> Result<Client> {
    let left = deadline.saturating_duration_since(Instant::now());
    // The profile's own options; the deadline cuts first, so the client's
    // own timeouts are only a backstop.
    let (opts, addrs) = connect_via(config, checked)?;
    let opts = opts
        .name("patchbay connection test")
        .reconnect_delay_callback(|_| Duration::ZERO)
        .connection_timeout(left + Duration::from_secs(1))
        .request_timeout(Some(left + Duration::from_secs(1)));
    by_deadline(deadline, "connecting", async {
        opts.connect(addrs)
            .await
            .map_err(|e| classify(&e, config.tls_required()))
    })
    .await
}

/// Maps a connect error to a classified failure with the server's text.
pub fn classify(e: &ConnectError, tls: bool) -> Error {
    let text = e.to_string();
    let reason = match e.kind() {
        ConnectErrorKind::Dns => FailureReason::Dns,
        ConnectErrorKind::Authentication | ConnectErrorKind::AuthorizationViolation => {
            FailureReason::Auth
        }
        ConnectErrorKind::TimedOut => FailureReason::Timeout,
        ConnectErrorKind::Tls => FailureReason::Tls,
        ConnectErrorKind::Io if text.contains("Connection refused") => FailureReason::Refused,
        // Handshake and certificate errors surface as I/O errors, also when
        // the server required TLS and the client upgraded unasked.
        ConnectErrorKind::Io if tls || rustls_failure(e) => FailureReason::Tls,
        _ => FailureReason::Other,
    };
    Error::connection_failed(reason, text)
}

/// Whether a rustls error (a failed handshake or certificate check) is
/// among `e`'s sources, bare or inside an `io::Error`.
fn rustls_failure(e: &(dyn std::error::Error + 'static)) -> bool {
    use patchbay_tls::tokio_rustls::rustls;
    let mut next = Some(e);
    while let Some(err) = next {
        let inner = err
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref);
        if err.is::<rustls::Error>() || inner.is_some_and(|i| i.is::<rustls::Error>()) {
            return true;
        }
        next = err.source();
    }
    false
}
