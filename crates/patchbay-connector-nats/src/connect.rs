//! One client connection, bounded by the probe's deadline, and failure
//! classification.

use std::time::Duration;

use async_nats::{Client, ConnectError, ConnectErrorKind, ConnectOptions, ServerAddr};
use patchbay_core::{Error, FailureReason, Result};
use tokio::time::{timeout_at, Instant};

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

/// Connects (CONNECT, then PING/PONG: the server has checked the
/// credentials when this returns). Each listed server is tried once, in
/// order, with no delay; dropping the client ends its connection task.
pub async fn connect(config: &NatsConfig, deadline: Instant) -> Result<Client> {
    let left = deadline.saturating_duration_since(Instant::now());
    // The deadline cuts first; the client's own timeouts are only a backstop.
    let mut opts = ConnectOptions::new()
        .name("patchbay connection test")
        .retain_servers_order()
        .ignore_discovered_servers()
        .reconnect_delay_callback(|_| Duration::ZERO)
        .connection_timeout(left + Duration::from_secs(1))
        .request_timeout(Some(left + Duration::from_secs(1)));
    if let (Some(user), Some(pass)) = (&config.username, &config.password) {
        opts = opts.user_and_password(user.clone(), pass.expose().to_owned());
    }
    if let Some(token) = &config.token {
        opts = opts.token(token.expose().to_owned());
    }
    if let Some(creds) = &config.credentials {
        // The parser's message never quotes the file.
        opts = opts
            .credentials(creds.expose())
            .map_err(|_| Error::invalid("/config/credentials", "not a valid NATS .creds file"))?;
    }
    if config.tls_required() {
        opts = opts
            .require_tls(true)
            .tls_client_config(patchbay_tls::client_config(
                config.tls.ca_cert_pem.as_deref(),
            )?);
        if config.tls.handshake_first {
            opts = opts.tls_first();
        }
    }
    let addrs: Vec<ServerAddr> = config
        .endpoints()
        .iter()
        .map(|ep| format!("nats://{ep}").parse())
        .collect::<std::result::Result<_, _>>()
        .map_err(|e: std::io::Error| Error::invalid("/config/servers", e.to_string()))?;
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
        // Handshake and certificate errors surface as I/O errors.
        ConnectErrorKind::Io if tls => FailureReason::Tls,
        _ => FailureReason::Other,
    };
    Error::connection_failed(reason, text)
}
