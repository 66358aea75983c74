//! Probes through the service: deadline, concurrency limit, network policy,
//! DNS classification, autocomplete dispatch.

mod common;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use common::{builder, new_profile, ok_config, service, strict_service};
use patchbay::testkit::fake::FakeConnector;
use patchbay::testkit::net::UNRESOLVABLE_HOST;
use patchbay::{AutocompleteQuery, Error, FailureReason};
use serde_json::json;

fn sleeping(ms: u64) -> serde_json::Value {
    json!({ "host": "127.0.0.1", "port": 9, "mode": "sleep", "sleep_ms": ms })
}

#[tokio::test]
async fn success_reports_latency_and_version() {
    let (svc, fake) = service();
    let report = svc
        .test_config(&new_profile("t", sleeping(30)), None)
        .await
        .unwrap();
    assert!(report.success);
    assert!(report.details.latency_ms >= 25, "{report:?}");
    assert_eq!(report.details.version.as_deref(), Some("fake-1.0"));
    assert_eq!(fake.calls.started.load(Ordering::SeqCst), 1);
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["message"], "Connection successful");
    assert!(json["details"]["latency_ms"].is_u64());
}

#[tokio::test]
async fn a_connector_that_ignores_the_deadline_is_cut_off() {
    let (svc, _) = service();
    let start = Instant::now();
    let err = svc
        .test_config(
            &new_profile("t", sleeping(60_000)),
            Some(Duration::from_millis(400)),
        )
        .await
        .unwrap_err();
    let took = start.elapsed();
    let Error::ConnectionFailed(f) = err else {
        panic!("{err:?}")
    };
    assert_eq!(f.reason, FailureReason::Timeout);
    assert!(f.latency_ms.unwrap() >= 400);
    // Never before the deadline; and cut off: the connector alone would
    // take 60 s. (No tight upper bound: a loaded machine may be late.)
    assert!(
        took >= Duration::from_millis(400) && took < Duration::from_secs(30),
        "{took:?}"
    );
}

#[tokio::test]
async fn requested_deadlines_are_capped() {
    let fake = FakeConnector::default();
    let svc = builder(&fake)
        .max_probe_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let start = Instant::now();
    let err = svc
        .test_config(
            &new_profile("t", sleeping(60_000)),
            Some(Duration::from_secs(3600)),
        )
        .await
        .unwrap_err();
    let Error::ConnectionFailed(f) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(f.reason, FailureReason::Timeout);
    // The message names the capped budget; the run ends long before the
    // connector's 60 s (which an uncapped hour would wait out).
    assert!(f.message.contains("300 ms"), "{f:?}");
    assert!(
        start.elapsed() < Duration::from_secs(30),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_probes_are_limited() {
    let fake = FakeConnector::default();
    let svc = builder(&fake).max_concurrent_probes(2).build().unwrap();
    let p = svc
        .create(new_profile("busy", sleeping(150)))
        .await
        .unwrap();
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            let (svc, id) = (svc.clone(), p.id.clone());
            tokio::spawn(async move { svc.test_profile(&id, None).await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().expect("every probe eventually runs");
    }
    assert_eq!(fake.calls.started.load(Ordering::SeqCst), 6);
    assert_eq!(fake.calls.max_running.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn waiting_for_a_slot_counts_against_the_deadline() {
    let fake = FakeConnector::default();
    let svc = builder(&fake).max_concurrent_probes(1).build().unwrap();
    let hog = new_profile("hog", sleeping(60_000));
    let svc2 = svc.clone();
    let running = tokio::spawn(async move { svc2.test_config(&hog, None).await });
    // Wait until the hog holds the only slot (it runs when this task yields).
    while fake.calls.running.load(Ordering::SeqCst) == 0 {
        assert!(!running.is_finished(), "the hog ended before it ran");
        tokio::task::yield_now().await;
    }
    let err = svc
        .test_config(
            &new_profile("t", sleeping(0)),
            Some(Duration::from_millis(200)),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::ConnectionFailed(ref f) if f.reason == FailureReason::Timeout),
        "{err:?}"
    );
    assert_eq!(
        fake.calls.started.load(Ordering::SeqCst),
        1,
        "the queued probe never ran"
    );
    running.abort();
}

#[tokio::test]
async fn forbidden_targets_are_refused_before_the_connector_runs() {
    let (svc, fake) = strict_service();
    for host in ["127.0.0.1", "localhost", "10.1.2.3", "::1"] {
        let config = json!({ "host": host, "port": 5432 });
        let err = svc
            .test_config(&new_profile("t", config), None)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "TARGET_FORBIDDEN", "{host}: {err:?}");
        assert!(err.details()["address"].is_string());
    }
    let (default_policy, default_fake) = service();
    for host in ["169.254.169.254", "::ffff:169.254.169.254"] {
        let config = json!({ "host": host, "port": 80 });
        let err = default_policy
            .test_config(&new_profile("t", config), None)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "TARGET_FORBIDDEN", "{host}");
    }
    // Saved profiles and autocomplete go through the same gate.
    let p = svc
        .create(new_profile("saved", ok_config("pw")))
        .await
        .unwrap();
    assert_eq!(
        svc.test_profile(&p.id, None).await.unwrap_err().code(),
        "TARGET_FORBIDDEN"
    );
    let q = AutocompleteQuery::new("things");
    assert_eq!(
        svc.autocomplete(&p.id, &q).await.unwrap_err().code(),
        "TARGET_FORBIDDEN"
    );
    assert_eq!(fake.calls.started.load(Ordering::SeqCst), 0);
    assert_eq!(default_fake.calls.started.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn unresolvable_hosts_are_classified_dns() {
    let (svc, fake) = service();
    // Rejected by the resolver itself: no dependence on a DNS server.
    let config = json!({ "host": UNRESOLVABLE_HOST, "port": 5432 });
    let err = svc
        .test_config(&new_profile("t", config), None)
        .await
        .unwrap_err();
    let Error::ConnectionFailed(f) = err else {
        panic!("{err:?}")
    };
    assert_eq!(f.reason, FailureReason::Dns);
    assert!(f.message.contains(UNRESOLVABLE_HOST));
    assert_eq!(fake.calls.started.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn autocomplete_dispatches_by_type() {
    let (svc, _) = service();
    let p = svc
        .create(new_profile("ac", ok_config("pw")))
        .await
        .unwrap();
    let mut q = AutocompleteQuery::new("things");
    q.prefix = Some("x".into());
    q.limit = 2;
    let got = svc.autocomplete(&p.id, &q).await.unwrap();
    assert_eq!(
        got.iter().map(|s| s.value.as_str()).collect::<Vec<_>>(),
        ["xthing0", "xthing1"]
    );
    assert_eq!(serde_json::to_value(&got[0]).unwrap()["type"], "thing");
    let err = svc
        .autocomplete(&p.id, &AutocompleteQuery::new("tables"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "UNSUPPORTED");
    assert!(err.to_string().contains("things"), "{err}");
    q.limit = 0;
    assert_eq!(
        svc.autocomplete(&p.id, &q).await.unwrap_err().code(),
        "VALIDATION_FAILED"
    );
    let missing = patchbay::ProfileId::generate();
    assert_eq!(
        svc.autocomplete(&missing, &AutocompleteQuery::new("things"))
            .await
            .unwrap_err()
            .code(),
        "NOT_FOUND"
    );
}

#[tokio::test]
async fn host_names_outside_the_allow_list_are_refused_before_any_lookup() {
    let fake = FakeConnector::default();
    let policy = patchbay::NetworkPolicy::default().allow_host_name("localhost");
    let svc = builder(&fake).network_policy(policy).build().unwrap();
    let config = json!({ "host": "metadata.google.internal", "port": 80 });
    let err = svc
        .test_config(&new_profile("t", config), None)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "TARGET_FORBIDDEN", "{err:?}");
    assert_eq!(err.details()["address"], "metadata.google.internal");
    assert_eq!(fake.calls.started.load(Ordering::SeqCst), 0);
    let ok = json!({ "host": "localhost", "port": 80 });
    svc.test_config(&new_profile("t", ok), None).await.unwrap();
    assert_eq!(fake.calls.started.load(Ordering::SeqCst), 1);
}
