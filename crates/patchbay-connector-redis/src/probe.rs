//! The connection test: connect, authenticate, `INFO server`, disconnect.

use patchbay_core::{CheckedAddrs, Error, FailureReason, Result, TestReport};
use tokio::time::Instant;

use crate::config::{Mode, RedisConfig};
use crate::connect::{by_deadline, classify, connect};

/// Tests the config. In cluster mode the nodes are tried in order and the
/// first that answers is asked `CLUSTER INFO` too.
/// `checked` are the addresses to connect to (none: look the names up).
pub async fn test(
    config: &RedisConfig,
    checked: &CheckedAddrs,
    deadline: Instant,
) -> Result<TestReport> {
    let start = Instant::now();
    let endpoints = config.endpoints();
    let mut last = None;
    for ep in &endpoints {
        let attempt = by_deadline(deadline, "connecting and asking INFO", async {
            let mut conn = connect(config, checked, ep).await?;
            let info: String = redis::cmd("INFO")
                .arg("server")
                .query_async(&mut conn)
                .await
                .map_err(|e| classify(e, config.tls.enabled))?;
            let cluster = if config.mode == Mode::Cluster {
                let text: String = redis::cmd("CLUSTER")
                    .arg("INFO")
                    .query_async(&mut conn)
                    .await
                    .map_err(|e| classify(e, config.tls.enabled))?;
                Some(text)
            } else {
                None
            };
            Ok((info, cluster))
        })
        .await;
        match attempt {
            Ok((info, cluster)) => return Ok(report(start, ep.to_string(), &info, cluster)),
            // A dead seed node is not the end in cluster mode.
            Err(Error::ConnectionFailed(f))
                if config.mode == Mode::Cluster
                    && matches!(f.reason, FailureReason::Refused | FailureReason::Dns)
                    && Instant::now() < deadline =>
            {
                last = Some(Error::ConnectionFailed(f));
            }
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| Error::invalid("/config/addresses", "no usable address")))
}

fn report(start: Instant, node: String, info: &str, cluster: Option<String>) -> TestReport {
    let ms = u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX);
    let mut report = TestReport::success(ms).with_detail("node", node);
    // Valkey reports a Redis-compatible version too; prefer its own.
    if let Some(v) = field(info, "valkey_version").or_else(|| field(info, "redis_version")) {
        report = report.with_version(v);
    }
    let server = field(info, "server_name").unwrap_or("redis");
    report = report.with_detail("server", server);
    if let Some(mode) = field(info, "redis_mode") {
        report = report.with_detail("redis_mode", mode);
    }
    if let Some(text) = cluster {
        if let Some(state) = field(&text, "cluster_state") {
            report = report.with_detail("cluster_state", state);
        }
        if let Some(n) = field(&text, "cluster_known_nodes").and_then(|n| n.parse::<u64>().ok()) {
            report = report.with_detail("cluster_known_nodes", n);
        }
    }
    report
}

/// The value of `name:value` in an `INFO` reply.
pub fn field<'a>(info: &'a str, name: &str) -> Option<&'a str> {
    info.lines().find_map(|line| {
        let (k, v) = line.split_once(':')?;
        (k == name).then(|| v.trim())
    })
}

#[cfg(test)]
mod tests {
    use super::field;

    #[test]
    fn reads_info_fields() {
        let info = "# Server\r\nredis_version:7.2.4\r\nredis_mode:standalone\r\n";
        assert_eq!(field(info, "redis_version"), Some("7.2.4"));
        assert_eq!(field(info, "redis_mode"), Some("standalone"));
        assert_eq!(field(info, "valkey_version"), None);
    }
}
