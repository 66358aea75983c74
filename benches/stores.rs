//! Durable stores beside bare sqlx, on the same database in the same run.
//!
//! For SQLite and Postgres: create, get by id, and a keyset page of 100 out
//! of 10,000 profiles, each next to a baseline running the equivalent
//! statement through the same sqlx pool (same pragmas, same connections);
//! and the same page at 1,000 and 100,000 rows, to show that a page's cost
//! does not grow with the table. Postgres is skipped (with a message) when
//! unreachable; set PATCHBAY_TEST_POSTGRES_URL to point elsewhere.
//!
//! Run: `cargo bench --bench stores -- --noplot`

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use patchbay_core::repository::encode_cursor;
use patchbay_core::{ListQuery, ProfileId, ProfileRepository};
use patchbay_store_postgres::PostgresStore;
use patchbay_store_sqlite::SqliteStore;
use patchbay_testkit::repository::{fixture, unique};
use sqlx::Row;
use tokio::runtime::Runtime;

const SIZES: [usize; 3] = [1_000, 10_000, 100_000];
const CONFIG: &str = r#"{"host":"db.internal","port":5432,"nested":{"a":[1,2]}}"#;
const SECRETS: &str = r#"{"password":"pbs1.test.c2VhbGVk"}"#;
const COLS: &str =
    "id, name, connector, description, config, secrets, created_at, updated_at, version";

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime")
}

/// The id of the `i`-th seeded profile (names are `bench-000001`…).
fn seeded_id(i: usize) -> ProfileId {
    ProfileId::parse(&format!("prof_{i:032x}")).expect("id")
}

/// A cursor in the middle of the seeded names.
fn middle_cursor(n: usize) -> String {
    format!("bench-{:06}", n / 2)
}

fn pseudo_random(i: u64, n: usize) -> usize {
    (i.wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407)
        >> 33) as usize
        % n
        + 1
}

async fn sqlite_seeded(dir: &std::path::Path, n: usize) -> SqliteStore {
    let url = format!("sqlite://{}", dir.join(format!("bench-{n}.db")).display());
    let store = SqliteStore::open(&url).await.expect("open sqlite");
    let sql = format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) \
         INSERT INTO profiles (id, name, name_key, connector, description, config, secrets, created_at, updated_at, version) \
         SELECT printf('prof_%032x', i), printf('bench-%06d', i), printf('bench-%06d', i), 'fake', NULL, \
         '{CONFIG}', '{SECRETS}', 1764000000000000, 1764000000000000, 1 FROM n"
    );
    sqlx::query(&sql)
        .bind(n as i64)
        .execute(store.pool())
        .await
        .expect("seed sqlite");
    sqlx::query("ANALYZE")
        .execute(store.pool())
        .await
        .expect("analyze");
    store
}

async fn postgres_seeded(url: &str, n: usize) -> Option<PostgresStore> {
    let schema = format!("pbbench_{n}");
    let connect = tokio::time::timeout(Duration::from_secs(5), async {
        let pool = sqlx::PgPool::connect(url).await?;
        sqlx::raw_sql(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
            .execute(&pool)
            .await?;
        pool.close().await;
        Ok::<_, sqlx::Error>(())
    })
    .await;
    if !matches!(connect, Ok(Ok(()))) {
        eprintln!("SKIPPED postgres benches: {url} unreachable");
        return None;
    }
    let store = PostgresStore::connect(url, &schema)
        .await
        .expect("connect postgres");
    let sql = format!(
        "INSERT INTO {schema}.profiles (id, name, name_key, connector, description, config, secrets, created_at, updated_at, version) \
         SELECT 'prof_' || lpad(to_hex(i), 32, '0'), 'bench-' || lpad(i::text, 6, '0'), 'bench-' || lpad(i::text, 6, '0'), \
         'fake', NULL, '{CONFIG}'::jsonb, '{SECRETS}'::jsonb, now(), now(), 1 FROM generate_series(1, $1) AS i"
    );
    sqlx::query(&sql)
        .bind(n as i64)
        .execute(store.pool())
        .await
        .expect("seed postgres");
    sqlx::raw_sql(&format!("VACUUM ANALYZE {schema}.profiles"))
        .execute(store.pool())
        .await
        .expect("analyze");
    Some(store)
}

fn sqlite(c: &mut Criterion) {
    let rt = runtime();
    let dir = tempfile::tempdir().expect("dir");
    let stores: Vec<SqliteStore> = SIZES
        .iter()
        .map(|&n| rt.block_on(sqlite_seeded(dir.path(), n)))
        .collect();
    let store = &stores[1];
    let pool = store.pool();
    let mut g = c.benchmark_group("sqlite/create");
    g.bench_function("store", |b| {
        b.to_async(&rt).iter(|| async {
            store
                .create(&fixture(&unique("c"), "fake"))
                .await
                .expect("create")
        })
    });
    g.bench_function("bare_sqlx", |b| b.to_async(&rt).iter(|| async {
        let p = fixture(&unique("c"), "fake");
        let us = (p.created_at.unix_timestamp_nanos() / 1000) as i64;
        sqlx::query("INSERT INTO profiles (id, name, name_key, connector, description, config, secrets, created_at, updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
            .bind(p.id.as_str()).bind(&p.name).bind(p.name.to_ascii_lowercase()).bind(&p.connector)
            .bind(&p.description).bind(serde_json::Value::Object(p.config.clone()).to_string())
            .bind(serde_json::to_string(&p.secrets.0).expect("json")).bind(us).bind(us).bind(1_i64)
            .execute(pool).await.expect("insert");
    }));
    g.finish();

    let mut g = c.benchmark_group("sqlite/get");
    let mut i = 0_u64;
    g.bench_function("store", |b| {
        b.to_async(&rt).iter(|| {
            i += 1;
            let id = seeded_id(pseudo_random(i, 10_000));
            async move { store.get(&id).await.expect("get") }
        })
    });
    let select = format!("SELECT {COLS} FROM profiles WHERE id = ?");
    g.bench_function("bare_sqlx", |b| {
        b.to_async(&rt).iter(|| {
            i += 1;
            let id = seeded_id(pseudo_random(i, 10_000));
            let select = &select;
            async move {
                let row = sqlx::query(select)
                    .bind(id.as_str())
                    .fetch_one(pool)
                    .await
                    .expect("select");
                read_sqlite_row(&row)
            }
        })
    });
    g.finish();

    let list_sql = format!(
        "SELECT {COLS} FROM profiles WHERE 1 = 1 AND name_key > ? ORDER BY name_key LIMIT ?"
    );
    let mut g = c.benchmark_group("sqlite/list_100");
    for (n, store) in SIZES.iter().zip(&stores) {
        let query = ListQuery {
            after: Some(encode_cursor(&middle_cursor(*n))),
            limit: 100,
            ..ListQuery::default()
        };
        g.bench_with_input(BenchmarkId::new("store", n), &query, |b, q| {
            b.to_async(&rt)
                .iter(|| async { assert_eq!(store.list(q).await.expect("list").items.len(), 100) })
        });
        let (cursor, list_sql) = (middle_cursor(*n), &list_sql);
        g.bench_with_input(BenchmarkId::new("bare_sqlx", n), &cursor, |b, cur| {
            b.to_async(&rt).iter(|| async {
                let rows = sqlx::query(list_sql)
                    .bind(cur)
                    .bind(101_i64)
                    .fetch_all(store.pool())
                    .await
                    .expect("list");
                rows.iter().take(100).map(read_sqlite_row).count()
            })
        });
    }
    g.finish();
    for s in &stores {
        rt.block_on(s.close());
    }
}

/// Reads every column into owned values, parsing the JSON ones, as the
/// store does (without building a `Profile`).
fn read_sqlite_row(row: &sqlx::sqlite::SqliteRow) -> usize {
    let mut n = 0;
    for col in ["id", "name", "connector"] {
        n += row.get::<String, _>(col).len();
    }
    let config: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(row.get::<&str, _>("config")).expect("config");
    let secrets: std::collections::BTreeMap<String, String> =
        serde_json::from_str(row.get::<&str, _>("secrets")).expect("secrets");
    n + config.len()
        + secrets.len()
        + row
            .get::<Option<String>, _>("description")
            .map_or(0, |d| d.len())
        + (row.get::<i64, _>("created_at")
            + row.get::<i64, _>("updated_at")
            + row.get::<i64, _>("version")) as usize
            % 2
}

fn postgres(c: &mut Criterion) {
    let rt = runtime();
    let url = std::env::var("PATCHBAY_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let mut stores = Vec::new();
    for n in SIZES {
        match rt.block_on(postgres_seeded(&url, n)) {
            Some(s) => stores.push(s),
            None => return,
        }
    }
    let store = &stores[1];
    let (pool, schema) = (store.pool(), store.schema().to_owned());
    let mut g = c.benchmark_group("postgres/create");
    g.bench_function("store", |b| {
        b.to_async(&rt).iter(|| async {
            store
                .create(&fixture(&unique("c"), "fake"))
                .await
                .expect("create")
        })
    });
    let insert = format!("INSERT INTO {schema}.profiles (id, name, name_key, connector, description, config, secrets, created_at, updated_at, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)");
    g.bench_function("bare_sqlx", |b| {
        b.to_async(&rt).iter(|| async {
            let p = fixture(&unique("c"), "fake");
            sqlx::query(&insert)
                .bind(p.id.as_str())
                .bind(&p.name)
                .bind(p.name.to_ascii_lowercase())
                .bind(&p.connector)
                .bind(&p.description)
                .bind(sqlx::types::Json(&p.config))
                .bind(sqlx::types::Json(&p.secrets.0))
                .bind(p.created_at)
                .bind(p.updated_at)
                .bind(1_i64)
                .execute(pool)
                .await
                .expect("insert");
        })
    });
    g.finish();

    let mut g = c.benchmark_group("postgres/get");
    let mut i = 0_u64;
    g.bench_function("store", |b| {
        b.to_async(&rt).iter(|| {
            i += 1;
            let id = seeded_id(pseudo_random(i, 10_000));
            async move { store.get(&id).await.expect("get") }
        })
    });
    let select = format!("SELECT {COLS} FROM {schema}.profiles WHERE id = $1");
    g.bench_function("bare_sqlx", |b| {
        b.to_async(&rt).iter(|| {
            i += 1;
            let id = seeded_id(pseudo_random(i, 10_000));
            let select = &select;
            async move {
                let row = sqlx::query(select)
                    .bind(id.as_str())
                    .fetch_one(pool)
                    .await
                    .expect("select");
                read_pg_row(&row)
            }
        })
    });
    g.finish();

    let mut g = c.benchmark_group("postgres/list_100");
    for (n, store) in SIZES.iter().zip(&stores) {
        let query = ListQuery {
            after: Some(encode_cursor(&middle_cursor(*n))),
            limit: 100,
            ..ListQuery::default()
        };
        g.bench_with_input(BenchmarkId::new("store", n), &query, |b, q| {
            b.to_async(&rt)
                .iter(|| async { assert_eq!(store.list(q).await.expect("list").items.len(), 100) })
        });
        let list_sql = format!("SELECT {COLS} FROM {}.profiles WHERE true AND name_key > $1 ORDER BY name_key LIMIT $2", store.schema());
        let cursor = middle_cursor(*n);
        g.bench_with_input(BenchmarkId::new("bare_sqlx", n), &cursor, |b, cur| {
            b.to_async(&rt).iter(|| async {
                let rows = sqlx::query(&list_sql)
                    .bind(cur)
                    .bind(101_i64)
                    .fetch_all(store.pool())
                    .await
                    .expect("list");
                rows.iter().take(100).map(read_pg_row).count()
            })
        });
    }
    g.finish();
    rt.block_on(async {
        for s in &stores {
            let _ = sqlx::raw_sql(&format!("DROP SCHEMA IF EXISTS {} CASCADE", s.schema()))
                .execute(s.pool())
                .await;
            s.close().await;
        }
    });
}

/// Reads every column into owned values, as the store does.
fn read_pg_row(row: &sqlx::postgres::PgRow) -> usize {
    let mut n = 0;
    for col in ["id", "name", "connector"] {
        n += row.get::<String, _>(col).len();
    }
    let config: sqlx::types::Json<serde_json::Map<String, serde_json::Value>> = row.get("config");
    let secrets: sqlx::types::Json<std::collections::BTreeMap<String, String>> = row.get("secrets");
    let at: patchbay_core::time::OffsetDateTime = row.get("created_at");
    let up: patchbay_core::time::OffsetDateTime = row.get("updated_at");
    n + config.0.len()
        + secrets.0.len()
        + row
            .get::<Option<String>, _>("description")
            .map_or(0, |d| d.len())
        + (at < up) as usize
        + row.get::<i64, _>("version") as usize
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30)
}

criterion_group! { name = benches; config = config(); targets = sqlite, postgres }
criterion_main!(benches);
