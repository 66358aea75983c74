//! Several replicas on one schema: they migrate at once without clashing,
//! and the database (not a process-local lock) keeps names unique and
//! dependents consistent across them.

mod common;

use patchbay_core::{Dependent, Error, ProfileRepository};
use patchbay_store_postgres::{PostgresConfig, PostgresStore};
use patchbay_testkit::repository::{fixture, unique};

struct DropSchema(String);

impl Drop for DropSchema {
    fn drop(&mut self) {
        let (url, schema) = (common::url(), self.0.clone());
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("rt");
            rt.block_on(async {
                use sqlx::Connection;
                if let Ok(mut c) = sqlx::PgConnection::connect(&url).await {
                    let sql = format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
                    let _ = sqlx::raw_sql(&sql).execute(&mut c).await;
                }
            });
        })
        .join();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replicas_share_one_schema() {
    if common::admin().await.is_none() {
        return;
    }
    let schema = common::schema_name();
    let _cleanup = DropSchema(schema.clone());
    // Three replicas start together: the migrations run once, under a lock.
    let connects: Vec<_> = (0..3)
        .map(|_| {
            let mut config = PostgresConfig::new(common::url(), schema.clone());
            config.max_connections = 3;
            tokio::spawn(PostgresStore::connect_with(config))
        })
        .collect();
    let mut replicas = Vec::new();
    for c in connects {
        replicas.push(c.await.expect("task").expect("connect and migrate"));
    }
    // Every migration applied exactly once, none skipped.
    let (applied, newest): (i64, i64) = sqlx::query_as(&format!(
        "SELECT count(*), max(version) FROM \"{schema}\".patchbay_migrations"
    ))
    .fetch_one(replicas[0].pool())
    .await
    .expect("ledger");
    assert!(newest >= 3, "key checks are migration 3");
    assert_eq!(applied, newest);
    assert_eq!(replicas[0].migrate().await.expect("migrate again"), 0);

    // 30 creates of one name spread over the replicas: one wins.
    let name = unique("replica");
    let creates: Vec<_> = (0..30)
        .map(|i| {
            let store = replicas[i % 3].clone();
            let n = if i % 2 == 0 {
                name.to_uppercase()
            } else {
                name.clone()
            };
            tokio::spawn(async move { store.create(&fixture(&n, "fake")).await })
        })
        .collect();
    let mut wins = 0;
    for c in creates {
        match c.await.expect("task") {
            Ok(()) => wins += 1,
            Err(Error::AlreadyExists { .. }) => {}
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(wins, 1);

    // What one replica attaches, another cannot delete past.
    let p = replicas[1]
        .get_by_name(&patchbay_core::TenantId::default(), &name)
        .await
        .expect("visible to every replica");
    let dep = Dependent::new("pipeline", "p1");
    replicas[2]
        .attach(&patchbay_core::TenantId::default(), &p.id, &dep)
        .await
        .expect("attach");
    match replicas[0]
        .delete(&patchbay_core::TenantId::default(), &p.id)
        .await
    {
        Err(Error::InUse { dependents, .. }) => assert_eq!(dependents, [dep]),
        other => panic!("expected InUse, got {other:?}"),
    }
    for r in &replicas {
        r.close().await;
    }
}
