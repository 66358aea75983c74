//! Connection hygiene: many probes through the service, then the server's
//! own count of the test's connections must settle back.
//!
//! Counts come from the server (a client list, a monitoring endpoint, a
//! `$SYS` topic), limited to what only the calling test uses (a private
//! server, a dedicated user), and are polled with a bound, never after a
//! fixed sleep.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use patchbay_core::{Connector, Error, FailureReason, NetworkPolicy, NewProfile, ProfileService};
use patchbay_store_memory::MemoryStore;
use serde_json::Value;
use tokio::time::Instant;

/// How many probes a hygiene test runs.
pub const PROBES: usize = 200;

/// How long a count may take to settle: generous for a loaded machine
/// (servers reap closed connections asynchronously), short of a leak,
/// which never settles.
pub const SETTLE: Duration = Duration::from_secs(30);

/// Runs [`PROBES`] probes of `connector` through a service: every
/// `bad_every`-th with `bad` (credentials the server refuses: must fail as
/// `auth`), the others with `good` (must succeed).
pub async fn probe_many(
    connector: Arc<dyn Connector>,
    good: &Value,
    bad: &Value,
    bad_every: usize,
) {
    let kind = connector.kind();
    let svc = ProfileService::builder(Arc::new(MemoryStore::new()))
        .connector_arc(connector)
        .network_policy(NetworkPolicy::default())
        .probe_timeout(Duration::from_secs(10))
        .build()
        .expect("service");
    for i in 0..PROBES {
        let refused = i % bad_every == bad_every - 1;
        let new = NewProfile {
            name: format!("hygiene-{i}"),
            connector: kind.to_owned(),
            description: None,
            config: if refused { bad } else { good }.clone(),
            labels: Default::default(),
        };
        let result = svc.test_config(&new, None).await;
        match (refused, result) {
            (false, Ok(report)) => assert!(report.success, "probe {i}: {report:?}"),
            (true, Err(Error::ConnectionFailed(f))) => {
                assert_eq!(f.reason, FailureReason::Auth, "probe {i}: {f}");
            }
            (_, other) => panic!("probe {i} (refused: {refused}): {other:?}"),
        }
    }
}

/// Polls `count` until it gives `want` or [`SETTLE`] passes; the last count.
pub async fn settle<F, Fut>(mut count: F, want: usize) -> usize
where
    F: FnMut() -> Fut,
    Fut: Future<Output = usize>,
{
    let until = Instant::now() + SETTLE;
    loop {
        let n = count().await;
        if n == want || Instant::now() >= until {
            return n;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
