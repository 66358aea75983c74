//! A TLS front for a plain local service: terminates TLS with a fresh
//! self-signed certificate for the names given and pipes the bytes to the
//! service. Lets a test run a client's TLS path (server name, certificate
//! check, SNI) against a real server that has no TLS of its own.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::{self, ServerConfig};
use tokio_rustls::TlsAcceptor;

/// A TLS-terminating proxy on 127.0.0.1 in front of `upstream`.
#[derive(Debug)]
pub struct TlsProxy {
    addr: SocketAddr,
    ca_pem: String,
    sni: Arc<Mutex<Vec<Option<String>>>>,
    task: JoinHandle<()>,
}

impl TlsProxy {
    /// Starts the proxy; its certificate names `names` (DNS names or IP
    /// addresses) and is its own CA ([`ca_pem`](Self::ca_pem)).
    ///
    /// # Panics
    /// When a name cannot go in a certificate or the port cannot be bound.
    pub async fn start(names: &[&str], upstream: SocketAddr) -> Self {
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let ck = rcgen::generate_simple_self_signed(names).expect("certificate");
        let ca_pem = ck.cert.pem();
        let key = PrivatePkcs8KeyDer::from(ck.signing_key.serialize_der());
        let config =
            ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .expect("protocol versions")
                .with_no_client_auth()
                .with_single_cert(
                    vec![CertificateDer::from(ck.cert.der().to_vec())],
                    key.into(),
                )
                .expect("server config");
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let sni = Arc::new(Mutex::new(Vec::new()));
        let seen = sni.clone();
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let (acceptor, seen) = (acceptor.clone(), seen.clone());
                tokio::spawn(async move {
                    // A client that rejects the certificate ends here.
                    let Ok(mut tls) = acceptor.accept(socket).await else {
                        return;
                    };
                    let name = tls.get_ref().1.server_name().map(str::to_owned);
                    seen.lock().expect("sni").push(name);
                    if let Ok(mut plain) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                    }
                });
            }
        });
        Self {
            addr,
            ca_pem,
            sni,
            task,
        }
    }

    /// Where the proxy listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The certificate (PEM), to trust as the CA.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The server name (SNI) each completed handshake sent, in order.
    pub fn server_names(&self) -> Vec<Option<String>> {
        self.sni.lock().expect("sni").clone()
    }
}

impl Drop for TlsProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}
