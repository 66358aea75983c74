//! Postgres: the store beside bare sqlx on the store's own pool, one schema
//! per table size (`pbbench_<rows>`, dropped at the end).

use std::time::Duration;

use criterion::{BenchmarkId, Criterion};
use patchbay_core::repository::encode_cursor;
use patchbay_core::{ListQuery, ProfileRepository};
use patchbay_store_postgres::PostgresStore;
use patchbay_testkit::repository::{fixture, unique};
use sqlx::Row;

use crate::{middle_cursor, pseudo_random, runtime, seeded_id, COLS, CONFIG, SECRETS, SIZES};

async fn seeded(url: &str, n: usize) -> Option<PostgresStore> {
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

pub(crate) fn bench(c: &mut Criterion) {
    let rt = runtime();
    let url = std::env::var("PATCHBAY_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let mut stores = Vec::new();
    for n in SIZES {
        match rt.block_on(seeded(&url, n)) {
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
