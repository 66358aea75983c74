//! Applying a 10,000-profile provisioning file vs 10,000 creates through the
//! service (the same validation and sealing, no file), and a second, no-op
//! apply of the same file. Memory store. Figures: benches/README.md.
//! `cargo bench -p patchbay-provision --bench apply -- --noplot`

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use patchbay_connector_postgres::PostgresConnector;
use patchbay_core::{NewProfile, ProfileService};
use patchbay_provision::{apply, ApplyOptions, Entry, ProvisionFile};
use patchbay_store_memory::MemoryStore;
use serde_json::json;

const N: usize = 10_000;

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

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let file = file();
    let mut g = c.benchmark_group("provision_10k");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.bench_function("creates_through_service", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
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
                        svc.create(new).await.unwrap();
                    }
                });
                total += start.elapsed();
            }
            total
        })
    });
    g.bench_function("apply_first", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let svc = service();
                let start = Instant::now();
                let r = rt.block_on(apply(&svc, &file, &options())).unwrap();
                total += start.elapsed();
                assert_eq!(r.created.len(), N);
            }
            total
        })
    });
    let applied = service();
    rt.block_on(apply(&applied, &file, &options())).unwrap();
    g.bench_function("apply_again_noop", |b| {
        b.iter(|| {
            let r = rt.block_on(apply(&applied, &file, &options())).unwrap();
            assert_eq!(r.unchanged.len(), N);
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
