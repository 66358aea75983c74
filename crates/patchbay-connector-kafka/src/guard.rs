//! The network policy applied to every broker address librdkafka is about
//! to contact: the bootstrap list and every broker the cluster advertises.
//!
//! A bootstrap broker answers metadata with the addresses of all brokers,
//! and the client then connects to those. They come from the broker, not
//! from the profile, so the service's check of the configured endpoints
//! cannot see them. [`BrokerGuard`] sees them: librdkafka asks it to resolve
//! every broker host and to connect every socket (see `hooks.rs`).

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use patchbay_core::scrub::scrub;
use patchbay_core::secrecy::SecretString;
use patchbay_core::{Endpoint, Error, NetworkPolicy};
use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;

use crate::config::KafkaConfig;

/// Longest name lookup a guard waits for unless told otherwise.
const DEFAULT_LOOKUP_TIMEOUT: Duration = Duration::from_secs(5);

/// Checks broker addresses against a [`NetworkPolicy`] and remembers what
/// it refused. Clients created with [`create_client`](crate::create_client)
/// consult it for every broker they resolve and every socket they connect.
#[derive(Debug)]
pub struct BrokerGuard {
    policy: Arc<NetworkPolicy>,
    checked: Vec<(Endpoint, Vec<SocketAddr>)>,
    lookup_timeout: Duration,
    refused: Mutex<Vec<(String, String)>>,
}

/// Why the guard would not hand out addresses for a broker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Denied {
    /// The policy refused the host name or one of its addresses.
    Forbidden,
    /// The name did not resolve (in time).
    Lookup(String),
}

impl BrokerGuard {
    /// A guard applying `policy`, with no pre-checked addresses.
    pub fn new(policy: Arc<NetworkPolicy>) -> Self {
        Self {
            policy,
            checked: Vec::new(),
            lookup_timeout: DEFAULT_LOOKUP_TIMEOUT,
            refused: Mutex::new(Vec::new()),
        }
    }

    /// Uses `addrs` for `endpoint` instead of a lookup: the addresses the
    /// caller already resolved and checked, so the client connects to
    /// exactly those (no second lookup that could answer differently).
    /// They are still checked against the policy.
    #[must_use]
    pub fn with_checked_addrs(mut self, endpoint: Endpoint, addrs: Vec<SocketAddr>) -> Self {
        self.checked.retain(|(e, _)| *e != endpoint);
        self.checked.push((endpoint, addrs));
        self
    }

    /// Bounds each name lookup (default 5 s). A lookup that takes longer
    /// fails and librdkafka retries the broker later.
    #[must_use]
    pub fn with_lookup_timeout(mut self, timeout: Duration) -> Self {
        self.lookup_timeout = timeout;
        self
    }

    /// The policy applied.
    pub fn policy(&self) -> &Arc<NetworkPolicy> {
        &self.policy
    }

    /// Every `(target, address)` refused so far, oldest first: `target` is
    /// the broker's `host:port`, `address` the refused IP (empty when the
    /// host name itself is not allowed).
    pub fn refusals(&self) -> Vec<(String, String)> {
        self.refused().clone()
    }

    /// The first refusal as the error a probe reports (`TARGET_FORBIDDEN`).
    pub fn forbidden(&self) -> Option<Error> {
        self.refused()
            .first()
            .map(|(target, address)| Error::TargetForbidden {
                target: target.clone(),
                address: address.clone(),
            })
    }

    fn refused(&self) -> std::sync::MutexGuard<'_, Vec<(String, String)>> {
        self.refused
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn refuse(&self, target: String, address: String) {
        tracing::warn!(%target, %address, "kafka broker address forbidden by the network policy");
        let mut refused = self.refused();
        if !refused.iter().any(|(t, a)| *t == target && *a == address) {
            refused.push((target, address));
        }
    }

    /// The checked addresses given for `endpoint`, if any.
    pub(crate) fn checked_addrs(&self, endpoint: &Endpoint) -> Option<&[SocketAddr]> {
        self.checked
            .iter()
            .find(|(e, addrs)| e == endpoint && !addrs.is_empty())
            .map(|(_, addrs)| addrs.as_slice())
    }

    /// Whether the policy permits `endpoint`'s host name and every one of
    /// `addrs`; the first refusal is recorded.
    pub(crate) fn check(&self, endpoint: &Endpoint, addrs: &[SocketAddr]) -> bool {
        if !self.policy.permits_host(&endpoint.host) {
            self.refuse(endpoint.to_string(), String::new());
            return false;
        }
        match addrs
            .iter()
            .find(|a| !self.policy.permits(a.ip(), a.port()))
        {
            Some(bad) => {
                self.refuse(endpoint.to_string(), bad.ip().to_string());
                false
            }
            None => true,
        }
    }

    /// The addresses the client may use for broker `host:port`: the checked
    /// ones, the literal, or a bounded lookup; every one must be permitted,
    /// or none is handed out and the refusal is recorded. Blocks for at most
    /// the lookup timeout (called on librdkafka's broker threads).
    pub(crate) fn resolve(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, Denied> {
        let endpoint = Endpoint::new(host, port);
        // A name off the allow-list is refused before any lookup.
        if !self.check(&endpoint, &[]) {
            return Err(Denied::Forbidden);
        }
        let addrs = match self.checked_addrs(&endpoint) {
            Some(addrs) => addrs.to_vec(),
            None => match host.parse::<IpAddr>() {
                Ok(ip) => vec![SocketAddr::new(ip, port)],
                Err(_) => lookup(host, port, self.lookup_timeout).map_err(Denied::Lookup)?,
            },
        };
        if !self.check(&endpoint, &addrs) {
            return Err(Denied::Forbidden);
        }
        Ok(addrs)
    }

    /// Whether a socket may connect to `addr`; a refusal is recorded.
    pub(crate) fn admit(&self, addr: SocketAddr, broker: &str) -> bool {
        if self.policy.permits(addr.ip(), addr.port()) {
            return true;
        }
        self.refuse(broker.to_owned(), addr.ip().to_string());
        false
    }
}

/// A name lookup bounded by `limit`. The system resolver has no deadline of
/// its own, so it runs on a helper thread that ends when the resolver
/// returns; the caller stops waiting at the limit.
fn lookup(host: &str, port: u16, limit: Duration) -> Result<Vec<SocketAddr>, String> {
    let (tx, rx) = mpsc::channel();
    let name = host.to_owned();
    std::thread::Builder::new()
        .name("patchbay-kafka-dns".into())
        .spawn(move || {
            let found = (name.as_str(), port)
                .to_socket_addrs()
                .map(Iterator::collect::<Vec<_>>);
            let _ = tx.send(found);
        })
        .map_err(|e| format!("cannot start a lookup of {host}: {e}"))?;
    match rx.recv_timeout(limit) {
        Ok(Ok(addrs)) if !addrs.is_empty() => Ok(addrs),
        Ok(Ok(_)) => Err(format!("{host} has no address")),
        Ok(Err(e)) => Err(format!("cannot resolve {host}: {e}")),
        Err(_) => Err(format!(
            "resolving {host} took longer than {} ms",
            limit.as_millis()
        )),
    }
}

/// A client context that carries a [`BrokerGuard`]; required by
/// [`create_client`](crate::create_client), which installs the hooks that
/// consult it.
pub trait GuardedContext: ClientContext {
    /// The guard of this client.
    fn guard(&self) -> &BrokerGuard;
}

/// The plain guarded context for hosts: applies the guard and forwards
/// librdkafka's log lines and errors to `tracing` (target `librdkafka`),
/// scrubbed of the profile's secret values.
pub struct PolicyContext {
    guard: BrokerGuard,
    secrets: Vec<SecretString>,
}

impl PolicyContext {
    /// A context with `guard`, for a client built from `config` (whose
    /// secrets it scrubs out of log lines).
    pub fn new(guard: BrokerGuard, config: &KafkaConfig) -> Self {
        Self {
            guard,
            secrets: config.secret_values(),
        }
    }
}

impl std::fmt::Debug for PolicyContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicyContext")
            .field("guard", &self.guard)
            .finish_non_exhaustive()
    }
}

impl GuardedContext for PolicyContext {
    fn guard(&self) -> &BrokerGuard {
        &self.guard
    }
}

impl ClientContext for PolicyContext {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, message: &str) {
        let message = scrub(message, &self.secrets);
        let message = message.as_str();
        match level as i32 {
            0..=3 => tracing::error!(target: "librdkafka", fac, message),
            4 => tracing::warn!(target: "librdkafka", fac, message),
            5 | 6 => tracing::info!(target: "librdkafka", fac, message),
            _ => tracing::debug!(target: "librdkafka", fac, message),
        }
    }

    fn error(&self, error: rdkafka::error::KafkaError, reason: &str) {
        let reason = scrub(reason, &self.secrets);
        tracing::warn!(target: "librdkafka", %error, reason);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn only_loopback_one() -> BrokerGuard {
        BrokerGuard::new(Arc::new(
            NetworkPolicy::default().allow("127.0.0.1/32".parse().unwrap()),
        ))
    }

    #[test]
    fn literals_are_checked_and_refusals_recorded() {
        let g = only_loopback_one();
        assert_eq!(
            g.resolve("127.0.0.1", 9092).unwrap(),
            ["127.0.0.1:9092".parse::<SocketAddr>().unwrap()]
        );
        assert_eq!(g.resolve("127.0.0.2", 9092), Err(Denied::Forbidden));
        assert!(!g.admit("[::1]:9092".parse().unwrap(), "b:9092"));
        assert_eq!(
            g.refusals(),
            [
                ("127.0.0.2:9092".to_owned(), "127.0.0.2".to_owned()),
                ("b:9092".to_owned(), "::1".to_owned())
            ]
        );
        assert!(matches!(
            g.forbidden(),
            Some(Error::TargetForbidden { target, .. }) if target == "127.0.0.2:9092"
        ));
    }

    #[test]
    fn checked_addresses_replace_the_lookup_and_are_still_checked() {
        let ep = Endpoint::new("broker.invalid", 9092);
        let g = only_loopback_one()
            .with_checked_addrs(ep.clone(), vec!["127.0.0.1:9092".parse().unwrap()]);
        // No lookup: the name does not exist.
        assert_eq!(g.resolve("broker.invalid", 9092).unwrap().len(), 1);
        let g = only_loopback_one().with_checked_addrs(ep, vec!["10.0.0.1:9092".parse().unwrap()]);
        assert_eq!(g.resolve("broker.invalid", 9092), Err(Denied::Forbidden));
    }

    #[test]
    fn host_name_allow_lists_refuse_before_any_lookup() {
        let g = BrokerGuard::new(Arc::new(
            NetworkPolicy::default().allow_host_name("*.example.com"),
        ));
        assert_eq!(
            g.resolve("metadata.google.internal", 80),
            Err(Denied::Forbidden)
        );
        assert_eq!(g.refusals()[0].1, "");
    }

    #[test]
    fn lookups_are_bounded_and_fail_cleanly() {
        let g = only_loopback_one().with_lookup_timeout(Duration::from_secs(3));
        // Rejected locally by the resolver (label over 63 bytes).
        let host = format!("{}.invalid", "n".repeat(70));
        assert!(matches!(g.resolve(&host, 1), Err(Denied::Lookup(_))));
        assert!(g.refusals().is_empty());
    }
}
