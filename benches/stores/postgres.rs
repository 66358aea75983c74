//! Postgres: the store beside bare sqlx on the store's own pool, one schema
//! per table size (`pbbench_<rows>`, dropped at the end).

use std::time::Duration;

use criterion::{BenchmarkId, Criterion};
use patchbay_core::repository::encode_cursor;
use patchbay_core::{ListQuery, ProfileRepository, TenantId};
use patchbay_store_postgres::PostgresStore;
use patchbay_testkit::repository::{fixture, unique};
use sqlx::Row;

use patchbay_core::time::OffsetDateTime;
use sqlx::types::Json;

use crate::{
    middle_cursor, paired, pseudo_random, runtime, seeded_id, timed, COLS, CONFIG, SECRETS, SIZES,
};

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
/// 100,000 profiles in 100 tenants, every other one labelled `env=prod`.
async fn seeded_tenants(url: &str) -> Option<PostgresStore> {
    use crate::tenancy::{PER_TENANT, TENANTS};
    let schema = "pbbench_tenants";
    let pool = sqlx::PgPool::connect(url).await.ok()?;
    sqlx::raw_sql(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .execute(&pool)
        .await
        .ok()?;
    pool.close().await;
    let store = PostgresStore::connect(url, schema).await.expect("connect");
    let sql = format!(
        "INSERT INTO {schema}.profiles (id, tenant, name, name_key, connector, description, config, labels, secrets, created_at, updated_at, version) \
         SELECT 'prof_' || lpad(to_hex(i), 32, '0'), 't' || lpad((i % {TENANTS})::text, 2, '0'), \
         'bench-' || lpad(i::text, 6, '0'), 'bench-' || lpad(i::text, 6, '0'), 'fake', NULL, '{CONFIG}'::jsonb, \
         CASE WHEN (i / {TENANTS}) % 2 = 0 THEN '{{\"env\":\"prod\"}}'::jsonb ELSE '{{\"env\":\"dev\"}}'::jsonb END, \
         '{SECRETS}'::jsonb, now(), now(), 1 FROM generate_series(0, $1 - 1) AS i"
    );
    sqlx::query(&sql)
        .bind((TENANTS * PER_TENANT) as i64)
        .execute(store.pool())
        .await
        .expect("seed postgres tenants");
    sqlx::raw_sql(&format!("VACUUM ANALYZE {schema}.profiles"))
        .execute(store.pool())
        .await
        .expect("analyze");
    Some(store)
}

async fn store_create(store: &PostgresStore) {
    store
        .create(&fixture(&unique("c"), "fake"))
        .await
        .expect("create");
}

async fn bare_create(store: &PostgresStore) {
    let p = fixture(&unique("c"), "fake");
    let sql = format!(
        "INSERT INTO {}.profiles (id, name, name_key, connector, description, config, secrets, \
         created_at, updated_at, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        store.schema()
    );
    sqlx::query(&sql)
        .bind(p.id.as_str())
        .bind(&p.name)
        .bind(p.name.to_ascii_lowercase())
        .bind(&p.connector)
        .bind(&p.description)
        .bind(Json(&p.config))
        .bind(Json(&p.secrets.0))
        .bind(p.created_at)
        .bind(p.updated_at)
        .bind(1_i64)
        .execute(store.pool())
        .await
        .expect("insert");
}

async fn store_get(store: &PostgresStore, i: u64) {
    store
        .get(&TenantId::default(), &seeded_id(pseudo_random(i, 10_000)))
        .await
        .expect("get");
}

async fn bare_get(store: &PostgresStore, i: u64) {
    let sql = format!(
        "SELECT {COLS} FROM {}.profiles WHERE id = $1",
        store.schema()
    );
    let id = seeded_id(pseudo_random(i, 10_000));
    let row = sqlx::query(&sql)
        .bind(id.as_str())
        .fetch_one(store.pool())
        .await
        .expect("select");
    read_row(&row);
}

async fn store_list(store: &PostgresStore, n: usize) {
    let query = ListQuery {
        after: Some(encode_cursor(&TenantId::default(), &middle_cursor(n))),
        limit: 100,
        ..ListQuery::default()
    };
    assert_eq!(
        store
            .list(&TenantId::default(), &query)
            .await
            .expect("list")
            .items
            .len(),
        100
    );
}

async fn bare_list(store: &PostgresStore, n: usize) {
    let sql = format!(
        "SELECT {COLS} FROM {}.profiles WHERE tenant = 'default' AND name_key > $1 \
         ORDER BY name_key LIMIT $2",
        store.schema()
    );
    let rows = sqlx::query(&sql)
        .bind(middle_cursor(n))
        .bind(101_i64)
        .fetch_all(store.pool())
        .await
        .expect("list");
    assert_eq!(rows.iter().take(100).map(read_row).count(), 100);
}

/// Reads every column into owned values, as the store does (without
/// building a `Profile`).
fn read_row(row: &sqlx::postgres::PgRow) -> usize {
    let mut n = 0;
    for col in ["id", "name", "connector"] {
        n += row.get::<String, _>(col).len();
    }
    let config: Json<serde_json::Map<String, serde_json::Value>> = row.get("config");
    let secrets: Json<std::collections::BTreeMap<String, String>> = row.get("secrets");
    let at: OffsetDateTime = row.get("created_at");
    let up: OffsetDateTime = row.get("updated_at");
    n + config.0.len()
        + secrets.0.len()
        + row
            .get::<Option<String>, _>("description")
            .map_or(0, |d| d.len())
        + usize::from(at < up)
        + row.get::<i64, _>("version") as usize
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
    crate::tenancy::audit_cost(&rt, "postgres", store);
    if let Some(labelled) = rt.block_on(seeded_tenants(&url)) {
        crate::tenancy::label_filter_cost(&rt, "postgres", &labelled);
    }

    let mut g = c.benchmark_group("postgres/create");
    g.bench_function("store", |b| b.to_async(&rt).iter(|| store_create(store)));
    g.bench_function("bare_sqlx", |b| b.to_async(&rt).iter(|| bare_create(store)));
    g.finish();

    let mut g = c.benchmark_group("postgres/get");
    g.bench_function("store", |b| {
        b.to_async(&rt)
            .iter_custom(|n| timed(n, |i| store_get(store, i)))
    });
    g.bench_function("bare_sqlx", |b| {
        b.to_async(&rt)
            .iter_custom(|n| timed(n, |i| bare_get(store, i)))
    });
    g.finish();

    let mut g = c.benchmark_group("postgres/list_100");
    for (n, s) in SIZES.iter().zip(&stores) {
        g.bench_with_input(BenchmarkId::new("store", n), n, |b, &n| {
            b.to_async(&rt).iter(|| store_list(s, n))
        });
        g.bench_with_input(BenchmarkId::new("bare_sqlx", n), n, |b, &n| {
            b.to_async(&rt).iter(|| bare_list(s, n))
        });
    }
    g.finish();

    paired(
        &rt,
        "postgres create",
        20,
        |_| store_create(store),
        |_| bare_create(store),
    );
    paired(
        &rt,
        "postgres get",
        100,
        |i| store_get(store, i),
        |i| bare_get(store, i),
    );
    paired(
        &rt,
        "postgres list 100 of 10k",
        20,
        |_| store_list(store, 10_000),
        |_| bare_list(store, 10_000),
    );
    let (small, large) = (&stores[0], &stores[2]);
    paired(
        &rt,
        "postgres list 100k ÷ 1k (store)",
        20,
        |_| store_list(large, 100_000),
        |_| store_list(small, 1_000),
    );
    rt.block_on(async {
        for s in &stores {
            let sql = format!("DROP SCHEMA IF EXISTS {} CASCADE", s.schema());
            let _ = sqlx::raw_sql(&sql).execute(s.pool()).await;
            s.close().await;
        }
    });
}
