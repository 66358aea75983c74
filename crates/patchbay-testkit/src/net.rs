//! Loopback targets for failure tests: a port that refuses and a listener
//! that accepts but never speaks. Tests never send traffic off this machine.

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// A loopback port with nothing listening (bound, then released).
pub fn refused_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// Accepts TCP connections and holds them open without a byte in reply, so
/// every protocol handshake waits: a "silent host" for timeout tests.
#[derive(Debug)]
pub struct SilentListener {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl SilentListener {
    /// Binds 127.0.0.1 on a free port.
    pub async fn bind() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let task = tokio::spawn(async move {
            let mut held: Vec<TcpStream> = Vec::new();
            while let Ok((s, _)) = listener.accept().await {
                held.push(s);
            }
        });
        Self { addr, task }
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }
}

impl Drop for SilentListener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Whether this run must not skip tests whose service is missing
/// (`CI=true`).
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// For tests that need a live service: returns the value when it is there;
/// when it is not, panics under `CI=true` (with `how_to_start`) and
/// otherwise prints why the test is skipped and returns `None`.
pub fn require<T, E: std::fmt::Display>(
    service: &str,
    how_to_start: &str,
    found: Result<T, E>,
) -> Option<T> {
    match found {
        Ok(v) => Some(v),
        Err(e) if in_ci() => panic!("{service} is required when CI=true but unreachable: {e}. Start it with: {how_to_start}"),
        Err(e) => {
            eprintln!("SKIPPED: {service} unreachable ({e}); start it with: {how_to_start}");
            None
        }
    }
}
