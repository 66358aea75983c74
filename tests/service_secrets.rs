//! Secrets: sealed in the store, never in output, references resolved only
//! at probe time, kept when an update omits them.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::{builder, new_profile, ok_config};
use patchbay::secrecy::ExposeSecret;
use patchbay::testkit::fake::FakeConnector;
use patchbay::{Error, FailureReason, Keyring, ProfileUpdate, Sealer, SecretAccess};
use serde_json::json;

const SENTINEL: &str = "S3NTINEL-7f1c9e";

fn setup() -> (patchbay::ProfileService, Keyring) {
    let keyring = Keyring::ephemeral();
    let svc = builder(&FakeConnector::default())
        .sealer(keyring.clone())
        .build()
        .unwrap();
    (svc, keyring)
}

/// Collects everything tracing writes during a test.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn sentinel_never_appears_in_output_debug_errors_or_logs() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let (svc, _) = setup();
    let mut config = ok_config(SENTINEL);
    config["mode"] = json!("leaky_auth_failure");
    let new = new_profile("leaky", config);
    assert!(!format!("{new:?}").contains(SENTINEL));
    let p = svc.create(new.clone()).await.unwrap();
    let mut outputs = vec![
        serde_json::to_string(&p).unwrap(),
        format!("{p:?}"),
        format!("{:?}", svc.get(&p.id).await.unwrap()),
        serde_json::to_string(&svc.list(&Default::default()).await.unwrap().items).unwrap(),
        format!(
            "{:?}",
            svc.repository()
                .get(&patchbay::TenantId::default(), &p.id)
                .await
                .unwrap()
                .secrets
                .0
        ),
    ];
    for err in [
        svc.test_profile(&p.id, None).await.unwrap_err(),
        svc.test_config(&new, None).await.unwrap_err(),
    ] {
        let Error::ConnectionFailed(f) = &err else {
            panic!("{err:?}")
        };
        assert_eq!(f.reason, FailureReason::Auth);
        assert_eq!(
            f.message, "password '****' rejected for 127.0.0.1",
            "scrubbed, not dropped"
        );
        outputs.push(format!("{err} {err:?} {}", err.details()));
    }
    let update = ProfileUpdate {
        config: Some(json!({ "sleep_ms": 10 })),
        ..Default::default()
    };
    outputs.push(format!("{:?}", svc.update(&p.id, update).await.unwrap()));
    outputs.push(String::from_utf8(logs.0.lock().unwrap().clone()).unwrap());
    assert!(
        outputs.last().unwrap().contains("probe failed"),
        "logs were captured"
    );
    for (i, out) in outputs.iter().enumerate() {
        assert!(
            !out.contains(SENTINEL),
            "output #{i} leaks the secret: {out}"
        );
    }
    assert_eq!(
        serde_json::to_value(&p).unwrap()["secret_fields"],
        json!(["password"])
    );
}

#[tokio::test]
async fn secrets_are_sealed_and_listed_by_name_only() {
    let (svc, keyring) = setup();
    let p = svc
        .create(new_profile("sealed", ok_config(SENTINEL)))
        .await
        .unwrap();
    assert_eq!(p.secret_fields(), ["password"]);
    assert!(!p.config.contains_key("password"));
    let stored = svc
        .repository()
        .get(&patchbay::TenantId::default(), &p.id)
        .await
        .unwrap();
    let envelope = &stored.secrets.0["password"];
    assert!(envelope.starts_with("pbs1.") && !envelope.contains(SENTINEL));
    assert_eq!(
        keyring
            .open(&p.id, "password", envelope)
            .unwrap()
            .expose_secret(),
        SENTINEL
    );
}

#[tokio::test]
async fn update_keeps_omitted_secret_and_null_removes_it() {
    let (svc, keyring) = setup();
    let p = svc
        .create(new_profile("keep", ok_config(SENTINEL)))
        .await
        .unwrap();
    let update = ProfileUpdate {
        config: Some(json!({ "sleep_ms": 99 })),
        version: Some(1),
        ..Default::default()
    };
    let p2 = svc.update(&p.id, update).await.unwrap();
    assert_eq!((p2.version, p2.config["sleep_ms"].as_u64()), (2, Some(99)));
    let stored = svc
        .repository()
        .get(&patchbay::TenantId::default(), &p.id)
        .await
        .unwrap();
    assert_eq!(
        keyring
            .open(&p.id, "password", &stored.secrets.0["password"])
            .unwrap()
            .expose_secret(),
        SENTINEL
    );
    let remove = ProfileUpdate {
        config: Some(json!({ "password": null })),
        ..Default::default()
    };
    assert!(svc
        .update(&p.id, remove)
        .await
        .unwrap()
        .secret_fields()
        .is_empty());
}

#[tokio::test]
async fn env_and_file_references_resolve_only_at_probe_time() {
    let dir = tempfile::tempdir().unwrap();
    let keyring = Keyring::ephemeral();
    let svc = builder(&FakeConnector::default())
        .sealer(keyring.clone())
        .secret_access(
            SecretAccess::none()
                .allow_env("PATCHBAY_TEST_REF_PW")
                .allow_dir(dir.path()),
        )
        .build()
        .unwrap();
    std::env::set_var("PATCHBAY_TEST_REF_PW", "resolved-from-env");
    let mut file = tempfile::NamedTempFile::new_in(dir.path()).unwrap();
    writeln!(file, "resolved-from-file").unwrap();
    let file_ref = format!("{{{{ file:{} }}}}", file.path().display());
    for (name, reference) in [
        ("env-ref", "{{ env:PATCHBAY_TEST_REF_PW }}".to_owned()),
        ("file-ref", file_ref),
    ] {
        let mut config = ok_config(&reference);
        config["mode"] = json!("leaky_auth_failure");
        let p = svc.create(new_profile(name, config)).await.unwrap();
        // Stored as the reference, not the value.
        let stored = svc
            .repository()
            .get(&patchbay::TenantId::default(), &p.id)
            .await
            .unwrap();
        assert_eq!(
            keyring
                .open(&p.id, "password", &stored.secrets.0["password"])
                .unwrap()
                .expose_secret(),
            reference
        );
        // Resolved for the probe: the connector saw the value (and the
        // service scrubbed it from the message it echoed).
        let Error::ConnectionFailed(f) = svc.test_profile(&p.id, None).await.unwrap_err() else {
            panic!()
        };
        assert_eq!(
            f.message, "password '****' rejected for 127.0.0.1",
            "{name}"
        );
    }
}

#[tokio::test]
async fn unresolvable_reference_names_the_field_and_kind() {
    let svc = builder(&FakeConnector::default())
        .secret_access(SecretAccess::none().allow_env_prefix("PATCHBAY_TEST_UNSET_"))
        .build()
        .unwrap();
    let p = svc
        .create(new_profile(
            "missing-env",
            ok_config("{{ env:PATCHBAY_TEST_UNSET_VAR }}"),
        ))
        .await
        .unwrap();
    let err = svc.test_profile(&p.id, None).await.unwrap_err();
    assert_eq!(err.code(), "SECRET_UNAVAILABLE");
    let Error::SecretUnavailable {
        field,
        kind,
        message,
    } = err
    else {
        panic!()
    };
    assert_eq!((field.as_str(), kind.as_str()), ("/config/password", "env"));
    assert!(
        message.contains("not an allowed environment variable that is set"),
        "{message}"
    );
}

#[tokio::test]
async fn wrong_key_is_secret_unavailable() {
    let (svc, _) = setup();
    let p = svc
        .create(new_profile("wrong-key", ok_config(SENTINEL)))
        .await
        .unwrap();
    // Same store contents, a service with another (random) key.
    let repo = svc.repository().clone();
    let other = patchbay::ProfileService::builder(repo)
        .connector(FakeConnector::default())
        .build()
        .unwrap();
    let err = other.test_profile(&p.id, None).await.unwrap_err();
    assert_eq!(err.code(), "SECRET_UNAVAILABLE");
    assert_eq!(
        err.details(),
        json!({"field": "/config/password", "kind": "sealed"})
    );
    let text = err.to_string();
    assert!(
        text.contains(p.id.as_str()) && text.contains("password") && !text.contains(SENTINEL),
        "{text}"
    );
}
