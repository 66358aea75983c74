//! Applying a 10,000-profile provisioning file vs 10,000 creates through the
//! service (the same validation and sealing, no file), and a second, no-op
//! apply of the same file. Memory store. Figures: benches/README.md.
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
use patchbay_core::{NewProfile, ProfileService};
use patchbay_provision::{apply, ApplyOptions, Entry, ProvisionFile};
use patchbay_store_memory::MemoryStore;
use serde_json::json;
use tokio::runtime::Runtime;

const N: usize = 10_000;
const ROUNDS: usize = 9;

fn service() -> ProfileService {
    ProfileService::builder(Arc::new(MemoryStore::new()))
        .connector(PostgresConnector)
        .build()
        .expect("service")
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
fn creates(rt: &Runtime) -> Duration {
    let svc = service();
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

/// The first apply into a fresh store; returns the service for a no-op apply.
fn apply_first(rt: &Runtime, file: &ProvisionFile) -> (Duration, ProfileService) {
    let svc = service();
    let start = Instant::now();
    let r = rt.block_on(apply(&svc, file, &options())).unwrap();
    let took = start.elapsed();
    assert_eq!(r.created.len(), N);
    (took, svc)
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
        b.iter_custom(|iters| (0..iters).map(|_| creates(&rt)).sum())
    });
    g.bench_function("apply_first", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| apply_first(&rt, &file).0).sum())
    });
    let (_, applied) = apply_first(&rt, &file);
    g.bench_function("apply_again_noop", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| apply_noop(&rt, &applied, &file)).sum())
    });
    g.finish();
    drop(applied);
    paired(&rt, &file);
}

/// Alternating rounds; prints medians and the median per-round ratios.
fn paired(rt: &Runtime, file: &ProvisionFile) {
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let (mut c, mut a, mut n) = (Vec::new(), Vec::new(), Vec::new());
    let (mut first_ratio, mut noop_ratio) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let (tc, (ta, svc)) = if round % 2 == 0 {
            let tc = creates(rt);
            (tc, apply_first(rt, file))
        } else {
            let applied = apply_first(rt, file);
            (creates(rt), applied)
        };
        let tn = apply_noop(rt, &svc, file);
        drop(svc);
        first_ratio.push(ms(ta) / ms(tc));
        noop_ratio.push(ms(tn) / ms(ta));
        c.push(ms(tc));
        a.push(ms(ta));
        n.push(ms(tn));
    }
    println!(
        "PAIRED apply_first: creates {:.1} ms, apply {:.1} ms, ratio {:.2}x (median of {ROUNDS} alternating rounds of {N})",
        median(c),
        median(a.clone()),
        median(first_ratio)
    );
    println!(
        "PAIRED apply_noop: first apply {:.1} ms, no-op apply {:.1} ms, ratio {:.2}x (median of {ROUNDS} rounds)",
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
