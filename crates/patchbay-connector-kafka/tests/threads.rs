//! Every client a probe creates is destroyed when the probe ends: after 200
//! probes the thread count is back to where it started.

mod common;

use std::time::Duration;

use patchbay_testkit::net::refused_port;
use serde_json::json;

#[test]
fn two_hundred_probes_leave_no_threads_behind() {
    let Some(broker) = common::plain_broker() else {
        return;
    };
    // Idle blocking-pool threads go away quickly, so only leaks remain.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_keep_alive(Duration::from_millis(200))
        .enable_all()
        .build()
        .expect("runtime");
    // Measured with the runtime's workers already up.
    let baseline = common::threads();
    let refused = format!("127.0.0.1:{}", refused_port());
    let after = rt.block_on(async {
        let mut peak = 0;
        for i in 0..200 {
            // Successes and refusals both create (and must destroy) a client.
            let target = if i % 4 == 3 { &refused } else { &broker };
            let result = common::probe(
                json!({ "bootstrap_servers": target }),
                Duration::from_secs(10),
            )
            .await;
            assert_eq!(result.is_ok(), i % 4 != 3, "probe {i}: {result:?}");
            peak = peak.max(common::threads());
        }
        assert!(peak > baseline, "probes ran without threads?");
        // Let the runtime's idle blocking threads expire.
        let mut now = common::threads();
        for _ in 0..100 {
            if now <= baseline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            now = common::threads();
        }
        now
    });
    assert_eq!(
        after, baseline,
        "threads: {baseline} before, {after} after 200 probes"
    );
}
