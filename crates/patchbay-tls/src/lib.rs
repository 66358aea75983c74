//! The rustls client config the NATS, MQTT and RabbitMQ connectors share:
//! the `ring` provider chosen explicitly (no reliance on a process-wide
//! default), trusting the config's PEM CA certificates or else the web roots.
#![warn(missing_docs)]

use std::sync::Arc;

use patchbay_core::{Error, Result};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

pub use tokio_rustls;

/// A client config trusting the certificates in `ca_cert_pem`, or the web
/// roots when there are none.
///
/// # Errors
/// `Validation` on `/config/tls/ca_cert_pem` when the PEM does not parse.
pub fn client_config(ca_cert_pem: Option<&str>) -> Result<ClientConfig> {
    let mut roots = RootCertStore::empty();
    match ca_cert_pem {
        Some(pem) => {
            let bad = |e: String| Error::invalid("/config/tls/ca_cert_pem", e);
            for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
                roots
                    .add(cert.map_err(|e| bad(e.to_string()))?)
                    .map_err(|e| bad(e.to_string()))?;
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    Ok(ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::invalid("/config/tls", e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn web_roots_by_default_and_bad_pem_names_the_field() {
        assert!(client_config(None).is_ok());
        let pem = "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n";
        let err = client_config(Some(pem)).unwrap_err();
        assert_eq!(err.code(), "VALIDATION_FAILED");
        assert!(err.to_string().contains("/config/tls/ca_cert_pem"), "{err}");
    }
}
