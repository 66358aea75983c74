//! The rustls client config: `ring` chosen explicitly (no reliance on a
//! process-wide provider), CA from the config's PEM or the web roots.

use std::sync::Arc;

use patchbay_core::{Error, Result};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

use crate::config::TlsOptions;

/// A client config trusting `tls.ca_cert_pem`, or the web roots.
pub fn client_config(tls: &TlsOptions) -> Result<ClientConfig> {
    let mut roots = RootCertStore::empty();
    match &tls.ca_cert_pem {
        Some(pem) => {
            for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
                let cert =
                    cert.map_err(|e| Error::invalid("/config/tls/ca_cert_pem", e.to_string()))?;
                roots
                    .add(cert)
                    .map_err(|e| Error::invalid("/config/tls/ca_cert_pem", e.to_string()))?;
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
