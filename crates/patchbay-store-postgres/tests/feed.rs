//! The change feed across replicas and processes: a write on one store
//! reaches a watcher on another (its own pool), writes by another process
//! (`psql`) arrive all and in order, and a killed `LISTEN` connection yields
//! `Resync` and then events again.

mod common;

use std::time::Duration;

use common::TestStore;
use patchbay_core::{ProfileEvent, ProfileEvents, ProfileRepository};
use patchbay_store_postgres::{PostgresConfig, PostgresStore};
use patchbay_testkit::repository::{fixture, unique};
use patchbay_testkit::watch::next_about;

const PATIENCE: Duration = Duration::from_secs(30);

/// A second replica on `primary`'s schema, with a pool of its own.
async fn replica(primary: &PostgresStore) -> PostgresStore {
    let mut config = PostgresConfig::new(common::url(), primary.schema());
    config.max_connections = 3;
    PostgresStore::connect_with(config).await.expect("replica")
}

async fn next(events: &mut ProfileEvents) -> ProfileEvent {
    tokio::time::timeout(PATIENCE, events.next())
        .await
        .expect("an event in time")
        .expect("the feed is open")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_on_one_replica_reaches_the_other() {
    let Some(a) = TestStore::new().await else {
        return;
    };
    let b = replica(&a.store).await;
    let mut events = b
        .watch(&patchbay_core::TenantId::default())
        .await
        .expect("watch on B");
    let p = fixture(&unique("repl"), "fake");
    a.store.create(&p).await.expect("create on A");
    let mut next_p = p.clone();
    next_p.version = 2;
    a.store.update(&next_p, 1).await.expect("update on A");
    a.store
        .delete(&patchbay_core::TenantId::default(), &p.id)
        .await
        .expect("delete on A");
    let id = p.id.clone();
    assert_eq!(
        next_about(&mut events, &id).await,
        ProfileEvent::Created {
            id: id.clone(),
            version: 1
        }
    );
    assert_eq!(
        next_about(&mut events, &id).await,
        ProfileEvent::Updated {
            id: id.clone(),
            version: 2
        }
    );
    assert_eq!(
        next_about(&mut events, &id).await,
        ProfileEvent::Deleted { id, version: 2 }
    );
}

/// The backend pids of this schema's listening connections.
async fn listener_pids(store: &PostgresStore) -> Vec<i32> {
    let channel = format!("patchbay_{}", store.schema());
    sqlx::query_scalar(
        "SELECT pid FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND position($1 in query) > 0",
    )
    .bind(channel)
    .fetch_all(store.pool())
    .await
    .expect("pg_stat_activity")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_listener_resyncs_then_delivers_again() {
    let Some(a) = TestStore::new().await else {
        return;
    };
    let b = replica(&a.store).await;
    let mut events = b
        .watch(&patchbay_core::TenantId::default())
        .await
        .expect("watch");
    let pids = listener_pids(&b).await;
    assert_eq!(pids.len(), 1, "one listening connection: {pids:?}");
    let killed: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
        .bind(pids[0])
        .fetch_one(a.store.pool())
        .await
        .expect("terminate");
    assert!(killed);
    // The feed says it may have missed something, once it listens again…
    assert_eq!(next(&mut events).await, ProfileEvent::Resync);
    let now = listener_pids(&b).await;
    assert_eq!(now.len(), 1, "listening again: {now:?}");
    assert_ne!(now[0], pids[0]);
    // …and then delivers again.
    let p = fixture(&unique("after-kill"), "fake");
    a.store.create(&p).await.expect("create");
    assert_eq!(
        next_about(&mut events, &p.id).await,
        ProfileEvent::Created {
            id: p.id.clone(),
            version: 1
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_writes_from_another_process_arrive_in_order() {
    const WRITES: u64 = 1000;
    let Some(a) = TestStore::new().await else {
        return;
    };
    let psql = tokio::process::Command::new("psql")
        .arg("--version")
        .output()
        .await;
    let Some(_) = patchbay_testkit::net::require(
        "psql",
        "the PostgreSQL client (apt-get install postgresql-client)",
        psql,
    ) else {
        return;
    };
    let p = fixture(&unique("proc"), "fake");
    a.store.create(&p).await.expect("create");
    let mut events = a
        .store
        .watch(&patchbay_core::TenantId::default())
        .await
        .expect("watch");
    // One statement per line: psql commits each on its own.
    let table = format!("\"{}\".profiles", a.store.schema());
    let script: String = (0..WRITES)
        .map(|_| {
            format!(
                "UPDATE {table} SET version = version + 1 WHERE id = '{}';\n",
                p.id
            )
        })
        .collect();
    let mut child = tokio::process::Command::new("psql")
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", &common::url()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("spawn psql");
    {
        use tokio::io::AsyncWriteExt;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(script.as_bytes()).await.expect("write");
    }
    let status = child.wait().await.expect("psql ran");
    assert!(status.success(), "psql failed: {status}");
    for version in 2..=WRITES + 1 {
        assert_eq!(
            next_about(&mut events, &p.id).await,
            ProfileEvent::Updated {
                id: p.id.clone(),
                version
            }
        );
    }
}
