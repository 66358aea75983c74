//! The one way an `mqtt` profile becomes `rumqttc` options: hosts' clients
//! and the connector's probe use the same.

use std::sync::Arc;
use std::time::Duration;

use patchbay_core::{CheckedAddrs, Error, Result};
use rumqttc::{MqttOptions, TlsConfiguration, Transport};

use crate::config::MqttConfig;

/// The MQTT options of an `mqtt` profile: the broker from its URL, a
/// client id of `client_id_prefix` and a random suffix (so two clients of
/// one profile never kick each other off the broker), user and password,
/// and the TLS transport (trusting `tls.ca_cert_pem` or the web roots) when
/// TLS is on. A clean session with a 30 s keep-alive; the host may change
/// either (`set_clean_session`, `set_keep_alive`) or the client id.
///
/// ```
/// let config = serde_json::from_value(serde_json::json!({
///     "url": "mqtts://broker.internal", "username": "sensor", "password": "s3cret"
/// })).unwrap();
/// let options = patchbay_connector_mqtt::mqtt_options(&config).unwrap();
/// assert_eq!(options.broker_address(), ("broker.internal".to_owned(), 8883));
/// assert!(options.client_id().starts_with("patchbay-"));
/// assert!(matches!(options.transport(), patchbay_connector_mqtt::rumqttc::Transport::Tls(_)));
/// // let (client, eventloop) = rumqttc::AsyncClient::new(options, 10);
/// ```
///
/// # Errors
/// `Validation` when the URL does not parse or the CA does not.
pub fn mqtt_options(config: &MqttConfig) -> Result<MqttOptions> {
    let broker = broker(config)?;
    options(config, &broker.host, broker.port, &CheckedAddrs::default())
}

/// [`mqtt_options`] aimed at the addresses the broker's host name was
/// resolved to and checked (`checked`, as [`ResolvedConfig::checked`]
/// gives them): one set of options per address, in order, to try in turn,
/// each naming the address, so the client does no lookup of its own.
/// rumqttc then asks TLS for the address, so the TLS config checks the
/// certificate against the host name that resolved to it
/// ([`patchbay_tls::client_config_via`]): as strict as with the name, but
/// no SNI is sent. Without checked addresses the one item is
/// [`mqtt_options`] itself. This is how the connector's probe connects.
///
/// ```
/// use patchbay_core::{CheckedAddrs, Endpoint};
/// let config = serde_json::from_value(serde_json::json!({"url": "mqtts://broker.internal"})).unwrap();
/// let checked = CheckedAddrs::default()
///     .with(Endpoint::new("broker.internal", 8883), vec!["10.0.0.7:8883".parse().unwrap()]);
/// let options = patchbay_connector_mqtt::mqtt_options_via(&config, &checked).unwrap();
/// assert_eq!(options[0].broker_address(), ("10.0.0.7".to_owned(), 8883));
/// ```
///
/// [`ResolvedConfig::checked`]: patchbay_core::ResolvedConfig::checked
///
/// # Errors
/// As [`mqtt_options`].
pub fn mqtt_options_via(config: &MqttConfig, checked: &CheckedAddrs) -> Result<Vec<MqttOptions>> {
    let broker = broker(config)?;
    let addrs = checked.get(&broker);
    if addrs.is_empty() {
        return Ok(vec![mqtt_options(config)?]);
    }
    addrs
        .iter()
        .map(|a| options(config, &a.ip().to_string(), a.port(), checked))
        .collect()
}

fn broker(config: &MqttConfig) -> Result<patchbay_core::Endpoint> {
    config
        .broker()
        .map(|b| b.endpoint)
        .ok_or_else(|| Error::invalid("/config/url", "not an MQTT URL"))
}

fn options(
    config: &MqttConfig,
    host: &str,
    port: u16,
    checked: &CheckedAddrs,
) -> Result<MqttOptions> {
    let client_id = format!(
        "{}-{}",
        config.client_id_prefix,
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let mut opts = MqttOptions::new(client_id, host, port);
    opts.set_keep_alive(Duration::from_secs(30))
        .set_clean_session(true);
    if let Some(user) = &config.username {
        let pass = config.password.as_ref().map_or("", |p| p.expose());
        opts.set_credentials(user.clone(), pass);
    }
    if config.tls() {
        let tls_config =
            patchbay_tls::client_config_via(config.tls.ca_cert_pem.as_deref(), checked)?;
        opts.set_transport(Transport::tls_with_config(TlsConfiguration::Rustls(
            Arc::new(tls_config),
        )));
    }
    Ok(opts)
}
