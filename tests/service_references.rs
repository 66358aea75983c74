//! Secret references are a privilege of the host: refused unless allowed,
//! resolved only once a probe slot is held, and cut off at the deadline
//! whatever the resolver does, while the service keeps serving.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{builder, new_profile, ok_config};
use patchbay::secrecy::SecretString;
use patchbay::secret::ResolveError;
use patchbay::testkit::fake::FakeConnector;
use patchbay::{async_trait, Error, SecretAccess, SecretRef, SecretResolver};
use tokio::sync::Notify;
use tokio::time::Instant;

fn field_errors(err: Error) -> Vec<(String, String)> {
    match err {
        Error::Validation(v) => v.0.into_iter().map(|e| (e.path, e.message)).collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[tokio::test]
async fn references_the_host_has_not_allowed_are_never_stored() {
    let dir = tempfile::tempdir().unwrap();
    let svc = builder(&FakeConnector::default())
        .secret_access(
            SecretAccess::none()
                .allow_env_prefix("PBREF_")
                .allow_dir(dir.path()),
        )
        .build()
        .unwrap();
    for (value, needle) in [
        ("{{ env:HOME }}", "environment variable"),
        ("{{ file:/etc/passwd }}", "directory"),
        ("{{ file:/proc/self/environ }}", "directory"),
        ("{{ vault:kv/x }}", "vault"),
    ] {
        let errors = field_errors(
            svc.create(new_profile("refused", ok_config(value)))
                .await
                .unwrap_err(),
        );
        assert!(
            errors
                .iter()
                .any(|(p, m)| p == "/config/password" && m.contains(needle)),
            "{value}: {errors:?}"
        );
        // Not testable either: a test is the same privilege.
        let err = svc
            .test_config(&new_profile("refused", ok_config(value)), None)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "VALIDATION_FAILED", "{value}");
    }
    assert!(svc
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .is_empty());
    // The default service allows no reference at all.
    let (default, _) = common::service();
    let errors = field_errors(
        default
            .create(new_profile("refused", ok_config("{{ env:PBREF_X }}")))
            .await
            .unwrap_err(),
    );
    assert!(errors[0].1.contains("not enabled"), "{errors:?}");
}

/// `gate:block` waits until released (signalling that it was entered);
/// `gate:count` counts its calls.
#[derive(Default)]
struct Gate {
    entered: Notify,
    release: Notify,
    counted: AtomicUsize,
}

#[derive(Clone, Default)]
struct GateResolver(Arc<Gate>);

#[async_trait]
impl SecretResolver for GateResolver {
    fn supports(&self, scheme: &str) -> bool {
        scheme == "gate"
    }

    async fn resolve(&self, reference: &SecretRef) -> Result<SecretString, ResolveError> {
        if reference.argument == "block" {
            self.0.entered.notify_one();
            self.0.release.notified().await;
        } else {
            self.0.counted.fetch_add(1, Ordering::SeqCst);
        }
        Ok(SecretString::from("resolved"))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn references_resolve_only_once_a_probe_slot_is_held() {
    let gate = GateResolver::default();
    let svc = builder(&FakeConnector::default())
        .resolver(gate.clone())
        .max_concurrent_probes(1)
        .build()
        .unwrap();
    let blocking = svc
        .create(new_profile("blocking", ok_config("{{ gate:block }}")))
        .await
        .unwrap();
    let counting = svc
        .create(new_profile("counting", ok_config("{{ gate:count }}")))
        .await
        .unwrap();
    let first = tokio::spawn({
        let svc = svc.clone();
        async move {
            svc.test_profile(&blocking.id, Some(Duration::from_secs(30)))
                .await
        }
    });
    // Its resolver runs: the only slot is taken.
    gate.0.entered.notified().await;
    let err = svc
        .test_profile(&counting.id, Some(Duration::from_millis(200)))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "CONNECTION_FAILED", "{err:?}");
    assert!(err.to_string().contains("no probe slot"), "{err}");
    assert_eq!(
        gate.0.counted.load(Ordering::SeqCst),
        0,
        "nothing was resolved for a probe that never got a slot"
    );
    gate.0.release.notify_one();
    first.await.unwrap().unwrap();
    svc.test_profile(&counting.id, None).await.unwrap();
    assert_eq!(gate.0.counted.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resolver_that_never_answers_is_cut_off_at_the_deadline() {
    let gate = GateResolver::default();
    let fake = FakeConnector::default();
    let svc = builder(&fake).resolver(gate.clone()).build().unwrap();
    let stuck = svc
        .create(new_profile("stuck", ok_config("{{ gate:block }}")))
        .await
        .unwrap();
    let ok = svc
        .create(new_profile("ok", ok_config("plain")))
        .await
        .unwrap();
    let budget = Duration::from_millis(500);
    let started = Instant::now();
    let probe = tokio::spawn({
        let svc = svc.clone();
        async move { svc.test_profile(&stuck.id, Some(budget)).await }
    });
    gate.0.entered.notified().await;
    // The service keeps serving while that resolver hangs.
    assert_eq!(svc.list(&Default::default()).await.unwrap().items.len(), 2);
    svc.test_profile(&ok.id, None).await.unwrap();
    let err = probe.await.unwrap().unwrap_err();
    let elapsed = started.elapsed();
    let Error::SecretUnavailable { field, kind, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(
        (field.as_str(), kind.as_str()),
        ("/config/password", "gate")
    );
    assert!(elapsed >= budget, "not before the deadline: {elapsed:?}");
    assert!(
        elapsed < budget * 4,
        "answered near the deadline: {elapsed:?}"
    );
    assert_eq!(
        fake.calls.started.load(Ordering::SeqCst),
        1,
        "the stuck probe never reached the connector"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifo_and_dev_zero_references_answer_within_the_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero")).unwrap();
    let fake = FakeConnector::default();
    let svc = builder(&fake)
        .secret_access(SecretAccess::none().allow_dir(dir.path()))
        .build()
        .unwrap();
    let budget = Duration::from_secs(2);
    for name in ["fifo", "zero"] {
        let reference = format!("{{{{ file:{} }}}}", dir.path().join(name).display());
        let p = svc
            .create(new_profile(name, ok_config(&reference)))
            .await
            .unwrap();
        let all = patchbay::ListQuery::default();
        let started = Instant::now();
        let (probe, listed) = tokio::join!(svc.test_profile(&p.id, Some(budget)), svc.list(&all));
        listed.unwrap();
        let err = probe.unwrap_err();
        assert!(
            started.elapsed() < budget,
            "{name}: {:?}",
            started.elapsed()
        );
        assert_eq!(err.code(), "SECRET_UNAVAILABLE", "{name}: {err:?}");
        assert!(err.details()["kind"] == "file", "{}", err.details());
    }
    assert_eq!(fake.calls.started.load(Ordering::SeqCst), 0);
}
