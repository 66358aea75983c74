//! The TLS listeners `scripts/services/tls.sh` starts (Redis, NATS, MQTT,
//! RabbitMQ beside the system services) and the throwaway PKI they use.
//!
//! The script writes paths and addresses to `target/tls-services.env` in
//! the checkout (or the file named by `PATCHBAY_TLS_ENV_FILE`); a variable
//! of the same name in the environment wins over the file.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

/// How to start the listeners, for [`crate::net::require`]'s message.
pub const HOW_TO_START: &str = "scripts/services/tls.sh start";

/// One TLS listener and the test PKI: certificates and keys as PEM text.
///
/// The server certificate names `localhost` only (DNS), signed by `ca_pem`:
/// connecting to [`host`](Self::host) verifies, connecting to `127.0.0.1`
/// is a wrong host name. `wrong_ca_pem` has the same subject as the CA
/// but another key, so only a signature check tells them apart.
#[derive(Clone)]
pub struct TlsListener {
    /// `localhost`: the name the server certificate carries.
    pub host: String,
    /// The listener's port on 127.0.0.1.
    pub port: u16,
    /// The CA that signed the server (and `client_*`) certificates.
    pub ca_pem: String,
    /// Another CA with the same subject name and a different key.
    pub wrong_ca_pem: String,
    /// A client certificate (clientAuth) signed by the CA, for mTLS.
    pub client_cert_pem: String,
    /// Its private key (PKCS#8 PEM).
    pub client_key_pem: String,
    /// A client certificate with the same subject signed by the wrong CA.
    pub wrong_client_cert_pem: String,
    /// Its private key (PKCS#8 PEM).
    pub wrong_client_key_pem: String,
}

impl std::fmt::Debug for TlsListener {
    // Throwaway test keys, but keys all the same: never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsListener")
            .field("host", &self.host)
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl TlsListener {
    /// The listener of `service` (`REDIS`, `NATS`, `MQTT` or `AMQP`): `None`
    /// (a visible skip) when it is not running, a panic under CI
    /// ([`crate::net::require`]).
    pub fn require(service: &str) -> Option<Self> {
        crate::net::require(
            &format!("TLS listener {service}"),
            HOW_TO_START,
            Self::find(service),
        )
    }

    /// `host:port`.
    pub fn host_port(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// `127.0.0.1:port`: the same listener under an address the
    /// certificate does not name.
    pub fn ip_port(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn find(service: &str) -> Result<Self, String> {
        let settings = settings();
        let get = |name: &str| {
            settings
                .get(name)
                .cloned()
                .ok_or_else(|| format!("{name} not set (no {})", env_file().display()))
        };
        let pem = |name: &str| {
            let path = get(name)?;
            std::fs::read_to_string(&path).map_err(|e| format!("{name}={path}: {e}"))
        };
        let addr = get(&format!("PATCHBAY_TLS_{service}"))?;
        let (host, port) = addr
            .rsplit_once(':')
            .and_then(|(h, p)| Some((h.to_owned(), p.parse::<u16>().ok()?)))
            .ok_or_else(|| format!("{addr:?} is not host:port"))?;
        let ip = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        std::net::TcpStream::connect_timeout(&ip, Duration::from_secs(2))
            .map_err(|e| format!("{ip}: {e}"))?;
        Ok(Self {
            host,
            port,
            ca_pem: pem("PATCHBAY_TLS_CA")?,
            wrong_ca_pem: pem("PATCHBAY_TLS_WRONG_CA")?,
            client_cert_pem: pem("PATCHBAY_TLS_CLIENT_CERT")?,
            client_key_pem: pem("PATCHBAY_TLS_CLIENT_KEY")?,
            wrong_client_cert_pem: pem("PATCHBAY_TLS_WRONG_CLIENT_CERT")?,
            wrong_client_key_pem: pem("PATCHBAY_TLS_WRONG_CLIENT_KEY")?,
        })
    }
}

fn env_file() -> PathBuf {
    std::env::var_os("PATCHBAY_TLS_ENV_FILE").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/tls-services.env"),
        PathBuf::from,
    )
}

/// The env file's `NAME=value` lines, overridden by the environment.
fn settings() -> HashMap<String, String> {
    let mut found: HashMap<String, String> = std::fs::read_to_string(env_file())
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    for (k, v) in std::env::vars() {
        if k.starts_with("PATCHBAY_TLS_") {
            found.insert(k, v);
        }
    }
    found
}
