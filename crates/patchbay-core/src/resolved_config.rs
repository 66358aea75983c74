//! [`ResolvedConfig`]: what a connector gets for one probe.

use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, LazyLock};

use serde::de::DeserializeOwned;
use serde_json::Value;
use zeroize::Zeroize;

use crate::connector::Endpoint;
use crate::error::{Error, Result};
use crate::policy::NetworkPolicy;

/// The default policy, built once: parsing its networks on every `new`
/// was most of what an empty `ResolvedConfig` cost.
fn default_policy() -> Arc<NetworkPolicy> {
    static DEFAULT: LazyLock<Arc<NetworkPolicy>> =
        LazyLock::new(|| Arc::new(NetworkPolicy::default()));
    Arc::clone(&DEFAULT)
}

/// A config with secrets decrypted and references resolved, as a connector
/// needs it, with the addresses the network policy checked for each of its
/// endpoints. `Debug` shows nothing; strings are zeroized on drop.
pub struct ResolvedConfig {
    value: Value,
    checked: CheckedAddrs,
    policy: Arc<NetworkPolicy>,
}

impl ResolvedConfig {
    /// Wraps a resolved config (no checked addresses yet, the default policy).
    pub fn new(value: Value) -> Self {
        Self {
            value,
            checked: CheckedAddrs::default(),
            policy: default_policy(),
        }
    }

    /// The policy connectors apply to addresses they discover themselves
    /// (such as the brokers a Kafka cluster advertises).
    pub fn with_network_policy(mut self, policy: Arc<NetworkPolicy>) -> Self {
        self.policy = policy;
        self
    }

    /// Records the addresses `endpoint` resolved to, every one of them
    /// permitted by the policy.
    pub fn with_checked_addrs(mut self, endpoint: Endpoint, addrs: Vec<SocketAddr>) -> Self {
        self.checked = std::mem::take(&mut self.checked).with(endpoint, addrs);
        self
    }

    /// The addresses the service resolved `endpoint` to and the policy
    /// permitted; empty for an endpoint it did not check. Connecting to
    /// these (with the host name kept for TLS) avoids a second DNS lookup
    /// that could answer differently.
    pub fn checked_addrs(&self, endpoint: &Endpoint) -> &[SocketAddr] {
        self.checked.get(endpoint)
    }

    /// Every endpoint's checked addresses, as the connectors' public
    /// builders take them (`connect_options_via` and the like).
    pub fn checked(&self) -> &CheckedAddrs {
        &self.checked
    }

    /// The policy of the service that runs the probe; clone the `Arc` to
    /// check addresses discovered later.
    pub fn network_policy(&self) -> &Arc<NetworkPolicy> {
        &self.policy
    }

    /// Deserializes into a connector's typed config (whose secret fields
    /// should be `secrecy::SecretString`).
    ///
    /// # Errors
    /// `Validation` when the config does not fit `T`.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T> {
        T::deserialize(&self.value).map_err(|e| Error::invalid("/config", e.to_string()))
    }

    /// The raw JSON. Handle with care: it holds secrets.
    pub fn expose(&self) -> &Value {
        &self.value
    }
}

/// The addresses a host name was resolved to and the network policy
/// permitted, per endpoint. A client given these connects to them and does
/// no lookup of its own, so the address it reaches is the one that was
/// checked (a name cannot answer differently the second time).
///
/// ```
/// # use patchbay_core::{CheckedAddrs, Endpoint};
/// let ep = Endpoint::new("db.internal", 5432);
/// let checked = CheckedAddrs::default().with(ep.clone(), vec!["10.0.0.7:5432".parse().unwrap()]);
/// assert_eq!(checked.get(&ep).len(), 1);
/// assert!(checked.get(&Endpoint::new("other", 5432)).is_empty());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckedAddrs(Vec<(Endpoint, Vec<SocketAddr>)>);

impl CheckedAddrs {
    /// With `endpoint`'s addresses set to `addrs` (replacing earlier ones).
    pub fn with(mut self, endpoint: Endpoint, addrs: Vec<SocketAddr>) -> Self {
        self.0.retain(|(e, _)| *e != endpoint);
        self.0.push((endpoint, addrs));
        self
    }

    /// The addresses of `endpoint`; empty when it was not checked.
    pub fn get(&self, endpoint: &Endpoint) -> &[SocketAddr] {
        self.0
            .iter()
            .find(|(e, _)| e == endpoint)
            .map_or(&[], |(_, addrs)| addrs.as_slice())
    }

    /// Whether no endpoint has addresses.
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|(_, addrs)| addrs.is_empty())
    }

    /// Each endpoint with its addresses, in the order they were added.
    pub fn iter(&self) -> impl Iterator<Item = (&Endpoint, &[SocketAddr])> {
        self.0.iter().map(|(e, a)| (e, a.as_slice()))
    }
}

impl fmt::Debug for ResolvedConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ResolvedConfig(<redacted>)")
    }
}

impl Drop for ResolvedConfig {
    fn drop(&mut self) {
        zeroize_value(&mut self.value);
    }
}

fn zeroize_value(value: &mut Value) {
    match value {
        Value::String(s) => s.zeroize(),
        Value::Array(items) => items.iter_mut().for_each(zeroize_value),
        Value::Object(map) => map.values_mut().for_each(zeroize_value),
        _ => {}
    }
}
