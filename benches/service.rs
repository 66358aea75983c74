//! ProfileService over the memory store beside a bare map doing the same
//! lookups, in the same run. Run: `cargo bench --bench service`.

use std::collections::{BTreeMap, HashMap};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use patchbay::memory::MemoryStore;
use patchbay::testkit::fake::FakeConnector;
use patchbay::{ListQuery, NewProfile, Profile, ProfileId, ProfileService};
use serde_json::json;

const PROFILES: usize = 10_000;

fn new_profile(i: usize) -> NewProfile {
    NewProfile {
        name: format!("profile-{i:06}"),
        connector: "fake".into(),
        description: Some("benchmark profile".into()),
        config: json!({ "host": "db.internal", "port": 5432, "password": "hunter2" }),
        labels: Default::default(),
    }
}

fn setup(rt: &tokio::runtime::Runtime) -> (ProfileService, Vec<Profile>) {
    let svc = ProfileService::builder(Arc::new(MemoryStore::new()))
        .connector(FakeConnector::default())
        .build()
        .unwrap();
    let profiles = rt.block_on(async {
        let mut out = Vec::with_capacity(PROFILES);
        for i in 0..PROFILES {
            out.push(svc.create(new_profile(i)).await.unwrap());
        }
        out
    });
    (svc, profiles)
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (svc, profiles) = setup(&rt);
    let by_id: HashMap<ProfileId, Profile> =
        profiles.iter().map(|p| (p.id.clone(), p.clone())).collect();
    let by_name: BTreeMap<String, ProfileId> = profiles
        .iter()
        .map(|p| (p.name.clone(), p.id.clone()))
        .collect();
    let ids: Vec<ProfileId> = profiles.iter().map(|p| p.id.clone()).collect();
    let next = AtomicUsize::new(0);
    let pick = || &ids[next.fetch_add(7919, Ordering::Relaxed) % ids.len()];

    let mut g = c.benchmark_group("get");
    g.bench_function("bare_hashmap", |b| {
        b.iter(|| black_box(by_id.get(pick()).cloned()))
    });
    g.bench_function("service_memory", |b| {
        b.to_async(&rt)
            .iter(|| async { black_box(svc.get(pick()).await.unwrap()) })
    });
    g.finish();

    let mut g = c.benchmark_group("list_100_of_10000");
    let start = "profile-005000".to_owned();
    g.bench_function("bare_btreemap", |b| {
        b.iter(|| {
            let page: Vec<Profile> = by_name
                .range(start.clone()..)
                .take(100)
                .map(|(_, id)| by_id[id].clone())
                .collect();
            black_box(page)
        })
    });
    let cursor =
        patchbay::repository::encode_cursor(&patchbay::TenantId::default(), "profile-004999");
    let query = ListQuery {
        after: Some(cursor),
        limit: 100,
        ..Default::default()
    };
    g.bench_function("service_memory", |b| {
        b.to_async(&rt)
            .iter(|| async { black_box(svc.list(&query).await.unwrap()) })
    });
    g.finish();

    let mut g = c.benchmark_group("create");
    let counter = AtomicUsize::new(PROFILES);
    let mut bare: HashMap<ProfileId, Profile> = HashMap::new();
    let template = profiles[0].clone();
    g.bench_function("bare_hashmap", |b| {
        b.iter(|| {
            let mut p = template.clone();
            p.id = ProfileId::generate();
            bare.insert(p.id.clone(), p);
        })
    });
    g.bench_function("service_memory", |b| {
        b.to_async(&rt).iter(|| async {
            let i = counter.fetch_add(1, Ordering::Relaxed);
            black_box(svc.create(new_profile(i)).await.unwrap())
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
