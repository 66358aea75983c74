//! The one way an `mqtt` profile becomes `rumqttc` options: hosts' clients
//! and the connector's probe use the same.

use std::sync::Arc;
use std::time::Duration;

use patchbay_core::{Error, Result};
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
    let broker = config
        .broker()
        .ok_or_else(|| Error::invalid("/config/url", "not an MQTT URL"))?;
    let client_id = format!(
        "{}-{}",
        config.client_id_prefix,
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let mut opts = MqttOptions::new(client_id, broker.endpoint.host, broker.endpoint.port);
    opts.set_keep_alive(Duration::from_secs(30))
        .set_clean_session(true);
    if let Some(user) = &config.username {
        let pass = config.password.as_ref().map_or("", |p| p.expose());
        opts.set_credentials(user.clone(), pass);
    }
    if config.tls() {
        let tls_config = patchbay_tls::client_config(config.tls.ca_cert_pem.as_deref())?;
        opts.set_transport(Transport::tls_with_config(TlsConfiguration::Rustls(
            Arc::new(tls_config),
        )));
    }
    Ok(opts)
}
