//! The one way a `nats` profile becomes `async-nats` connect options and a
//! server list: hosts' clients and the connector's probes use the same.

use async_nats::{ConnectOptions, ServerAddr};
use patchbay_core::{CheckedAddrs, Error, Result};

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
    options(config, &CheckedAddrs::default())
}

/// [`connect_options`] and [`server_addrs`] aimed at the addresses the
/// servers' host names were resolved to and checked (`checked`, as
/// [`ResolvedConfig::checked`] gives them): each server becomes its
/// checked addresses, in order, so the client does no lookup of its own.
/// The client then asks TLS for an address, so the TLS config checks the
/// certificate against the host name that resolved to it
/// ([`patchbay_tls::client_config_via`]): as strict as with the name, but
/// no SNI is sent. A server without checked addresses keeps its name. This
/// is how the connector's probes connect.
///
/// ```
/// use patchbay_core::{CheckedAddrs, Endpoint};
/// let config = serde_json::from_value(serde_json::json!({"servers": ["nats.internal"]})).unwrap();
/// let checked = CheckedAddrs::default()
///     .with(Endpoint::new("nats.internal", 4222), vec!["10.0.0.7:4222".parse().unwrap()]);
/// let (_options, servers) = patchbay_connector_nats::connect_via(&config, &checked).unwrap();
/// assert_eq!(servers[0].host(), "10.0.0.7");
/// ```
///
/// [`ResolvedConfig::checked`]: patchbay_core::ResolvedConfig::checked
///
/// # Errors
/// As [`connect_options`] and [`server_addrs`].
pub fn connect_via(
    config: &NatsConfig,
    checked: &CheckedAddrs,
) -> Result<(ConnectOptions, Vec<ServerAddr>)> {
    let names = server_addrs(config)?;
    let mut servers = Vec::with_capacity(names.len());
    for (ep, name) in config.endpoints().iter().zip(names) {
        let addrs = checked.get(ep);
        if addrs.is_empty() {
            servers.push(name);
        }
        for addr in addrs {
            let server = format!("nats://{addr}")
                .parse()
                .map_err(|e: std::io::Error| Error::invalid("/config/servers", e.to_string()))?;
            servers.push(server);
        }
    }
    Ok((options(config, checked)?, servers))
}

fn options(config: &NatsConfig, checked: &CheckedAddrs) -> Result<ConnectOptions> {
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
            .tls_client_config(patchbay_tls::client_config_via(
                config.tls.ca_cert_pem.as_deref(),
                checked,
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
