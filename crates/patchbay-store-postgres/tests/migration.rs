//! Schemas made by earlier builds (built here with those builds' own
//! migration SQL, unchanged in `migrations/`) migrate in place. Before
//! tenants (version 3): profiles land in the default tenant, names become
//! unique per tenant, and the change feed names the tenant. Before the label
//! side table (version 6): stored labels stay filterable.

mod common;

use common::{admin, schema_name, url, TestStore};
use patchbay_core::{Error, ListQuery, ProfileEvent, ProfileId, ProfileRepository, TenantId};
use patchbay_store_postgres::{PostgresConfig, PostgresStore};

/// Migrations 1..=`upto`, as the build that stopped there applied them.
async fn schema_at(conn: &mut sqlx::PgConnection, schema: &str, upto: i64) {
    let setup = format!(
        "CREATE SCHEMA \"{schema}\"; SET search_path TO \"{schema}\"; \
         CREATE TABLE patchbay_migrations (version BIGINT NOT NULL PRIMARY KEY, \
         description TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
    );
    sqlx::raw_sql(&setup)
        .execute(&mut *conn)
        .await
        .expect("schema");
    let all = [
        (
            1i64,
            "profiles",
            include_str!("../migrations/0001_profiles.sql"),
        ),
        (
            2,
            "change feed",
            include_str!("../migrations/0002_change_feed.sql"),
        ),
        (
            3,
            "key checks",
            include_str!("../migrations/0003_key_checks.sql"),
        ),
        (4, "tenants", include_str!("../migrations/0004_tenants.sql")),
        (5, "labels", include_str!("../migrations/0005_labels.sql")),
        (6, "audit", include_str!("../migrations/0006_audit.sql")),
    ];
    for (version, description, sql) in all.into_iter().filter(|m| m.0 <= upto) {
        sqlx::raw_sql(sql)
            .execute(&mut *conn)
            .await
            .expect("old migration");
        sqlx::query("INSERT INTO patchbay_migrations (version, description) VALUES ($1, $2)")
            .bind(version)
            .bind(description)
            .execute(&mut *conn)
            .await
            .expect("record");
    }
}

/// The schema of the build before tenants, with one profile and one
/// dependent in it, as that build wrote them.
async fn old_schema(conn: &mut sqlx::PgConnection, schema: &str, id: &ProfileId) {
    schema_at(conn, schema, 3).await;
    sqlx::query(
        "INSERT INTO profiles (id, name, name_key, connector, description, config, secrets, \
         created_at, updated_at, version) VALUES ($1, 'Orders', 'orders', 'fake', NULL, \
         '{\"host\":\"db\"}', '{}', now(), now(), 3)",
    )
    .bind(id.as_str())
    .execute(&mut *conn)
    .await
    .expect("old profile");
    sqlx::query("INSERT INTO profile_dependents VALUES ($1, 'connection_table', 't1')")
        .bind(id.as_str())
        .execute(&mut *conn)
        .await
        .expect("old dependent");
    sqlx::raw_sql("RESET search_path")
        .execute(&mut *conn)
        .await
        .expect("reset");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schema_from_before_tenants_migrates_in_place() {
    let Some(mut conn) = admin().await else {
        return;
    };
    let schema = schema_name();
    let id = ProfileId::generate();
    old_schema(&mut conn, &schema, &id).await;

    let store = PostgresStore::connect_with(PostgresConfig::new(url(), schema.clone()))
        .await
        .expect("connect and migrate");
    // Dropped (with the schema) at the end.
    let store = TestStore { store };
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

    let acme = TenantId::new("acme").expect("tenant");
    assert!(matches!(
        store.get(&acme, &id).await,
        Err(Error::NotFound(_))
    ));
    // The replaced trigger names the tenant: acme's watcher sees acme's create.
    let mut events = store.watch(&acme).await.expect("watch");
    let mut theirs = patchbay_testkit::repository::fixture("orders", "fake");
    theirs.tenant = acme.clone();
    store
        .create(&theirs)
        .await
        .expect("same name, other tenant");
    assert_eq!(
        events.next().await,
        Some(ProfileEvent::Created {
            id: theirs.id.clone(),
            version: 1
        })
    );
    let mut dup = patchbay_testkit::repository::fixture("orders", "fake");
    dup.tenant = default;
    assert!(matches!(
        store.create(&dup).await,
        Err(Error::AlreadyExists { .. })
    ));
}

/// A schema of the build before the label side table (version 6) keeps its
/// labelled profiles findable by label, each in its tenant: migration 8
/// fills `profile_labels` from the stored labels.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn labels_stored_before_the_side_table_stay_filterable() {
    let Some(mut conn) = admin().await else {
        return;
    };
    let schema = schema_name();
    schema_at(&mut conn, &schema, 6).await;
    for (i, (tenant, env)) in [("default", "prod"), ("default", "dev"), ("acme", "prod")]
        .into_iter()
        .enumerate()
    {
        sqlx::query(
            "INSERT INTO profiles (id, tenant, name, name_key, connector, config, secrets, \
             labels, created_at, updated_at, version) \
             VALUES ($1, $2, $3, $3, 'fake', '{}', '{}', $4::jsonb, now(), now(), 1)",
        )
        .bind(ProfileId::generate().as_str())
        .bind(tenant)
        .bind(format!("p{i}"))
        .bind(format!("{{\"env\":\"{env}\",\"team\":\"x\"}}"))
        .execute(&mut conn)
        .await
        .expect("labelled profile");
    }
    sqlx::raw_sql("RESET search_path")
        .execute(&mut conn)
        .await
        .expect("reset");

    let store = PostgresStore::connect_with(PostgresConfig::new(url(), schema.clone()))
        .await
        .expect("connect and migrate");
    let store = TestStore { store };
    let names = |t: &str, labels: &[(&str, &str)]| {
        let q = ListQuery {
            labels: labels
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            ..ListQuery::default()
        };
        let (store, t) = (&store, TenantId::new(t).expect("tenant"));
        async move {
            let page = store.list(&t, &q).await.expect("list");
            page.items.into_iter().map(|p| p.name).collect::<Vec<_>>()
        }
    };
    assert_eq!(names("default", &[("env", "prod")]).await, ["p0"]);
    assert_eq!(
        names("default", &[("team", "x"), ("env", "dev")]).await,
        ["p1"]
    );
    assert_eq!(names("acme", &[("env", "prod")]).await, ["p2"]);
}
