//! The one way a `redis` profile becomes a `redis` client: hosts' clients
//! and the connector's probes connect with the same connection info.

use patchbay_core::{Endpoint, Error, Result};
use redis::{Client, ConnectionAddr, ConnectionInfo, RedisConnectionInfo, TlsCertificates};

use crate::config::RedisConfig;

/// The connection info of one node of a `redis` profile: its address
/// (`rediss` when TLS is on, certificate checks as configured), ACL user,
/// password and database. The driver logs in and selects the database
/// when it connects.
///
/// `node` is one of [`RedisConfig::endpoints`]; in cluster mode, pass every
/// node's info to `redis::cluster::ClusterClient` (enable the `redis`
/// crate's `cluster-async` feature in the host).
///
/// # Errors
/// `Validation` when the address cannot be used.
pub fn connection_info(config: &RedisConfig, node: &Endpoint) -> Result<ConnectionInfo> {
    let addr = if config.tls.enabled {
        ConnectionAddr::TcpTls {
            host: node.host.clone(),
            port: node.port,
            insecure: config.tls.insecure_skip_verify,
            tls_params: None,
        }
    } else {
        ConnectionAddr::Tcp(node.host.clone(), node.port)
    };
    let mut settings = RedisConnectionInfo::default().set_db(i64::from(config.database));
    if let Some(password) = &config.password {
        if let Some(user) = &config.username {
            settings = settings.set_username(user);
        }
        settings = settings.set_password(password.expose());
    }
    let info = redis::IntoConnectionInfo::into_connection_info(addr)
        .map_err(|e| Error::invalid("/config/addresses", e.to_string()))?;
    Ok(info.set_redis_settings(settings))
}

/// A client for the profile's server (the first address; in cluster mode
/// see [`connection_info`]), trusting `tls.ca_cert_pem` when given.
/// Creating it opens nothing; connect with, for example,
/// `client.get_multiplexed_async_connection().await`.
///
/// ```
/// let config = serde_json::from_value(serde_json::json!({
///     "addresses": ["cache.internal:6380"], "username": "app", "password": "s3cret", "database": 2
/// })).unwrap();
/// let client = patchbay_connector_redis::client(&config).unwrap();
/// let info = client.get_connection_info();
/// assert_eq!(info.redis_settings().db(), 2);
/// assert_eq!(info.addr().to_string(), "cache.internal:6380");
/// ```
///
/// # Errors
/// `Validation` when there is no usable address or the CA does not parse.
pub fn client(config: &RedisConfig) -> Result<Client> {
    // A host may fill the config in by hand: every address must parse,
    // not only the first.
    let nodes = config.endpoints();
    let node = match nodes.first() {
        Some(node) if nodes.len() == config.addresses.len() => node,
        _ => {
            return Err(Error::invalid(
                "/config/addresses",
                "every address must be host:port",
            ))
        }
    };
    client_with(config, connection_info(config, node)?)
}

/// A client for `info` with the profile's TLS trust (the probes use this
/// with their own tweak of [`connection_info`]).
pub(crate) fn client_with(config: &RedisConfig, info: ConnectionInfo) -> Result<Client> {
    let tls = &config.tls;
    if tls.enabled {
        ensure_crypto_provider();
    }
    let built = match &tls.ca_cert_pem {
        Some(pem) if tls.enabled => Client::build_with_tls(
            info,
            TlsCertificates {
                client_tls: None,
                root_cert: Some(pem.as_bytes().to_vec()),
            },
        ),
        _ => Client::open(info),
    };
    built.map_err(|e| Error::invalid("/config/tls", e.to_string()))
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
