//! The TLS connector handed to amqprs, on the shared `patchbay-tls` config.

use std::sync::Arc;

use amqprs::tls::TlsAdaptor;
use patchbay_core::Result;
use tokio_rustls::TlsConnector;

use crate::config::TlsOptions;

/// A TLS adaptor verifying the server as `host` (or `tls.server_name`).
pub fn adaptor(tls: &TlsOptions, host: &str) -> Result<TlsAdaptor> {
    let config = patchbay_tls::client_config(tls.ca_cert_pem.as_deref())?;
    let name = tls.server_name.clone().unwrap_or_else(|| host.to_owned());
    Ok(TlsAdaptor::new(TlsConnector::from(Arc::new(config)), name))
}
