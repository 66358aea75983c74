//! SQLite: the store beside bare sqlx on the store's own pool.

use criterion::{BenchmarkId, Criterion};
use patchbay_core::repository::encode_cursor;
use patchbay_core::{ListQuery, ProfileRepository, TenantId};
use patchbay_store_sqlite::SqliteStore;
use patchbay_testkit::repository::{fixture, unique};
use sqlx::Row;

use sqlx::SqlitePool;

use crate::{
    middle_cursor, paired, pseudo_random, runtime, seeded_id, timed, COLS, CONFIG, SECRETS, SIZES,
};

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

const INSERT: &str =
    "INSERT INTO profiles (id, name, name_key, connector, description, config, secrets, \
    created_at, updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

async fn store_create(store: &SqliteStore) {
    store
        .create(&fixture(&unique("c"), "fake"))
        .await
        .expect("create");
}

async fn bare_create(pool: &SqlitePool) {
    let p = fixture(&unique("c"), "fake");
    let us = (p.created_at.unix_timestamp_nanos() / 1000) as i64;
    sqlx::query(INSERT)
        .bind(p.id.as_str())
        .bind(&p.name)
        .bind(p.name.to_ascii_lowercase())
        .bind(&p.connector)
        .bind(&p.description)
        .bind(serde_json::Value::Object(p.config.clone()).to_string())
        .bind(serde_json::to_string(&p.secrets.0).expect("json"))
        .bind(us)
        .bind(us)
        .bind(1_i64)
        .execute(pool)
        .await
        .expect("insert");
}

async fn store_get(store: &SqliteStore, i: u64) {
    store
        .get(&TenantId::default(), &seeded_id(pseudo_random(i, 10_000)))
        .await
        .expect("get");
}

async fn bare_get(pool: &SqlitePool, i: u64) {
    let sql = format!("SELECT {COLS} FROM profiles WHERE id = ?");
    let id = seeded_id(pseudo_random(i, 10_000));
    let row = sqlx::query(&sql)
        .bind(id.as_str())
        .fetch_one(pool)
        .await
        .expect("select");
    read_row(&row);
}

async fn store_list(store: &SqliteStore, n: usize) {
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

async fn bare_list(pool: &SqlitePool, n: usize) {
    let sql = format!(
        "SELECT {COLS} FROM profiles WHERE tenant = 'default' AND name_key > ? \
         ORDER BY name_key LIMIT ?"
    );
    let rows = sqlx::query(&sql)
        .bind(middle_cursor(n))
        .bind(101_i64)
        .fetch_all(pool)
        .await
        .expect("list");
    assert_eq!(rows.iter().take(100).map(read_row).count(), 100);
}

/// Reads every column into owned values, parsing the JSON ones, as the
/// store does (without building a `Profile`).
fn read_row(row: &sqlx::sqlite::SqliteRow) -> usize {
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

pub(crate) fn bench(c: &mut Criterion) {
    let rt = runtime();
    let dir = tempfile::tempdir().expect("dir");
    let stores: Vec<SqliteStore> = SIZES
        .iter()
        .map(|&n| rt.block_on(seeded(dir.path(), n)))
        .collect();
    let (store, pool) = (&stores[1], stores[1].pool());

    let mut g = c.benchmark_group("sqlite/create");
    g.bench_function("store", |b| b.to_async(&rt).iter(|| store_create(store)));
    g.bench_function("bare_sqlx", |b| b.to_async(&rt).iter(|| bare_create(pool)));
    g.finish();

    let mut g = c.benchmark_group("sqlite/get");
    g.bench_function("store", |b| {
        b.to_async(&rt)
            .iter_custom(|n| timed(n, |i| store_get(store, i)))
    });
    g.bench_function("bare_sqlx", |b| {
        b.to_async(&rt)
            .iter_custom(|n| timed(n, |i| bare_get(pool, i)))
    });
    g.finish();

    let mut g = c.benchmark_group("sqlite/list_100");
    for (n, s) in SIZES.iter().zip(&stores) {
        g.bench_with_input(BenchmarkId::new("store", n), n, |b, &n| {
            b.to_async(&rt).iter(|| store_list(s, n))
        });
        g.bench_with_input(BenchmarkId::new("bare_sqlx", n), n, |b, &n| {
            b.to_async(&rt).iter(|| bare_list(s.pool(), n))
        });
    }
    g.finish();

    paired(
        &rt,
        "sqlite create",
        20,
        |_| store_create(store),
        |_| bare_create(pool),
    );
    paired(
        &rt,
        "sqlite get",
        200,
        |i| store_get(store, i),
        |i| bare_get(pool, i),
    );
    paired(
        &rt,
        "sqlite list 100 of 10k",
        20,
        |_| store_list(store, 10_000),
        |_| bare_list(pool, 10_000),
    );
    let (small, large) = (&stores[0], &stores[2]);
    paired(
        &rt,
        "sqlite list 100k ÷ 1k (store)",
        20,
        |_| store_list(large, 100_000),
        |_| store_list(small, 1_000),
    );
    crate::tenancy::audit_cost(&rt, "sqlite", store);
    let labelled = rt.block_on(seeded_tenants(dir.path()));
    crate::tenancy::label_filter_cost(&rt, "sqlite", &labelled);
    rt.block_on(labelled.close());
    for s in &stores {
        rt.block_on(s.close());
    }
}

/// 100,000 profiles in 100 tenants, every other one labelled `env=prod`
/// (the rest `env=dev`), through the store's own triggers.
async fn seeded_tenants(dir: &std::path::Path) -> SqliteStore {
    use crate::tenancy::{PER_TENANT, TENANTS};
    let url = format!("sqlite://{}", dir.join("bench-tenants.db").display());
    let store = SqliteStore::open(&url).await.expect("open sqlite");
    let sql = format!(
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ? - 1) \
         INSERT INTO profiles (id, tenant, name, name_key, connector, description, config, labels, secrets, created_at, updated_at, version) \
         SELECT printf('prof_%032x', i), printf('t%02d', i % {TENANTS}), printf('bench-%06d', i), printf('bench-%06d', i), 'fake', NULL, \
         '{CONFIG}', CASE WHEN (i / {TENANTS}) % 2 = 0 THEN '{{\"env\":\"prod\"}}' ELSE '{{\"env\":\"dev\"}}' END, \
         '{SECRETS}', 1764000000000000, 1764000000000000, 1 FROM n"
    );
    sqlx::query(&sql)
        .bind((TENANTS * PER_TENANT) as i64)
        .execute(store.pool())
        .await
        .expect("seed sqlite tenants");
    sqlx::query("ANALYZE")
        .execute(store.pool())
        .await
        .expect("analyze");
    store
}
