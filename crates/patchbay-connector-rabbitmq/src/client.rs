//! The one way a `rabbitmq` profile becomes amqprs connection arguments:
//! hosts' clients and the connector's probe use the same.

use amqprs::connection::OpenConnectionArguments;
use patchbay_core::{Error, Result};

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
    let ep = config
        .endpoint()
        .ok_or_else(|| Error::invalid("/config/host", "not a host name or IP address"))?;
    let mut args = OpenConnectionArguments::new(
        &ep.host,
        ep.port,
        &config.username,
        config.password.as_ref().map_or("", |p| p.expose()),
    );
    args.virtual_host(&config.virtual_host);
    if config.tls.enabled {
        args.tls_adaptor(crate::tls::adaptor(&config.tls, &ep.host)?);
    }
    Ok(args)
}
