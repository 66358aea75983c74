//! Loopback targets for failure tests: a port that refuses and a listener
//! that accepts but never speaks. Tests never send traffic off this machine.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// A host name the system resolver rejects locally, at once: its first label
/// has 70 characters (DNS allows 63), so no query leaves the machine and
/// the answer does not depend on the network's DNS server (or its absence).
/// `Endpoint::parse` and the connectors' config checks accept it.
pub const UNRESOLVABLE_HOST: &str =
    "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn.invalid";

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

/// Accepts TCP connections on a loopback address, records who connected and
/// holds the connections open without a byte in reply: proof of whether
/// anything connected.
#[derive(Debug)]
pub struct CountingListener {
    addr: SocketAddr,
    peers: Arc<Mutex<Vec<SocketAddr>>>,
    /// The connections `settle` made, not counted.
    own: Mutex<Vec<SocketAddr>>,
    changed: Arc<Notify>,
    task: JoinHandle<()>,
}

impl CountingListener {
    /// Binds `ip` (any loopback address, such as `127.0.0.2`) on a free port.
    pub async fn bind(ip: IpAddr) -> Self {
        let listener = TcpListener::bind((ip, 0)).await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let peers = Arc::new(Mutex::new(Vec::new()));
        let changed = Arc::new(Notify::new());
        let (seen, notify) = (peers.clone(), changed.clone());
        let task = tokio::spawn(async move {
            let mut held: Vec<TcpStream> = Vec::new();
            while let Ok((s, peer)) = listener.accept().await {
                held.push(s);
                seen.lock().unwrap_or_else(|e| e.into_inner()).push(peer);
                notify.notify_waiters();
            }
        });
        Self {
            addr,
            peers,
            own: Mutex::new(Vec::new()),
            changed,
            task,
        }
    }

    /// `ip:port`, as a config names it.
    pub fn host_port(&self) -> String {
        self.addr.to_string()
    }

    /// Its IP address.
    pub fn ip(&self) -> IpAddr {
        self.addr.ip()
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    fn peers(&self) -> Vec<SocketAddr> {
        self.peers.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Connections accepted so far from others than [`settle`](Self::settle),
    /// counted once every connection that reached the listener before the
    /// call was accepted: connects once itself and waits for that connection
    /// (an event, not a sleep).
    pub async fn settle(&self) -> usize {
        let mine = TcpStream::connect(self.addr)
            .await
            .expect("connect to self");
        let me = mine.local_addr().expect("local addr");
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let peers = self.peers();
            if let Some(at) = peers.iter().position(|p| *p == me) {
                // Connections queued before ours were accepted before it.
                let mut own = self.own.lock().unwrap_or_else(|e| e.into_inner());
                let others = peers[..at].iter().filter(|p| !own.contains(p)).count();
                own.push(me);
                return others;
            }
            changed.await;
        }
    }
}

impl Drop for CountingListener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Whether this run must not skip tests whose service is missing: `CI` set
/// to anything but empty, `false` or `0` (any case), as CI systems set it
/// (`true`, `1`, `yes`, a provider's name…).
pub fn in_ci() -> bool {
    ci_value(std::env::var("CI").ok().as_deref())
}

/// [`in_ci`] for a given value of `CI`.
pub fn ci_value(value: Option<&str>) -> bool {
    value.is_some_and(|v| {
        let v = v.trim();
        !v.is_empty() && !v.eq_ignore_ascii_case("false") && v != "0"
    })
}

/// For tests that need a live service: returns the value when it is there;
/// when it is not, panics under CI (see [`in_ci`], with `how_to_start`) and
/// otherwise reports the test as skipped and returns `None`.
///
/// A skipped test still shows as passed in the test runner's summary, so the
/// skip is made visible twice: `SKIPPED: …` on stderr, and one line
/// appended to the file named by `PATCHBAY_SKIP_LOG` (when set), which
/// `scripts/test` prints after the run.
pub fn require<T, E: std::fmt::Display>(
    service: &str,
    how_to_start: &str,
    found: Result<T, E>,
) -> Option<T> {
    match found {
        Ok(v) => Some(v),
        Err(e) if in_ci() => panic!("{service} is required under CI (CI is set) but unreachable: {e}. Start it with: {how_to_start}"),
        Err(e) => {
            let test = test_name();
            eprintln!("SKIPPED: {test}: {service} unreachable ({e}); start it with: {how_to_start}");
            record_skip(&format!("{test}: {service} unreachable"));
            None
        }
    }
}

/// The running test: libtest names its thread after it; a test run on the
/// main thread (one test per process, as nextest runs them) is named by the
/// command line.
fn test_name() -> String {
    match std::thread::current().name() {
        Some(name) if name != "main" => name.to_owned(),
        _ => std::env::args()
            .skip(1)
            .filter(|a| !a.starts_with('-'))
            .collect::<Vec<_>>()
            .join(" "),
    }
}

/// Appends one line to `$PATCHBAY_SKIP_LOG`, if set. Best effort: a skip
/// that cannot be recorded was still printed.
fn record_skip(line: &str) {
    use std::io::Write;
    let Some(path) = std::env::var_os("PATCHBAY_SKIP_LOG") else {
        return;
    };
    let binary = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default();
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = writeln!(f, "{binary} {line}");
    }
}

#[cfg(test)]
mod tests {
    use super::ci_value;

    #[test]
    fn any_non_empty_ci_value_but_false_or_0_is_ci() {
        for yes in ["true", "1", "yes", "TRUE", "github-actions", "on"] {
            assert!(ci_value(Some(yes)), "{yes}");
        }
        for no in [
            None,
            Some(""),
            Some(" "),
            Some("false"),
            Some("False"),
            Some("0"),
        ] {
            assert!(!ci_value(no), "{no:?}");
        }
    }
}
