//! Validation through the service: every problem at once, with paths, and
//! nothing stored on failure.

mod common;

use common::{new_profile, ok_config, service};
use patchbay::{Error, ListQuery, NewProfile, ProfileUpdate};
use serde_json::json;

fn fields(err: Error) -> Vec<(String, String)> {
    match err {
        Error::Validation(v) => v.0.into_iter().map(|e| (e.path, e.message)).collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[tokio::test]
async fn reports_every_problem_at_once() {
    let (svc, _) = service();
    let bad = NewProfile {
        name: " bad name".into(),
        connector: "fake".into(),
        description: Some("x".repeat(2000)),
        config: json!({ "host": 5, "port": "eighty", "colour": "blue", "password": 42 }),
        labels: Default::default(),
    };
    let errors = fields(svc.create(bad).await.unwrap_err());
    let paths: Vec<&str> = errors.iter().map(|(p, _)| p.as_str()).collect();
    for expected in [
        "/name",
        "/description",
        "/config/host",
        "/config/port",
        "/config/password",
        "/config/colour",
    ] {
        assert!(
            paths.contains(&expected),
            "{expected} missing from {errors:?}"
        );
    }
    let unknown = errors
        .iter()
        .find(|(p, _)| p == "/config/colour")
        .expect("unknown field error");
    assert_eq!(unknown.1, "is not a known field");
    let secret = errors
        .iter()
        .find(|(p, _)| p == "/config/password")
        .unwrap();
    assert!(
        !secret.1.contains("42"),
        "a secret's value is not quoted: {secret:?}"
    );
    assert!(
        svc.list(&ListQuery::default())
            .await
            .unwrap()
            .items
            .is_empty(),
        "nothing stored"
    );
}

#[tokio::test]
async fn missing_required_field_and_non_object_config() {
    let (svc, _) = service();
    let errors = fields(
        svc.create(new_profile("a", json!({ "port": 1 })))
            .await
            .unwrap_err(),
    );
    assert!(
        errors
            .iter()
            .any(|(p, m)| p == "/config" && m.contains("host")),
        "{errors:?}"
    );
    let errors = fields(
        svc.create(new_profile("a", json!([1, 2])))
            .await
            .unwrap_err(),
    );
    assert_eq!(
        errors,
        [("/config".to_owned(), "must be an object".to_owned())]
    );
}

#[tokio::test]
async fn connector_specific_checks_are_included() {
    let (svc, _) = service();
    let errors = fields(
        svc.create(new_profile("a", json!({ "host": "", "port": 0 })))
            .await
            .unwrap_err(),
    );
    assert!(
        errors.iter().any(|(p, _)| p == "/config/host"),
        "{errors:?}"
    );
}

#[tokio::test]
async fn unknown_connector_has_its_own_code() {
    let (svc, _) = service();
    let mut p = new_profile("a", ok_config("pw"));
    p.connector = "oracle".into();
    let err = svc.create(p).await.unwrap_err();
    assert_eq!(err.code(), "UNKNOWN_CONNECTOR");
}

#[tokio::test]
async fn malformed_secret_references_are_rejected() {
    let (svc, _) = service();
    for (value, needle) in [
        ("{{ env: }}", "scheme"),
        ("{{ vault:kv/x }}", "vault"),
        ("{{ nope", "{{"),
    ] {
        let errors = fields(
            svc.create(new_profile("a", ok_config(value)))
                .await
                .unwrap_err(),
        );
        assert!(
            errors
                .iter()
                .any(|(p, m)| p == "/config/password" && m.contains(needle)),
            "{value}: {errors:?}"
        );
    }
}

#[tokio::test]
async fn names_are_unique_in_any_case() {
    let (svc, _) = service();
    svc.create(new_profile("Prod-Kafka", ok_config("pw")))
        .await
        .unwrap();
    let err = svc
        .create(new_profile("prod-kafka", ok_config("pw")))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "ALREADY_EXISTS");
}

#[tokio::test]
async fn invalid_update_changes_nothing() {
    let (svc, _) = service();
    let p = svc
        .create(new_profile("upd", ok_config("pw")))
        .await
        .unwrap();
    let update = ProfileUpdate {
        name: Some("bad name".into()),
        config: Some(json!({ "port": "x", "extra": 1 })),
        ..Default::default()
    };
    let errors = fields(svc.update(&p.id, update).await.unwrap_err());
    // Name, port type, unknown field, and the password the moved port
    // would need again.
    assert_eq!(errors.len(), 4, "{errors:?}");
    assert_eq!(svc.get(&p.id).await.unwrap(), p);
}

#[tokio::test]
async fn list_limits_are_checked() {
    let (svc, _) = service();
    for limit in [0, 1001] {
        let q = ListQuery {
            limit,
            ..Default::default()
        };
        assert_eq!(svc.list(&q).await.unwrap_err().code(), "VALIDATION_FAILED");
    }
}
