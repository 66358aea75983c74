//! SQLite: the store beside bare sqlx on the store's own pool.

use criterion::{BenchmarkId, Criterion};
use patchbay_core::repository::encode_cursor;
use patchbay_core::{ListQuery, ProfileRepository};
use patchbay_store_sqlite::SqliteStore;
use patchbay_testkit::repository::{fixture, unique};
use sqlx::Row;

use crate::{middle_cursor, pseudo_random, runtime, seeded_id, COLS, CONFIG, SECRETS, SIZES};

async fn seeded(dir: &std::path::Path, n: usize) -> SqliteStore {
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

pub(crate) fn bench(c: &mut Criterion) {
    let rt = runtime();
    let dir = tempfile::tempdir().expect("dir");
    let stores: Vec<SqliteStore> = SIZES
        .iter()
        .map(|&n| rt.block_on(seeded(dir.path(), n)))
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
