//! Certificates checked against the host name while the client connects to
//! a checked address: the drivers take one host for both, so they are
//! handed the address and this verifier puts the name back.

use std::net::IpAddr;
use std::sync::Arc;

use patchbay_core::CheckedAddrs;
use tokio_rustls::rustls::client::danger::{
    HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier,
};
use tokio_rustls::rustls::client::WebPkiServerVerifier;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use tokio_rustls::rustls::{DigitallySignedStruct, Error, SignatureScheme};

/// Verifies a certificate presented at a checked address against the names
/// that resolved to it; any other server name as usual.
#[derive(Debug)]
pub(crate) struct NamedAddrVerifier {
    inner: Arc<WebPkiServerVerifier>,
    names: Vec<(IpAddr, ServerName<'static>)>,
}

impl NamedAddrVerifier {
    /// `None` when no checked endpoint has a host name (IP literals verify
    /// as themselves).
    pub(crate) fn new(inner: Arc<WebPkiServerVerifier>, checked: &CheckedAddrs) -> Option<Self> {
        let names: Vec<_> = checked
            .iter()
            .filter(|(ep, _)| ep.host.parse::<IpAddr>().is_err())
            .filter_map(|(ep, addrs)| {
                let name = ServerName::try_from(ep.host.clone()).ok()?;
                Some(addrs.iter().map(move |a| (a.ip(), name.clone())))
            })
            .flatten()
            .collect();
        (!names.is_empty()).then_some(Self { inner, names })
    }
}

impl ServerCertVerifier for NamedAddrVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let verify = |name: &ServerName<'_>| {
            self.inner
                .verify_server_cert(end_entity, intermediates, name, ocsp_response, now)
        };
        let ServerName::IpAddress(ip) = server_name else {
            return verify(server_name);
        };
        let ip = IpAddr::from(*ip);
        // Two names of the config may share an address: the certificate
        // must be valid for one of them.
        let mut last = None;
        for (_, name) in self.names.iter().filter(|(a, _)| *a == ip) {
            match verify(name) {
                Ok(ok) => return Ok(ok),
                Err(e) => last = Some(e),
            }
        }
        last.map_or_else(|| verify(server_name), Err)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}
