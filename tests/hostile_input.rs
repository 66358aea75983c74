//! NUL and other control characters from callers are refused in core, with
//! the field named, on every store: memory, SQLite and Postgres (where they
//! used to be a 500).

use std::sync::Arc;

use patchbay::memory::MemoryStore;
use patchbay::repository::encode_cursor;
use patchbay::testkit::fake::FakeConnector;
use patchbay::{
    AutocompleteQuery, Dependent, Error, ListQuery, NewProfile, ProfileRepository, ProfileService,
    ProfileUpdate,
};
use patchbay_store_postgres::PostgresStore;
use serde_json::{json, Value};
use sqlx::Connection;

const PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

fn paths(err: Error) -> Vec<String> {
    match err {
        Error::Validation(v) => v.0.into_iter().map(|e| e.path).collect(),
        other => panic!(
            "expected VALIDATION_FAILED, got {} ({other:?})",
            other.code()
        ),
    }
}

fn profile(name: &str, description: &str, config: Value) -> NewProfile {
    NewProfile {
        name: name.into(),
        connector: "fake".into(),
        description: Some(description.into()),
        config,
        labels: Default::default(),
    }
}

/// Every caller-supplied string with a control character, against `repo`.
async fn refuses_control_characters(repo: Arc<dyn ProfileRepository>) {
    let svc = ProfileService::builder(repo)
        .connector(FakeConnector::default())
        .build()
        .unwrap();
    let ok = svc
        .create(profile(
            "hostile-ok",
            "multi-line\ndescription\tkept",
            json!({ "host": "127.0.0.1", "password": "pw" }),
        ))
        .await
        .unwrap();

    let err = svc
        .create(profile(
            "hostile\0name",
            "nul\0here",
            json!({ "host": "127.0.0.1\0", "password": "p\0w" }),
        ))
        .await
        .unwrap_err();
    let found = paths(err);
    for path in ["/name", "/description", "/config/host", "/config/password"] {
        assert!(found.iter().any(|p| p == path), "{path} in {found:?}");
    }

    let update = ProfileUpdate {
        description: Some(Some("bell\u{7}".into())),
        config: Some(json!({ "mode": "ok\u{1b}[2J" })),
        ..Default::default()
    };
    let found = paths(svc.update(&ok.id, update).await.unwrap_err());
    assert!(found.contains(&"/description".to_owned()), "{found:?}");
    assert!(found.contains(&"/config/mode".to_owned()), "{found:?}");

    for (query, path) in [
        (
            ListQuery {
                name_prefix: Some("host\0".into()),
                ..ListQuery::default()
            },
            "/prefix",
        ),
        (
            ListQuery {
                connector: Some("fa\0ke".into()),
                ..ListQuery::default()
            },
            "/connector",
        ),
        (
            ListQuery {
                after: Some("\0".into()),
                ..ListQuery::default()
            },
            "/cursor",
        ),
        (
            // A well-formed cursor that decodes to a NUL.
            ListQuery {
                after: Some(encode_cursor(&patchbay::TenantId::default(), "a\0")),
                ..ListQuery::default()
            },
            "/cursor",
        ),
    ] {
        assert_eq!(paths(svc.list(&query).await.unwrap_err()), [path]);
    }

    let err = svc.get_by_name("hostile\0ok").await.unwrap_err();
    assert_eq!(err.code(), "NOT_FOUND");

    let mut query = AutocompleteQuery::new("things");
    query.parent = Some("pub\0lic".into());
    query.prefix = Some("\u{0}".into());
    assert_eq!(
        paths(svc.autocomplete(&ok.id, &query).await.unwrap_err()),
        ["/parent", "/prefix"]
    );
    let mut query = AutocompleteQuery::new("thin\0gs");
    query.limit = 5;
    assert_eq!(
        paths(svc.autocomplete(&ok.id, &query).await.unwrap_err()),
        ["/type"]
    );

    let bad = Dependent::new("table\0", "t1");
    assert_eq!(
        paths(svc.attach(&ok.id, &bad).await.unwrap_err()),
        ["/kind"]
    );
    assert_eq!(
        paths(svc.detach(&ok.id, &bad).await.unwrap_err()),
        ["/kind"]
    );

    // Nothing was stored by any of it.
    let stored = svc.get(&ok.id).await.unwrap();
    assert_eq!(stored.version, 1);
    assert_eq!(
        svc.list(&ListQuery::default()).await.unwrap().items.len(),
        1
    );
}

#[tokio::test]
async fn memory_store() {
    refuses_control_characters(Arc::new(MemoryStore::new())).await;
}

#[tokio::test]
async fn sqlite_store() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("hostile.db").display());
    let store = patchbay_store_sqlite::SqliteStore::open(&url)
        .await
        .unwrap();
    refuses_control_characters(Arc::new(store)).await;
}

#[tokio::test]
async fn postgres_store() {
    let found = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        sqlx::PgConnection::connect(PG_URL),
    )
    .await
    .map_err(|_| "connect timed out".to_owned())
    .and_then(|r| r.map_err(|e| e.to_string()));
    let Some(mut admin) = patchbay::testkit::net::require(
        "PostgreSQL",
        "a server on 127.0.0.1:5432 with user postgres and database test",
        found,
    ) else {
        return;
    };
    // Named like the Postgres store's own test schemas, so a killed run's
    // leftover is dropped by their cleanup.
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let schema = format!("pbtest_{secs}_{}", uuid_suffix());
    let store = PostgresStore::connect(PG_URL, &schema).await.unwrap();
    refuses_control_characters(Arc::new(store)).await;
    sqlx::raw_sql(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
        .execute(&mut admin)
        .await
        .unwrap();
}

fn uuid_suffix() -> String {
    patchbay::ProfileId::generate().as_str()[5..17].to_owned()
}
