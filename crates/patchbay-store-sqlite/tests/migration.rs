//! A database made by the build before tenants (schema version 2, built
//! here with that build's own migration SQL, unchanged in
//! `migrations/0001`–`0002`) opens in place: its profiles land in the
//! default tenant, names become unique per tenant.

use patchbay_core::{Error, ListQuery, ProfileId, ProfileRepository, TenantId};
use patchbay_store_sqlite::SqliteStore;
use sqlx::Connection;

/// The schema of the build before tenants, with one profile and one
/// dependent in it, as that build wrote them.
async fn old_database(path: &std::path::Path, id: &ProfileId) {
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let mut c = sqlx::SqliteConnection::connect(&url).await.expect("open");
    sqlx::raw_sql(
        "CREATE TABLE patchbay_migrations (version INTEGER NOT NULL PRIMARY KEY, \
         description TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT",
    )
    .execute(&mut c)
    .await
    .expect("ledger");
    for (version, description, sql) in [
        (
            1,
            "profiles",
            include_str!("../migrations/0001_profiles.sql"),
        ),
        (
            2,
            "key checks",
            include_str!("../migrations/0002_key_checks.sql"),
        ),
    ] {
        sqlx::raw_sql(sql)
            .execute(&mut c)
            .await
            .expect("old migration");
        sqlx::query("INSERT INTO patchbay_migrations VALUES (?, ?, unixepoch())")
            .bind(version)
            .bind(description)
            .execute(&mut c)
            .await
            .expect("record");
    }
    sqlx::query(
        "INSERT INTO profiles (id, name, name_key, connector, description, config, secrets, \
         created_at, updated_at, version) VALUES (?, 'Orders', 'orders', 'fake', NULL, \
         '{\"host\":\"db\"}', '{}', 1700000000000000, 1700000000000000, 3)",
    )
    .bind(id.as_str())
    .execute(&mut c)
    .await
    .expect("old profile");
    sqlx::query("INSERT INTO profile_dependents VALUES (?, 'connection_table', 't1')")
        .bind(id.as_str())
        .execute(&mut c)
        .await
        .expect("old dependent");
    c.close().await.expect("close");
}

#[tokio::test]
async fn a_database_from_before_tenants_migrates_in_place() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("old.db");
    let id = ProfileId::generate();
    old_database(&path, &id).await;

    let store = SqliteStore::open(&format!("sqlite://{}", path.display()))
        .await
        .expect("open and migrate");
    let default = TenantId::default();
    let p = store
        .get(&default, &id)
        .await
        .expect("in the default tenant");
    assert_eq!(
        (p.name.as_str(), p.version, &p.tenant),
        ("Orders", 3, &default)
    );
    assert_eq!(
        store
            .get_by_name(&default, "ORDERS")
            .await
            .expect("by name")
            .id,
        id
    );
    let page = store
        .list(&default, &ListQuery::default())
        .await
        .expect("list");
    assert_eq!(page.items.len(), 1);
    assert_eq!(
        store.dependents(&default, &id).await.expect("deps").len(),
        1
    );
    assert_eq!(
        store.tenants().await.expect("tenants"),
        std::slice::from_ref(&default)
    );

    // Nowhere else, and its name is free in another tenant.
    let acme = TenantId::new("acme").expect("tenant");
    assert!(matches!(
        store.get(&acme, &id).await,
        Err(Error::NotFound(_))
    ));
    let mut theirs = patchbay_testkit::repository::fixture("orders", "fake");
    theirs.tenant = acme.clone();
    store
        .create(&theirs)
        .await
        .expect("same name, other tenant");
    let mut dup = patchbay_testkit::repository::fixture("orders", "fake");
    dup.tenant = default;
    assert!(matches!(
        store.create(&dup).await,
        Err(Error::AlreadyExists { .. })
    ));
    // Reopening applies nothing more.
    assert_eq!(store.migrate().await.expect("again"), 0);
}
