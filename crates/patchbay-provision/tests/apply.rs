//! Applying provisioning files over the memory and SQLite stores: idempotent,
//! one update per edited entry, nothing changed by an invalid file, prune
//! that keeps what is in use, managed profiles refused to API edits.

use std::sync::Arc;

use patchbay_connector_postgres::PostgresConnector;
use patchbay_connector_redis::RedisConnector;
use patchbay_core::{
    AuditAction, AuditQuery, Dependent, Error, ProfileRepository, ProfileService, ProfileUpdate,
    SecretAccess, MANAGED_BY_LABEL,
};
use patchbay_provision::{apply, ApplyOptions, Format, ProvisionFile};
use serde_json::json;

fn service_over(repo: Arc<dyn ProfileRepository>, drift: bool) -> ProfileService {
    ProfileService::builder(repo)
        .connector(PostgresConnector)
        .connector(RedisConnector)
        .secret_access(SecretAccess::none().allow_env_prefix("PROVISION_TEST_"))
        .allow_drift(drift)
        .build()
        .expect("service")
}

fn memory() -> ProfileService {
    service_over(Arc::new(patchbay_store_memory::MemoryStore::new()), false)
}

const FILE: &str = r#"
profiles:
  - name: orders-db
    connector: postgres
    description: Orders, primary
    labels: { env: prod }
    config:
      host: db.internal
      username: app
      password: "{{ env:PROVISION_TEST_ORDERS }}"
      tls_mode: require
  - name: cache
    uri: "redis://:hunter2@cache.internal:6380/2"
  - name: reporting
    connector: postgres
    config: { host: replica.internal, port: 5433, username: reader, password: plain-secret }
"#;

fn opts(prune: bool) -> ApplyOptions {
    ApplyOptions {
        source: "file:profiles.yaml".into(),
        prune,
    }
}

fn parse(text: &str) -> ProvisionFile {
    ProvisionFile::parse(text, Format::Yaml).expect("parse")
}

async fn versions(svc: &ProfileService) -> Vec<(String, u64)> {
    let page = svc.list(&Default::default()).await.unwrap();
    page.items
        .into_iter()
        .map(|p| (p.name, p.version))
        .collect()
}

#[tokio::test]
async fn apply_twice_changes_nothing_the_second_time() {
    let svc = memory();
    let first = apply(&svc, &parse(FILE), &opts(false))
        .await
        .expect("apply");
    assert_eq!(first.created, ["orders-db", "cache", "reporting"]);
    let before = versions(&svc).await;
    let second = apply(&svc, &parse(FILE), &opts(false))
        .await
        .expect("apply");
    assert!(second.is_noop(), "{second:?}");
    assert_eq!(second.unchanged.len(), 3);
    assert_eq!(versions(&svc).await, before, "no version moved");
    let p = svc.get_by_name("orders-db").await.unwrap();
    assert_eq!(p.labels.get("env").map(String::as_str), Some("prod"));
    assert_eq!(
        p.labels.get(MANAGED_BY_LABEL).map(String::as_str),
        Some("file:profiles.yaml")
    );
    assert_eq!(p.secret_fields(), ["password"]);
}

#[tokio::test]
async fn editing_one_entry_is_one_update_secrets_compared_by_value() {
    let svc = memory();
    apply(&svc, &parse(FILE), &opts(false)).await.unwrap();
    // Only the secret changes: still an update.
    let edited = FILE.replace("plain-secret", "other-secret");
    let r = apply(&svc, &parse(&edited), &opts(false)).await.unwrap();
    assert_eq!(r.updated, ["reporting"], "{r:?}");
    assert_eq!(r.unchanged.len(), 2);
    assert_eq!(svc.get_by_name("reporting").await.unwrap().version, 2);
    // A removed optional field is removed from the stored config.
    let edited = edited
        .replace("    description: Orders, primary\n", "")
        .replace("      tls_mode: require\n", "");
    let r = apply(&svc, &parse(&edited), &opts(false)).await.unwrap();
    assert_eq!(r.updated, ["orders-db"], "{r:?}");
    let p = svc.get_by_name("orders-db").await.unwrap();
    assert_eq!(p.description, None);
    assert!(!p.config.contains_key("tls_mode"), "{:?}", p.config);
}

#[tokio::test]
async fn an_invalid_file_changes_nothing_and_lists_every_problem_with_its_line() {
    let svc = memory();
    apply(&svc, &parse(FILE), &opts(false)).await.unwrap();
    let before = versions(&svc).await;
    let bad = FILE
        .replace("port: 5433", "port: 0")
        .replace("plain-secret", "changed")
        .replace(
            "redis://:hunter2@cache.internal:6380/2",
            "redis://:hunter2@cache.internal:99999/2",
        )
        + "  - name: ORDERS-DB\n    connector: nope\n    config: {}\n";
    let problems = apply(&svc, &parse(&bad), &opts(false)).await.unwrap_err().0;
    let text = format!("{problems:?}");
    assert!(
        !text.contains("hunter2") && !text.contains("changed"),
        "{text}"
    );
    let at = |path: &str| {
        problems
            .iter()
            .find(|p| p.path.starts_with(path))
            .unwrap_or_else(|| panic!("{path} in {text}"))
    };
    // Each problem carries the line its entry starts on.
    assert_eq!(at("/profiles/1/uri").line, Some(12));
    assert_eq!(at("/profiles/2/config/port").line, Some(14));
    assert_eq!(at("/profiles/3/name").line, Some(17));
    assert!(
        problems
            .iter()
            .any(|p| p.path == "/profiles/3" || p.message.contains("nope")),
        "{text}"
    );
    assert_eq!(versions(&svc).await, before, "nothing changed");
}

#[tokio::test]
async fn prune_deletes_what_the_file_dropped_but_keeps_what_is_in_use() {
    let svc = memory();
    apply(&svc, &parse(FILE), &opts(false)).await.unwrap();
    let cache = svc.get_by_name("cache").await.unwrap();
    svc.attach(&cache.id, &Dependent::new("pipeline", "nightly"))
        .await
        .unwrap();
    let only_orders = FILE.split("  - name: cache").next().unwrap().to_owned();
    // Without prune, nothing is deleted.
    let r = apply(&svc, &parse(&only_orders), &opts(false))
        .await
        .unwrap();
    assert!(r.deleted.is_empty());
    let r = apply(&svc, &parse(&only_orders), &opts(true))
        .await
        .unwrap();
    assert_eq!(r.deleted, ["reporting"]);
    assert_eq!(r.kept_in_use.len(), 1, "{r:?}");
    assert_eq!(r.kept_in_use[0].0, "cache");
    assert!(r.kept_in_use[0].1.contains("pipeline:nightly"));
    assert!(svc.get_by_name("cache").await.is_ok());
}

#[tokio::test]
async fn managed_profiles_refuse_api_edits_unless_drift_is_allowed() {
    let repo: Arc<dyn ProfileRepository> = Arc::new(patchbay_store_memory::MemoryStore::new());
    let strict = service_over(repo.clone(), false);
    apply(&strict, &parse(FILE), &opts(false)).await.unwrap();
    let p = strict.get_by_name("reporting").await.unwrap();
    let edit = || ProfileUpdate {
        description: Some(Some("edited".into())),
        ..ProfileUpdate::default()
    };
    match strict.update(&p.id, edit()).await {
        Err(Error::Managed { managed_by, .. }) => assert_eq!(managed_by, "file:profiles.yaml"),
        other => panic!("expected PROFILE_MANAGED, got {other:?}"),
    }
    assert!(matches!(
        strict.delete(&p.id).await,
        Err(Error::Managed { .. })
    ));
    // The reserved label cannot be set or cleared through the API either.
    let relabel = ProfileUpdate {
        labels: Some(json!({ MANAGED_BY_LABEL: null })),
        ..ProfileUpdate::default()
    };
    assert!(strict.update(&p.id, relabel).await.is_err());
    let lenient = service_over(repo, true);
    lenient.update(&p.id, edit()).await.expect("drift allowed");
}

#[tokio::test]
async fn a_name_held_by_an_unmanaged_profile_is_a_problem_not_a_takeover() {
    let svc = memory();
    svc.create_from_uri("cache", "redis://other:6379", None, Default::default())
        .await
        .unwrap();
    let problems = apply(&svc, &parse(FILE), &opts(false)).await.unwrap_err().0;
    assert!(
        problems
            .iter()
            .any(|p| p.path == "/profiles/1/name" && p.message.contains("not managed")),
        "{problems:?}"
    );
    assert_eq!(versions(&svc).await.len(), 1, "nothing created");
}

#[tokio::test]
async fn json_and_toml_files_are_the_same_profiles() {
    let json_file = r#"{"profiles": [{"name": "cache", "uri": "redis://cache.internal:6380/2"}]}"#;
    let toml_file = "[[profiles]]\nname = \"cache\"\nuri = \"redis://cache.internal:6380/2\"\n";
    let a = ProvisionFile::parse(json_file, Format::Json).unwrap();
    let b = ProvisionFile::parse(toml_file, Format::Toml).unwrap();
    assert_eq!(a.profiles, b.profiles);
    let e =
        ProvisionFile::parse("profiles:\n  - name: x\n    bogus: 1\n", Format::Yaml).unwrap_err();
    assert!(
        e.0[0].path == "/profiles/0/bogus" && e.0[0].message == "unknown key",
        "{e:?}"
    );
    let e = ProvisionFile::parse("profiles: [\n", Format::Yaml).unwrap_err();
    assert!(e.0[0].line.is_some(), "{e:?}");
}

#[tokio::test]
async fn the_same_over_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("p.db").display());
    let store = patchbay_store_sqlite::SqliteStore::open(&url)
        .await
        .unwrap();
    let svc = service_over(Arc::new(store), false);
    assert_eq!(
        apply(&svc, &parse(FILE), &opts(false))
            .await
            .unwrap()
            .created
            .len(),
        3
    );
    assert!(apply(&svc, &parse(FILE), &opts(false))
        .await
        .unwrap()
        .is_noop());
    // The no-op apply opened each stored secret to compare it: one audited
    // opening per profile, recorded together.
    let query = AuditQuery {
        action: Some(AuditAction::Resolve),
        limit: 100,
        ..AuditQuery::default()
    };
    let opened = svc.audit_events(&query).await.unwrap().items;
    let mut ids: Vec<String> = opened
        .iter()
        .filter_map(|e| e.profile_id.as_ref().map(ToString::to_string))
        .collect();
    ids.sort();
    let page = svc.list(&Default::default()).await.unwrap();
    let mut all: Vec<String> = page.items.iter().map(|p| p.id.to_string()).collect();
    all.sort();
    assert_eq!(ids, all);
}

#[tokio::test]
async fn a_bad_label_is_a_problem_before_anything_is_written() {
    let svc = memory();
    let bad = format!(
        "{FILE}  - name: labelled\n    uri: redis://cache\n    labels: {{ \"bad key!\": x }}\n"
    );
    let problems = apply(&svc, &parse(&bad), &opts(false)).await.unwrap_err().0;
    assert!(
        problems
            .iter()
            .any(|p| p.path.starts_with("/profiles/3/labels")),
        "{problems:?}"
    );
    assert!(versions(&svc).await.is_empty(), "nothing created");
}
