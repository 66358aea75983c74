//! Profile lifecycle through the service: versions, renames, dependents,
//! connectors, reseal.

mod common;

use common::{builder, new_profile, ok_config, service};
use patchbay::testkit::fake::FakeConnector;
use patchbay::{Dependent, Error, Key, Keyring, ListQuery, ProfileUpdate, Sealer};
use serde_json::json;

#[tokio::test]
async fn create_get_update_delete() {
    let (svc, _) = service();
    let p = svc
        .create(new_profile("Life", ok_config("pw")))
        .await
        .unwrap();
    assert!(p.id.as_str().starts_with("prof_"));
    assert_eq!((p.version, p.created_at), (1, p.updated_at));
    let json = serde_json::to_value(&p).unwrap();
    for field in [
        "id",
        "name",
        "connector",
        "description",
        "config",
        "created_at",
        "updated_at",
        "version",
    ] {
        assert!(json.get(field).is_some(), "{field} missing from {json}");
    }
    assert!(
        json["created_at"].as_str().unwrap().ends_with('Z'),
        "RFC 3339 UTC"
    );
    assert_eq!(svc.get_by_name("LIFE").await.unwrap().id, p.id);

    let update = ProfileUpdate {
        name: Some("life-2".into()),
        description: Some(None),
        config: Some(json!({ "port": null, "password": "pw" })),
        labels: None,
        version: Some(1),
    };
    let p2 = svc.update(&p.id, update).await.unwrap();
    assert_eq!(
        (p2.name.as_str(), p2.description.as_deref(), p2.version),
        ("life-2", None, 2)
    );
    assert!(!p2.config.contains_key("port"), "null removes a field");
    assert!(p2.updated_at >= p.updated_at && p2.created_at == p.created_at);

    let stale = ProfileUpdate {
        description: Some(Some("late".into())),
        version: Some(1),
        ..Default::default()
    };
    match svc.update(&p.id, stale).await.unwrap_err() {
        Error::VersionConflict {
            expected: 1,
            actual: 2,
            ..
        } => {}
        other => panic!("{other:?}"),
    }
    svc.delete(&p.id).await.unwrap();
    assert_eq!(svc.get(&p.id).await.unwrap_err().code(), "NOT_FOUND");
}

#[tokio::test]
async fn in_use_profiles_cannot_be_deleted() {
    let (svc, _) = service();
    let p = svc
        .create(new_profile("used", ok_config("pw")))
        .await
        .unwrap();
    let table = Dependent::new("connection_table", "orders");
    svc.attach(&p.id, &table).await.unwrap();
    let err = svc.delete(&p.id).await.unwrap_err();
    assert_eq!(err.code(), "PROFILE_IN_USE");
    assert_eq!(
        err.details()["dependents"],
        json!([{ "kind": "connection_table", "id": "orders" }])
    );
    assert_eq!(
        svc.dependents(&p.id).await.unwrap(),
        std::slice::from_ref(&table)
    );
    assert!(svc.detach(&p.id, &table).await.unwrap());
    svc.delete(&p.id).await.unwrap();
    let bad = Dependent::new("", "x");
    let other = svc
        .create(new_profile("other", ok_config("pw")))
        .await
        .unwrap();
    assert_eq!(
        svc.attach(&other.id, &bad).await.unwrap_err().code(),
        "VALIDATION_FAILED"
    );
}

#[tokio::test]
async fn list_filters_and_pages() {
    let (svc, _) = service();
    for i in 0..7 {
        svc.create(new_profile(&format!("svc-{i}"), ok_config("pw")))
            .await
            .unwrap();
    }
    let mut q = ListQuery {
        name_prefix: Some("SVC-".into()),
        limit: 3,
        ..Default::default()
    };
    let mut names = Vec::new();
    loop {
        let page = svc.list(&q).await.unwrap();
        names.extend(page.items.into_iter().map(|p| p.name));
        match page.next_cursor {
            Some(c) => q.after = Some(c),
            None => break,
        }
    }
    assert_eq!(
        names,
        (0..7).map(|i| format!("svc-{i}")).collect::<Vec<_>>()
    );
    let q = ListQuery {
        connector: Some("kafka".into()),
        ..Default::default()
    };
    assert!(svc.list(&q).await.unwrap().items.is_empty());
}

#[tokio::test]
async fn connectors_publish_schemas_with_secrets_marked() {
    let (svc, _) = service();
    let infos = svc.connectors();
    assert_eq!(infos.len(), 1);
    let fake = &infos[0];
    assert_eq!(
        (fake.kind.as_str(), fake.secret_fields.as_slice()),
        ("fake", &["password".to_owned()][..])
    );
    assert_eq!(fake.schema["properties"]["password"]["writeOnly"], true);
    assert_eq!(fake.schema["additionalProperties"], false);
    assert_eq!(fake.autocomplete_types, ["things"]);
}

#[tokio::test]
async fn reseal_moves_every_secret_to_the_active_key() {
    let old = Key::generate();
    let fake = FakeConnector::default();
    let svc = builder(&fake)
        .sealer(Keyring::new(old.clone()))
        .build()
        .unwrap();
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(
            svc.create(new_profile(
                &format!("rs-{i}"),
                ok_config(&format!("pw-{i}")),
            ))
            .await
            .unwrap()
            .id,
        );
    }
    svc.create(new_profile("no-secret", json!({ "host": "127.0.0.1" })))
        .await
        .unwrap();
    let new = Key::generate();
    let rotated = Keyring::new(new.clone()).with_older(old);
    let svc2 = patchbay::ProfileService::builder(svc.repository().clone())
        .connector(fake)
        .sealer(rotated.clone())
        .build()
        .unwrap();
    assert_eq!(svc2.reseal().await.unwrap().resealed, 5);
    assert_eq!(svc2.reseal().await.unwrap().resealed, 0, "idempotent");
    let only_new = Keyring::new(new.clone());
    for (i, id) in ids.iter().enumerate() {
        let stored = svc2.get(id).await.unwrap();
        let envelope = &stored.secrets.0["password"];
        assert!(
            envelope.starts_with(&format!("pbs1.{}.", new.id())),
            "{envelope}"
        );
        assert_eq!(stored.version, 2, "a reseal is a new version");
        use patchbay::secrecy::ExposeSecret;
        assert_eq!(
            only_new
                .open(id, "password", envelope)
                .unwrap()
                .expose_secret(),
            format!("pw-{i}")
        );
    }
}

#[tokio::test]
async fn named_dependents_are_claimed_once_per_tenant_and_audited() {
    use patchbay::{AuditAction, AuditOutcome, AuditQuery, TenantId};
    let (svc, _) = service();
    let p = svc
        .create(new_profile("named", ok_config("pw")))
        .await
        .unwrap();
    let q = svc
        .create(new_profile("named-2", ok_config("pw")))
        .await
        .unwrap();
    let table = Dependent::new("connection_table", "orders");
    svc.attach_named(&p.id, &table).await.unwrap();
    let err = svc.attach_named(&q.id, &table).await.unwrap_err();
    assert_eq!(err.code(), "ALREADY_EXISTS");
    assert_eq!(
        svc.named_dependent(&table).await.unwrap(),
        Some(p.id.clone())
    );
    let listed = svc
        .named_dependents("connection_table", None, 10)
        .await
        .unwrap();
    assert_eq!((listed.len(), &listed[0].profile_id), (1, &p.id));
    assert_eq!(
        svc.delete(&p.id).await.unwrap_err().code(),
        "PROFILE_IN_USE"
    );
    // Bad input is a validation error naming the field.
    let bad = svc
        .attach_named(&q.id, &Dependent::new("connection_table", "a\0b"))
        .await;
    assert_eq!(bad.unwrap_err().details()["fields"][0]["path"], "/id");
    let bad = svc.named_dependents("connection_table", None, 0).await;
    assert_eq!(bad.unwrap_err().details()["fields"][0]["path"], "/limit");
    // Another tenant has its own names and sees none of these.
    let acme = svc.tenant(TenantId::new("acme").unwrap());
    assert_eq!(acme.named_dependent(&table).await.unwrap(), None);
    // The claim and the refusal are on the trail as attaches.
    let query = AuditQuery {
        action: Some(AuditAction::Attach),
        ..AuditQuery::default()
    };
    let events = svc.audit_events(&query).await.unwrap().items;
    let outcomes: Vec<_> = events
        .iter()
        .map(|e| (e.outcome, e.error_code.as_deref()))
        .collect();
    assert_eq!(
        outcomes,
        [
            (AuditOutcome::Success, None),
            (AuditOutcome::Failure, Some("ALREADY_EXISTS")),
            (AuditOutcome::Failure, Some("VALIDATION_FAILED")),
        ]
    );
    assert!(svc.detach(&p.id, &table).await.unwrap());
    svc.attach_named(&q.id, &table).await.unwrap();
}
