//! The Postgres and MySQL connectors against the local servers, each beside
//! bare sqlx doing the same work in the same run:
//!
//! * test: connector `test` vs bare `connect` + `SELECT version()` + `close`;
//! * tables: connector `tables` autocomplete (limit 100) on the
//!   10,000-table schema vs bare `connect` + the catalog query + `close`.
//!   Postgres: the connector's own statement. MySQL: the obvious single
//!   `information_schema.TABLES` query (what the connector replaced), and
//!   the connector's two statements issued bare.
//!
//! The 10,000-table schemas are created if missing (as the tests do). A
//! server that is not running is skipped. Run:
//! `cargo bench --bench sql_probes -- --noplot`

use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion};
use patchbay_connector_mysql::sqlx::mysql::{MySqlConnectOptions, MySqlConnection, MySqlSslMode};
use patchbay_connector_mysql::MySqlConnector;
use patchbay_connector_postgres::sqlx::postgres::{PgConnectOptions, PgConnection, PgSslMode};
use patchbay_connector_postgres::sqlx::{self, ConnectOptions, Connection, Executor, Row};
use patchbay_connector_postgres::PostgresConnector;
use patchbay_core::{AutocompleteQuery, Connector, ResolvedConfig};
use serde_json::{json, Value};
use tokio::runtime::Runtime;
use tokio::time::Instant;

const BULK: &str = "patchbay_bulk_10k";

fn up(addr: &str) -> bool {
    let ok = std::net::TcpStream::connect(addr).is_ok();
    if !ok {
        eprintln!("SKIPPED: nothing listens on {addr}");
    }
    ok
}

fn group<'a>(c: &'a mut Criterion, name: &str, secs: u64) -> BenchmarkGroup<'a, WallTime> {
    let mut g = c.benchmark_group(name);
    g.warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(secs))
        .sample_size(20);
    g
}

fn deadline() -> Instant {
    Instant::now() + Duration::from_secs(30)
}

fn tables_query() -> AutocompleteQuery {
    AutocompleteQuery {
        kind: "tables".into(),
        parent: Some(BULK.into()),
        prefix: None,
        limit: 100,
    }
}

fn connector_sides(
    g: &mut BenchmarkGroup<'_, WallTime>,
    rt: &Runtime,
    c: &dyn Connector,
    config: Value,
) {
    g.bench_function("connector_test", |b| {
        b.to_async(rt).iter(|| async {
            let report = c
                .test(&ResolvedConfig::new(config.clone()), deadline())
                .await;
            assert!(report.expect("connector test").details.version.is_some());
        })
    });
    g.bench_function("connector_tables_10k", |b| {
        b.to_async(rt).iter(|| async {
            let got = c
                .autocomplete(
                    &ResolvedConfig::new(config.clone()),
                    &tables_query(),
                    deadline(),
                )
                .await
                .expect("connector tables");
            assert_eq!(got.len(), 100);
        })
    });
}

fn pg_options() -> PgConnectOptions {
    PgConnectOptions::new_without_pgpass()
        .host("127.0.0.1")
        .port(5432)
        .username("postgres")
        .database("test")
        .ssl_mode(PgSslMode::Disable)
}

const PG_TABLES: &str = "\
SELECT t.nspname::text, t.relname::text, t.relkind IN ('v', 'm'),
       CASE WHEN t.relkind = 'v' OR t.reltuples < 0 THEN NULL ELSE t.reltuples::int8 END,
       CASE WHEN t.relkind = 'v' THEN NULL ELSE pg_catalog.pg_total_relation_size(t.oid) END
FROM (
  SELECT n.nspname, c.relname, c.relkind, c.reltuples, c.oid
  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
    AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg!_%' ESCAPE '!'
    AND ($1::text IS NULL OR n.nspname = $1::text)
    AND c.relname LIKE $2 ESCAPE '!'
  ORDER BY n.nspname, c.relname LIMIT $3
) t
ORDER BY t.nspname, t.relname";

fn postgres(c: &mut Criterion) {
    if !up("127.0.0.1:5432") {
        return;
    }
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let mut admin = pg_options().connect().await.unwrap();
        admin
            .execute(include_str!(
                "../crates/patchbay-connector-postgres/tests/bulk_10k.sql"
            ))
            .await
            .unwrap();
        admin.close().await.unwrap();
    });
    let config = json!({"host": "127.0.0.1", "database": "test", "username": "postgres", "tls_mode": "disable"});
    let mut g = group(c, "postgres", 4);
    connector_sides(&mut g, &rt, &PostgresConnector, config);
    g.bench_function("bare_connect_version", |b| {
        b.to_async(&rt).iter(|| async {
            let mut conn: PgConnection = pg_options().connect().await.unwrap();
            let v: String = sqlx::query_scalar("SELECT version()")
                .fetch_one(&mut conn)
                .await
                .unwrap();
            assert!(!v.is_empty());
            conn.close().await.unwrap();
        })
    });
    g.bench_function("bare_tables_10k", |b| {
        b.to_async(&rt).iter(|| async {
            let mut conn: PgConnection = pg_options().connect().await.unwrap();
            let rows = sqlx::query(PG_TABLES)
                .bind(BULK)
                .bind("%")
                .bind(100_i64)
                .fetch_all(&mut conn)
                .await
                .unwrap();
            assert_eq!(rows.len(), 100);
            conn.close().await.unwrap();
        })
    });
    g.finish();
}

fn my_options() -> MySqlConnectOptions {
    MySqlConnectOptions::new()
        .host("127.0.0.1")
        .port(3306)
        .username("root")
        .ssl_mode(MySqlSslMode::Disabled)
}

const MY_TABLES_SINGLE: &str = "\
SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE LIKE '%VIEW',
       CAST(TABLE_ROWS AS SIGNED), CAST(DATA_LENGTH + INDEX_LENGTH AS SIGNED)
FROM information_schema.TABLES
WHERE TABLE_NAME LIKE BINARY ? ESCAPE '!' AND TABLE_SCHEMA = ?
ORDER BY BINARY TABLE_SCHEMA, BINARY TABLE_NAME LIMIT ?";

const MY_NAMES: &str = "\
SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES
WHERE TABLE_NAME LIKE BINARY ? ESCAPE '!' AND TABLE_SCHEMA = ?
ORDER BY BINARY TABLE_SCHEMA, BINARY TABLE_NAME LIMIT ?";

async fn ensure_mysql_bulk() {
    let mut admin: MySqlConnection = my_options().connect().await.unwrap();
    admin
        .execute("SELECT GET_LOCK('patchbay_bulk_10k', 600)")
        .await
        .unwrap();
    admin
        .execute("CREATE DATABASE IF NOT EXISTS patchbay_bulk_10k")
        .await
        .unwrap();
    let n: i64 =
        sqlx::query("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?")
            .bind(BULK)
            .fetch_one(&mut admin)
            .await
            .unwrap()
            .get(0);
    if n < 10_000 {
        let sql = include_str!("../crates/patchbay-connector-mysql/tests/bulk_10k.sql");
        let workers: Vec<_> = (1..=8)
            .map(|k| {
                let sql = sql.replace("{K}", &k.to_string());
                tokio::spawn(async move {
                    let mut conn: MySqlConnection = my_options().connect().await.unwrap();
                    conn.execute(sql.as_str()).await.unwrap();
                    conn.close().await.unwrap();
                })
            })
            .collect();
        for w in workers {
            w.await.unwrap();
        }
    }
    admin
        .execute("SELECT RELEASE_LOCK('patchbay_bulk_10k')")
        .await
        .unwrap();
    admin.close().await.unwrap();
}

fn mysql(c: &mut Criterion) {
    if !up("127.0.0.1:3306") {
        return;
    }
    let rt = Runtime::new().unwrap();
    rt.block_on(ensure_mysql_bulk());
    let config = json!({"host": "127.0.0.1", "username": "root", "tls_mode": "disable"});
    let mut g = group(c, "mysql", 4);
    connector_sides(&mut g, &rt, &MySqlConnector, config);
    g.bench_function("bare_connect_version", |b| {
        b.to_async(&rt).iter(|| async {
            let mut conn: MySqlConnection = my_options().connect().await.unwrap();
            let v: String = sqlx::query_scalar("SELECT version()")
                .fetch_one(&mut conn)
                .await
                .unwrap();
            assert!(!v.is_empty());
            conn.close().await.unwrap();
        })
    });
    g.bench_function("bare_tables_10k_two_statements", |b| {
        b.to_async(&rt).iter(|| async {
            let mut conn: MySqlConnection = my_options().connect().await.unwrap();
            let names = sqlx::query(MY_NAMES)
                .bind("%")
                .bind(BULK)
                .bind(100_i64)
                .fetch_all(&mut conn)
                .await
                .unwrap();
            let list = vec!["?"; names.len()].join(",");
            let sql = format!(
                "SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE LIKE '%VIEW', CAST(TABLE_ROWS AS SIGNED), \
                 CAST(DATA_LENGTH + INDEX_LENGTH AS SIGNED) FROM information_schema.TABLES \
                 WHERE TABLE_SCHEMA IN (?) AND TABLE_NAME IN ({list})"
            );
            let mut q = sqlx::query(&sql).bind(BULK);
            for r in &names {
                q = q.bind(r.get::<String, _>(1));
            }
            assert_eq!(q.fetch_all(&mut conn).await.unwrap().len(), 100);
            conn.close().await.unwrap();
        })
    });
    g.finish();
    // 1.5 s a call: few samples, on its own.
    let mut g = c.benchmark_group("mysql_single_statement");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(15));
    g.bench_function("bare_tables_10k_single_statement", |b| {
        b.to_async(&rt).iter(|| async {
            let mut conn: MySqlConnection = my_options().connect().await.unwrap();
            let rows = sqlx::query(MY_TABLES_SINGLE)
                .bind("%")
                .bind(BULK)
                .bind(100_i64)
                .fetch_all(&mut conn)
                .await
                .unwrap();
            assert_eq!(rows.len(), 100);
            conn.close().await.unwrap();
        })
    });
    g.finish();
}

criterion_group!(benches, postgres, mysql);
criterion_main!(benches);
