//! The one way a `rabbitmq` profile becomes amqprs connection arguments:
//! hosts' clients and the connector's probe use the same.

use std::net::SocketAddr;

use amqprs::connection::OpenConnectionArguments;
use patchbay_core::{CheckedAddrs, Endpoint, Error, Result};

use crate::config::RabbitMqConfig;

/// The connection arguments of a `rabbitmq` profile: host, port (5672, or
/// 5671 with TLS), virtual host, user and password (SASL PLAIN), and with
/// TLS on, the TLS adaptor (trusting `tls.ca_cert_pem` or the web roots,
/// verifying `tls.server_name` or the host). The connection name and the
/// heartbeat stay the host's to set.
///
/// ```
/// let config = serde_json::from_value(serde_json::json!({
///     "host": "mq.internal", "username": "app", "password": "s3cret",
///     "virtual_host": "orders", "tls": { "enabled": true }
/// })).unwrap();
/// let args = patchbay_connector_rabbitmq::open_connection_arguments(&config).unwrap();
/// assert_eq!((args.get_host(), args.get_port()), ("mq.internal", 5671));
/// assert_eq!(args.get_virtual_host(), "orders");
/// assert!(args.get_tls_adaptor().is_some());
/// // let connection = amqprs::connection::Connection::open(&args).await?;
/// ```
///
/// # Errors
/// `Validation` when the host is not usable or the CA does not parse.
pub fn open_connection_arguments(config: &RabbitMqConfig) -> Result<OpenConnectionArguments> {
    let ep = endpoint(config)?;
    arguments(config, &ep, &ep.host)
}

/// [`open_connection_arguments`] aimed at the addresses the host name was
/// resolved to and checked (`checked`, as [`ResolvedConfig::checked`]
/// gives them): one set per address, in order, to try in turn, each
/// connecting to the address, so the client does no lookup of its own.
/// amqprs takes the TLS server name apart from the host, so TLS is
/// unchanged: SNI and the certificate check use `tls.server_name` or the
/// host name. Without checked addresses the one item is
/// [`open_connection_arguments`] itself. This is how the probe connects.
///
/// ```
/// use patchbay_core::{CheckedAddrs, Endpoint};
/// let config = serde_json::from_value(serde_json::json!({
///     "host": "mq.internal", "username": "app", "tls": { "enabled": true }
/// })).unwrap();
/// let checked = CheckedAddrs::default()
///     .with(Endpoint::new("mq.internal", 5671), vec!["[fd00::7]:5671".parse().unwrap()]);
/// let args = patchbay_connector_rabbitmq::open_connection_arguments_via(&config, &checked).unwrap();
/// assert_eq!((args[0].get_host(), args[0].get_port()), ("[fd00::7]", 5671));
/// ```
///
/// [`ResolvedConfig::checked`]: patchbay_core::ResolvedConfig::checked
///
/// # Errors
/// As [`open_connection_arguments`].
pub fn open_connection_arguments_via(
    config: &RabbitMqConfig,
    checked: &CheckedAddrs,
) -> Result<Vec<OpenConnectionArguments>> {
    let ep = endpoint(config)?;
    let addrs = checked.get(&ep);
    if addrs.is_empty() {
        return Ok(vec![arguments(config, &ep, &ep.host)?]);
    }
    addrs
        .iter()
        .map(|a| {
            let to = Endpoint::new(host_of(a), a.port());
            arguments(config, &to, &ep.host)
        })
        .collect()
}

fn endpoint(config: &RabbitMqConfig) -> Result<Endpoint> {
    config
        .endpoint()
        .ok_or_else(|| Error::invalid("/config/host", "not a host name or IP address"))
}

/// amqprs connects to `format!("{host}:{port}")`: an IPv6 address needs
/// its brackets to parse as an address rather than be looked up.
fn host_of(addr: &SocketAddr) -> String {
    match addr {
        SocketAddr::V4(a) => a.ip().to_string(),
        SocketAddr::V6(a) => format!("[{}]", a.ip()),
    }
}

/// Arguments connecting to `to`, with TLS verifying `tls_host` (unless
/// `tls.server_name` says otherwise).
fn arguments(
    config: &RabbitMqConfig,
    to: &Endpoint,
    tls_host: &str,
) -> Result<OpenConnectionArguments> {
    let mut args = OpenConnectionArguments::new(
        &to.host,
        to.port,
        &config.username,
        config.password.as_ref().map_or("", |p| p.expose()),
    );
    args.virtual_host(&config.virtual_host);
    if config.tls.enabled {
        args.tls_adaptor(crate::tls::adaptor(&config.tls, tls_host)?);
    }
    Ok(args)
}
