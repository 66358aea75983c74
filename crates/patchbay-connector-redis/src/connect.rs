//! One authenticated connection to one node, and failure classification.

use patchbay_core::{Endpoint, Error, FailureReason, Result};
use redis::aio::MultiplexedConnection;
use redis::{
    AsyncConnectionConfig, Client, ConnectionAddr, IntoConnectionInfo, RedisConnectionInfo,
    RedisError, TlsCertificates,
};
use tokio::time::{timeout_at, Instant};

use crate::config::RedisConfig;

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

/// Connects to `ep`, authenticates and selects the database. The caller
/// bounds it with a deadline; dropping the connection closes the socket and
/// ends the client's driver task.
pub async fn connect(config: &RedisConfig, ep: &Endpoint) -> Result<MultiplexedConnection> {
    // Resolve first so a bad name is told apart from other I/O errors.
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
    let tls = &config.tls;
    if tls.enabled {
        ensure_crypto_provider();
    }
    let addr = if tls.enabled {
        ConnectionAddr::TcpTls {
            host: ep.host.clone(),
            port: ep.port,
            insecure: tls.insecure_skip_verify,
            tls_params: None,
        }
    } else {
        ConnectionAddr::Tcp(ep.host.clone(), ep.port)
    };
    // Credentials are sent below with our own AUTH so the server's own
    // message comes back on failure; no CLIENT SETINFO round trip.
    let info = addr
        .into_connection_info()
        .map_err(|e| classify(e, false))?
        .set_redis_settings(RedisConnectionInfo::default().set_skip_set_lib_name());
    let client = match &tls.ca_cert_pem {
        Some(pem) if tls.enabled => Client::build_with_tls(
            info,
            TlsCertificates {
                client_tls: None,
                root_cert: Some(pem.as_bytes().to_vec()),
            },
        ),
        _ => Client::open(info),
    }
    .map_err(|e| classify(e, tls.enabled))?;
    // The probe's deadline bounds everything: no client-side timeouts.
    let settings = AsyncConnectionConfig::new()
        .set_connection_timeout(None)
        .set_response_timeout(None);
    let mut conn = client
        .get_multiplexed_async_connection_with_config(&settings)
        .await
        .map_err(|e| classify(e, tls.enabled))?;
    if let Some(password) = &config.password {
        let mut auth = redis::cmd("AUTH");
        if let Some(user) = &config.username {
            auth.arg(user);
        }
        auth.arg(password.expose());
        auth.query_async::<()>(&mut conn)
            .await
            .map_err(|e| classify(e, tls.enabled))?;
    }
    if config.database != 0 {
        redis::cmd("SELECT")
            .arg(config.database)
            .query_async::<()>(&mut conn)
            .await
            .map_err(|e| classify(e, tls.enabled))?;
    }
    Ok(conn)
}

/// redis builds its rustls config from the process-wide crypto provider,
/// which rustls cannot pick by itself when a build enables both `ring` and
/// `aws-lc-rs`. Install `ring` only if the host installed nothing.
fn ensure_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Losing a race to another installer is fine: one is in place.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
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
