//! Environment profiles and export → import round trips.

use std::sync::Arc;

use patchbay_connector_postgres::PostgresConnector;
use patchbay_connector_redis::RedisConnector;
use patchbay_core::{ProfileService, SecretAccess, MANAGED_BY_LABEL};
use patchbay_provision::{
    apply, env, export, import, placeholder, ApplyOptions, Format, ProvisionFile, Selection,
};

fn service() -> ProfileService {
    ProfileService::builder(Arc::new(patchbay_store_memory::MemoryStore::new()))
        .connector(PostgresConnector)
        .connector(RedisConnector)
        .secret_access(SecretAccess::none().allow_env_prefix("PATCHBAY_SECRET_"))
        .build()
        .expect("service")
}

fn vars(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[tokio::test]
async fn env_profiles_are_applied_and_listed_as_managed_by_env() {
    let svc = service();
    let file = env::from_vars(vars(&[
        ("PATCHBAY_CONN_ORDERS_DB", "postgresql://app:s%40cret@db.internal/orders?sslmode=require"),
        ("PATCHBAY_CONN_CACHE", r#"{"connector": "redis", "config": {"addresses": ["cache:6379"]}, "labels": {"team": "web"}}"#),
        ("HOME", "/root"),
    ]))
    .expect("env");
    let report = apply(
        &svc,
        &file,
        &ApplyOptions {
            source: "env".into(),
            prune: true,
        },
    )
    .await
    .unwrap();
    assert_eq!(report.created, ["cache", "orders-db"]);
    let page = svc.list(&Default::default()).await.unwrap();
    assert_eq!(page.items.len(), 2);
    for p in &page.items {
        assert_eq!(
            p.labels.get(MANAGED_BY_LABEL).map(String::as_str),
            Some("env")
        );
    }
    let cache = svc.get_by_name("cache").await.unwrap();
    assert_eq!(cache.labels.get("team").map(String::as_str), Some("web"));
}

#[test]
fn env_problems_never_quote_the_value() {
    let e = env::from_vars(vars(&[(
        "PATCHBAY_CONN_X",
        "{\"connector\": \"redis\", \"password\": \"hunter2\"",
    )]))
    .unwrap_err();
    assert_eq!(e.0[0].path, "/env/PATCHBAY_CONN_X");
    assert!(!e.to_string().contains("hunter2"), "{e}");
    assert_eq!(
        env::profile_name("PATCHBAY_CONN_ORDERS_DB").as_deref(),
        Some("orders-db")
    );
    assert_eq!(env::profile_name("PATCHBAY_CONN_"), None);
}

#[tokio::test]
async fn export_has_no_secret_and_imports_into_an_empty_store_as_the_same_profiles() {
    let svc = service();
    svc.create_from_uri(
        "orders-db",
        "postgresql://app:S3NTINEL-export@db.internal:5433/orders?sslmode=verify-full",
        Some("primary".into()),
        Default::default(),
    )
    .await
    .unwrap();
    svc.create_from_uri(
        "cache",
        "rediss://default:S3NTINEL-export@cache:6380/1",
        None,
        Default::default(),
    )
    .await
    .unwrap();
    let file = export(&svc, &Selection::default()).await.unwrap();
    for format in [Format::Yaml, Format::Json, Format::Toml] {
        let text = file.render(format);
        assert!(!text.contains("S3NTINEL"), "{format:?}: {text}");
        assert!(
            text.contains(&placeholder("orders-db", "password").replace('"', "")),
            "{text}"
        );
        let again = ProvisionFile::parse(&text, format)
            .unwrap_or_else(|e| panic!("{format:?}: {e}\n{text}"));
        assert_eq!(again.profiles, file.profiles, "{format:?}");
    }
    let target = service();
    let r = import(&target, &file, false).await.unwrap();
    assert_eq!(r.created.len(), 2);
    for name in ["orders-db", "cache"] {
        let (a, b) = (
            svc.get_by_name(name).await.unwrap(),
            target.get_by_name(name).await.unwrap(),
        );
        assert_eq!(
            (&a.connector, &a.description, &a.config, &a.labels),
            (&b.connector, &b.description, &b.config, &b.labels)
        );
        assert_eq!(a.secret_fields(), b.secret_fields());
    }
    // Again: skipped without overwrite, unchanged with it.
    assert_eq!(
        import(&target, &file, false).await.unwrap().skipped.len(),
        2
    );
    assert_eq!(
        import(&target, &file, true).await.unwrap().unchanged.len(),
        2
    );
    // Selected by name.
    let one = export(
        &svc,
        &Selection {
            names: vec!["CACHE".into()],
            connector: None,
        },
    )
    .await
    .unwrap();
    assert_eq!(one.profiles.len(), 1);
}
