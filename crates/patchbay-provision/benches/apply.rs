//! Applying a 10,000-profile provisioning file vs 10,000 creates through the
//! service (the same validation and sealing, no file), and a second, no-op
//! apply of the same file. Memory store (criterion and `PAIRED`), and SQLite
//! (`PAIRED` only, 3 rounds: each create is a synced transaction). Figures:
//! benches/README.md.
//! `cargo bench -p patchbay-provision --bench apply -- --noplot`
//!
//! Criterion measures each case in turn; on a shared machine the load moves
//! between them, so the bench ends with `PAIRED` lines: alternating rounds
//! (creates first, then apply first, …), each round timing the three cases
//! back to back, and the median of the per-round ratios (the figures quoted).

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use patchbay_connector_postgres::PostgresConnector;
use patchbay_core::{NewProfile, ProfileRepository, ProfileService};
use patchbay_provision::{apply, ApplyOptions, Entry, ProvisionFile};
use patchbay_store_memory::MemoryStore;
use patchbay_store_sqlite::SqliteStore;
use serde_json::json;
use tokio::runtime::Runtime;

const N: usize = 10_000;
const ROUNDS: usize = 9;

fn service() -> ProfileService {
    over(Arc::new(MemoryStore::new()))
}

fn over(repo: Arc<dyn ProfileRepository>) -> ProfileService {
    ProfileService::builder(repo)
        .connector(PostgresConnector)
        .build()
        .expect("service")
}

/// A service over a new SQLite file (the server example's store, its
/// defaults: WAL, `synchronous = FULL`) in `dir`.
fn sqlite(rt: &Runtime, dir: &tempfile::TempDir, name: &str) -> ProfileService {
    let url = format!("sqlite://{}", dir.path().join(name).display());
    let store = rt.block_on(SqliteStore::open(&url)).expect("sqlite");
    over(Arc::new(store))
}

fn config(i: usize) -> serde_json::Value {
    json!({"host": format!("db{i}.internal"), "port": 5432, "database": "app",
           "username": "app", "password": format!("secret-{i}"), "tls_mode": "require"})
}

fn file() -> ProvisionFile {
    let profiles: Vec<Entry> = (0..N)
        .map(|i| Entry {
            name: format!("profile-{i:05}"),
            connector: Some("postgres".into()),
            config: Some(config(i)),
            ..Entry::default()
        })
        .collect();
    ProvisionFile {
        lines: vec![None; profiles.len()],
        profiles,
    }
}

fn options() -> ApplyOptions {
    ApplyOptions {
        source: "file:bench.yaml".into(),
        prune: false,
    }
}

/// 10,000 creates into a fresh store; the inputs are built before the clock
/// starts (the apply side builds its own from the file: part of its work).
fn creates(rt: &Runtime, svc: &ProfileService) -> Duration {
    let news: Vec<NewProfile> = (0..N)
        .map(|i| NewProfile {
            name: format!("profile-{i:05}"),
            connector: "postgres".into(),
            description: None,
            config: config(i),
            labels: Default::default(),
        })
        .collect();
    let start = Instant::now();
    rt.block_on(async {
        for new in news {
            black_box(svc.create(new).await.unwrap());
        }
    });
    start.elapsed()
}

/// The first apply, into an empty store.
fn apply_first(rt: &Runtime, svc: &ProfileService, file: &ProvisionFile) -> Duration {
    let start = Instant::now();
    let r = rt.block_on(apply(svc, file, &options())).unwrap();
    let took = start.elapsed();
    assert_eq!(r.created.len(), N);
    took
}

fn apply_noop(rt: &Runtime, svc: &ProfileService, file: &ProvisionFile) -> Duration {
    let start = Instant::now();
    let r = rt.block_on(apply(svc, file, &options())).unwrap();
    let took = start.elapsed();
    assert_eq!(r.unchanged.len(), N);
    assert!(r.is_noop());
    took
}

fn bench(c: &mut Criterion) {
    let rt = Runtime::new().unwrap();
    let file = file();
    let mut g = c.benchmark_group("provision_10k");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.bench_function("creates_through_service", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| creates(&rt, &service())).sum())
    });
    g.bench_function("apply_first", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| apply_first(&rt, &service(), &file))
                .sum()
        })
    });
    let applied = service();
    apply_first(&rt, &applied, &file);
    g.bench_function("apply_again_noop", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| apply_noop(&rt, &applied, &file)).sum())
    });
    g.finish();
    drop(applied);
    paired(&rt, &file);
}

/// Alternating rounds; prints medians and the median per-round ratios.
fn paired(rt: &Runtime, file: &ProvisionFile) {
    rounds("memory", ROUNDS, file, || (service(), service()), rt);
    // Durable: what `server apply` does on its default store. Fewer rounds:
    // each create is a synced transaction.
    let dir = tempfile::tempdir().unwrap();
    let mut n = 0;
    let mut fresh = || {
        n += 1;
        let a = sqlite(rt, &dir, &format!("c{n}.db"));
        (a, sqlite(rt, &dir, &format!("a{n}.db")))
    };
    rounds("sqlite", 3, file, &mut fresh, rt);
}

/// `rounds` alternating rounds, each on fresh services from `fresh` (one for
/// the creates, one for the applies).
fn rounds(
    store: &str,
    rounds: usize,
    file: &ProvisionFile,
    mut fresh: impl FnMut() -> (ProfileService, ProfileService),
    rt: &Runtime,
) {
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let (mut c, mut a, mut n) = (Vec::new(), Vec::new(), Vec::new());
    let (mut first_ratio, mut noop_ratio) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let (for_creates, svc) = fresh();
        let (tc, ta) = if round % 2 == 0 {
            let tc = creates(rt, &for_creates);
            (tc, apply_first(rt, &svc, file))
        } else {
            let ta = apply_first(rt, &svc, file);
            (creates(rt, &for_creates), ta)
        };
        let tn = apply_noop(rt, &svc, file);
        drop((for_creates, svc));
        first_ratio.push(ms(ta) / ms(tc));
        noop_ratio.push(ms(tn) / ms(ta));
        c.push(ms(tc));
        a.push(ms(ta));
        n.push(ms(tn));
    }
    println!(
        "PAIRED {store} apply_first: creates {:.1} ms, apply {:.1} ms, ratio {:.2}x (median of {rounds} alternating rounds of {N})",
        median(c),
        median(a.clone()),
        median(first_ratio)
    );
    println!(
        "PAIRED {store} apply_noop: first apply {:.1} ms, no-op apply {:.1} ms, ratio {:.2}x (median of {rounds} rounds)",
        median(a),
        median(n),
        median(noop_ratio)
    );
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

criterion_group!(benches, bench);
criterion_main!(benches);
