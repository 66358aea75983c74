//! The rustls client config the NATS, MQTT and RabbitMQ connectors share:
//! the `ring` provider chosen explicitly (no reliance on a process-wide
//! default), trusting the config's PEM CA certificates or else the web roots;
//! and the same config for clients connecting to checked addresses
//! ([`client_config_via`]).
#![warn(missing_docs)]

mod named;

use std::sync::Arc;

use patchbay_core::{CheckedAddrs, Error, Result};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use tokio_rustls::rustls::client::WebPkiServerVerifier;
use tokio_rustls::rustls::crypto::CryptoProvider;
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

pub use tokio_rustls;

/// A client config trusting the certificates in `ca_cert_pem`, or the web
/// roots when there are none.
///
/// # Errors
/// `Validation` on `/config/tls/ca_cert_pem` when the PEM does not parse.
pub fn client_config(ca_cert_pem: Option<&str>) -> Result<ClientConfig> {
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    Ok(builder(&provider)?
        .with_root_certificates(roots(ca_cert_pem)?)
        .with_no_client_auth())
}

/// [`client_config`] for a client handed checked addresses in place of
/// host names (as [`ResolvedConfig::checked`] gives them): such a client
/// asks TLS for the address, and this config checks the certificate
/// against the host name(s) that resolved to it instead, as strictly as
/// with the name. What stays different: no SNI is sent for an address.
/// Without a host name among `checked`, this is [`client_config`].
///
/// [`ResolvedConfig::checked`]: patchbay_core::ResolvedConfig::checked
///
/// # Errors
/// As [`client_config`].
pub fn client_config_via(
    ca_cert_pem: Option<&str>,
    checked: &CheckedAddrs,
) -> Result<ClientConfig> {
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let roots = Arc::new(roots(ca_cert_pem)?);
    let webpki = WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
        .build()
        .map_err(|e| Error::invalid("/config/tls", e.to_string()))?;
    let Some(verifier) = named::NamedAddrVerifier::new(webpki, checked) else {
        return client_config(ca_cert_pem);
    };
    Ok(builder(&provider)?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth())
}

fn builder(
    provider: &Arc<CryptoProvider>,
) -> Result<tokio_rustls::rustls::ConfigBuilder<ClientConfig, tokio_rustls::rustls::WantsVerifier>>
{
    ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::invalid("/config/tls", e.to_string()))
}

/// The certificates in `ca_cert_pem`, or the web roots.
fn roots(ca_cert_pem: Option<&str>) -> Result<RootCertStore> {
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
    Ok(roots)
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
