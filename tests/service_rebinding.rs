//! A stored secret is bound to where it is sent: an update that moves the
//! profile (a connector's endpoint fields) must supply its secrets again.

mod common;

use common::{new_profile, ok_config, service};
use patchbay::{Error, ProfileUpdate};
use serde_json::{json, Value};

fn patch(config: Value) -> ProfileUpdate {
    ProfileUpdate {
        config: Some(config),
        ..Default::default()
    }
}

#[tokio::test]
async fn moving_the_host_without_the_secret_is_refused_and_stores_nothing() {
    let (svc, _) = service();
    let p = svc
        .create(new_profile("bound", ok_config("stored-pw")))
        .await
        .unwrap();
    for config in [
        json!({ "host": "attacker.example" }),
        json!({ "port": 4444 }),
        json!({ "host": "10.9.9.9", "mode": "ok" }),
    ] {
        let err = svc.update(&p.id, patch(config.clone())).await.unwrap_err();
        let Error::Validation(v) = &err else {
            panic!("{config}: {err:?}")
        };
        assert_eq!(v.0.len(), 1, "{v}");
        assert_eq!(v.0[0].path, "/config/password");
        assert!(v.0[0].message.contains("entered again"), "{v}");
        assert!(!v.0[0].message.contains("stored-pw"));
    }
    let stored = svc.get(&p.id).await.unwrap();
    assert_eq!(stored.version, 1, "nothing stored");
    assert_eq!(stored.config, p.config);
    assert_eq!(stored.secrets, p.secrets);
}

#[tokio::test]
async fn moving_with_the_secret_given_again_or_removed_is_allowed() {
    let (svc, _) = service();
    let p = svc
        .create(new_profile("rebind", ok_config("old-pw")))
        .await
        .unwrap();
    let moved = svc
        .update(
            &p.id,
            patch(json!({ "host": "127.0.0.2", "password": "new-pw" })),
        )
        .await
        .unwrap();
    assert_eq!(moved.config["host"], "127.0.0.2");
    assert_eq!(moved.secret_fields(), ["password"]);
    // Dropping the secret while moving sends nothing old anywhere.
    let moved = svc
        .update(
            &p.id,
            patch(json!({ "host": "127.0.0.3", "password": null })),
        )
        .await
        .unwrap();
    assert!(moved.secret_fields().is_empty());
    // With no secret stored, moving needs nothing.
    let moved = svc
        .update(&p.id, patch(json!({ "port": 7 })))
        .await
        .unwrap();
    assert_eq!(moved.config["port"], 7);
}

#[tokio::test]
async fn changes_elsewhere_keep_the_stored_secret() {
    let (svc, _) = service();
    let p = svc
        .create(new_profile("same-place", ok_config("kept-pw")))
        .await
        .unwrap();
    // `mode` is not an endpoint field of the fake; equal values are no move.
    let updated = svc
        .update(
            &p.id,
            patch(json!({ "mode": "ok", "sleep_ms": 5, "host": "127.0.0.1", "port": 9 })),
        )
        .await
        .unwrap();
    assert_eq!(updated.version, 2);
    assert_eq!(updated.secret_fields(), ["password"]);
}
