//! The one way a `nats` profile becomes `async-nats` connect options and a
//! server list: hosts' clients and the connector's probes use the same.

use async_nats::{ConnectOptions, ServerAddr};
use patchbay_core::{Error, Result};

use crate::config::NatsConfig;

/// The connect options of a `nats` profile: its one way to authenticate
/// (user and password, token, or `.creds`), TLS (required, trusting
/// `tls.ca_cert_pem` or the web roots, optionally handshake-first), and
/// the servers tried in the listed order, never the ones the cluster
/// advertises: those were not checked against the network policy. Timeouts,
/// reconnect delays and the client name stay the host's to set.
///
/// Connect with [`server_addrs`]:
///
/// ```no_run
/// # async fn run(config: patchbay_connector_nats::NatsConfig) -> Result<(), Box<dyn std::error::Error>> {
/// use patchbay_connector_nats::{connect_options, server_addrs};
/// let client = connect_options(&config)?
///     .name("orders-service")
///     .connect(server_addrs(&config)?)
///     .await?;
/// client.publish("orders.created", "{}".into()).await?;
/// # Ok(()) }
/// ```
///
/// # Errors
/// `Validation` naming the field when the credentials or the CA do not parse.
pub fn connect_options(config: &NatsConfig) -> Result<ConnectOptions> {
    let mut opts = ConnectOptions::new()
        .retain_servers_order()
        .ignore_discovered_servers();
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
    Ok(opts)
}

/// The profile's servers as `nats://host:port`, in order (TLS is
/// [`connect_options`]' business, so `tls://` servers are listed alike).
///
/// ```
/// let config = serde_json::from_value(serde_json::json!({
///     "servers": ["a", "tls://b:4333"]
/// })).unwrap();
/// let servers = patchbay_connector_nats::server_addrs(&config).unwrap();
/// let ports: Vec<u16> = servers.iter().map(|s| s.port()).collect();
/// assert_eq!(ports, [4222, 4333]);
/// ```
///
/// # Errors
/// `Validation` on `/config/servers` when a server is not `host:port`.
pub fn server_addrs(config: &NatsConfig) -> Result<Vec<ServerAddr>> {
    let endpoints = config.endpoints();
    if endpoints.len() != config.servers.len() || endpoints.is_empty() {
        return Err(Error::invalid(
            "/config/servers",
            "every server must be host:port",
        ));
    }
    endpoints
        .iter()
        .map(|ep| format!("nats://{ep}").parse())
        .collect::<std::result::Result<_, _>>()
        .map_err(|e: std::io::Error| Error::invalid("/config/servers", e.to_string()))
}
