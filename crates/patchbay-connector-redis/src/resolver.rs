//! Connecting to the addresses the service checked: a resolver for the
//! driver that answers from them and never asks DNS.

use std::net::SocketAddr;

use patchbay_core::{CheckedAddrs, Endpoint};
use redis::io::AsyncDNSResolver;
use redis::{AsyncConnectionConfig, RedisError, RedisFuture};

/// A `redis` resolver answering with the checked addresses of each
/// endpoint (as [`ResolvedConfig::checked`] gives them). A host:port it was
/// not given is an error, not a lookup: nothing unchecked is reached. The
/// driver keeps the host name for TLS (server name and certificate check),
/// so TLS works exactly as with a lookup.
///
/// [`ResolvedConfig::checked`]: patchbay_core::ResolvedConfig::checked
#[derive(Debug, Clone)]
pub struct CheckedResolver(CheckedAddrs);

impl CheckedResolver {
    /// A resolver for `checked`.
    pub fn new(checked: CheckedAddrs) -> Self {
        Self(checked)
    }
}

impl AsyncDNSResolver for CheckedResolver {
    fn resolve<'a, 'b: 'a>(
        &'a self,
        host: &'b str,
        port: u16,
    ) -> RedisFuture<'a, Box<dyn Iterator<Item = SocketAddr> + Send + 'a>> {
        let addrs = self.0.get(&Endpoint::new(host, port)).to_vec();
        Box::pin(async move {
            if addrs.is_empty() {
                let msg =
                    format!("{host}:{port} is not among the addresses the network policy checked");
                let err = std::io::Error::new(std::io::ErrorKind::AddrNotAvailable, msg);
                return Err(RedisError::from(err));
            }
            let addrs: Box<dyn Iterator<Item = SocketAddr> + Send + 'a> =
                Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

/// The connection config that makes the driver connect to `checked`
/// instead of looking names up ([`CheckedResolver`]); the driver's default
/// when `checked` is empty. The probes connect with this (adding only
/// their own timeouts); a host that checked addresses itself can too:
///
/// ```no_run
/// # async fn run(config: patchbay_connector_redis::RedisConfig, checked: patchbay_core::CheckedAddrs) -> redis::RedisResult<()> {
/// let client = patchbay_connector_redis::client(&config).unwrap();
/// let settings = patchbay_connector_redis::connection_config_via(&checked);
/// let conn = client.get_multiplexed_async_connection_with_config(&settings).await?;
/// # Ok(()) }
/// ```
pub fn connection_config_via(checked: &CheckedAddrs) -> AsyncConnectionConfig {
    let config = AsyncConnectionConfig::new();
    if checked.is_empty() {
        config
    } else {
        config.set_dns_resolver(CheckedResolver::new(checked.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn answers_only_for_checked_endpoints() {
        let addr: SocketAddr = "10.0.0.7:6379".parse().unwrap();
        let r = CheckedResolver::new(
            CheckedAddrs::default().with(Endpoint::new("cache.internal", 6379), vec![addr]),
        );
        let found: Vec<_> = r.resolve("cache.internal", 6379).await.unwrap().collect();
        assert_eq!(found, [addr]);
        for (host, port) in [("cache.internal", 6380), ("other.internal", 6379)] {
            let err = r.resolve(host, port).await.err().expect("not checked");
            assert!(err.to_string().contains("not among"), "{err}");
        }
    }
}
