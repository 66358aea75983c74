//! The connection test: connect and authenticate, a PING/PONG round trip,
//! the server's INFO, then drain and close.

use patchbay_core::{CheckedAddrs, Error, FailureReason, Result, TestReport};
use tokio::time::Instant;

use crate::config::NatsConfig;
use crate::connect::{by_deadline, connect};

/// Tests the config by `deadline`, connecting to the `checked` addresses.
pub async fn test(
    config: &NatsConfig,
    checked: &CheckedAddrs,
    deadline: Instant,
) -> Result<TestReport> {
    let start = Instant::now();
    let client = connect(config, checked, deadline).await?;
    let flushed = by_deadline(deadline, "waiting for PONG", async {
        client
            .flush()
            .await
            .map_err(|e| Error::connection_failed(FailureReason::Other, e.to_string()))
    })
    .await;
    let ms = u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX);
    let info = client.server_info();
    // Drain sends what is queued and closes; the drop ends the client task.
    let _ = client.drain().await;
    drop(client);
    flushed?;
    let mut report = TestReport::success(ms)
        .with_version(info.version)
        .with_detail("server_name", info.server_name)
        .with_detail("jetstream", info.jetstream)
        .with_detail("max_payload", info.max_payload);
    if let Some(cluster) = info.cluster {
        report = report.with_detail("cluster", cluster);
    }
    Ok(report)
}
