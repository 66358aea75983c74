//! The use path beside raw baselines, in one run. Lives in this crate so a
//! release build needs only core, the stores and sqlx (the facade's
//! benches build every connector). Run:
//! `cargo bench -p patchbay-store-postgres --bench use_path -- --noplot`
//!
//! * `resolve_by_name`: `ProfileService::resolve` by name over the memory
//!   store (10,000 profiles) vs a bare `HashMap` get + `serde_json` parse of
//!   the config + AES-256-GCM open of the same sealed secret. Criterion
//!   groups, then `PAIRED`: 15 alternating rounds (the figure quoted).
//! * change feed (printed, not criterion): write on store A → event on store
//!   B over Postgres (two pools, one schema), p50/p99, beside a raw
//!   `pg_notify` → `PgListener` on the same server.

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::Criterion;
use patchbay_core::{
    Keyring, NewProfile, ProfileId, ProfileService, ResolveRequest, Sealer, TenantId,
};
use patchbay_store_memory::MemoryStore;
use patchbay_testkit::fake::FakeConnector;
use serde_json::{json, Map, Value};

const PROFILES: usize = 10_000;
const FEED_ROUNDS: usize = 500;

fn config() -> Value {
    json!({ "host": "db.internal", "port": 5432, "password": "hunter2", "mode": "ok" })
}

/// What the bare side holds per name: what a store holds (the public config
/// as JSON text, the sealed envelope).
type Bare = HashMap<String, (ProfileId, String, String)>;

fn bare_resolve(bare: &Bare, keyring: &Keyring, name: &str) -> impl Sized {
    let (id, text, envelope) = &bare[name];
    let public: Map<String, Value> = serde_json::from_str(text).unwrap();
    let secret = keyring.open(id, "password", envelope).unwrap();
    (public, secret)
}

fn resolve(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let keyring = Keyring::ephemeral();
    let svc = ProfileService::builder(Arc::new(MemoryStore::new()))
        .connector(FakeConnector::default())
        .sealer(keyring.clone())
        .build()
        .unwrap();
    let mut bare = Bare::new();
    let names: Vec<String> = rt.block_on(async {
        let mut names = Vec::with_capacity(PROFILES);
        for i in 0..PROFILES {
            let name = format!("profile-{i:06}");
            let p = svc
                .create(NewProfile {
                    name: name.clone(),
                    connector: "fake".into(),
                    description: None,
                    config: config(),
                    labels: Default::default(),
                })
                .await
                .unwrap();
            let text = serde_json::to_string(&p.config).unwrap();
            bare.insert(
                name.clone(),
                (p.id.clone(), text, p.secrets.0["password"].clone()),
            );
            names.push(name);
        }
        names
    });
    let next = AtomicUsize::new(0);
    let pick = || &names[next.fetch_add(7919, Ordering::Relaxed) % names.len()];

    let mut g = c.benchmark_group("resolve_by_name");
    g.bench_function("bare_map_parse_open", |b| {
        b.iter(|| black_box(bare_resolve(&bare, &keyring, pick())))
    });
    g.bench_function("service_memory", |b| {
        b.to_async(&rt).iter(|| async {
            black_box(
                svc.resolve(ResolveRequest::new(pick().as_str(), "bench"))
                    .await
                    .unwrap(),
            )
        })
    });
    g.finish();

    // Alternating rounds, so load from other processes hits both sides alike.
    const ROUNDS: usize = 15;
    const CALLS: u32 = 20_000;
    let per_call = |start: Instant| start.elapsed().as_nanos() as f64 / f64::from(CALLS);
    let bare_round = || {
        let t = Instant::now();
        for _ in 0..CALLS {
            black_box(bare_resolve(&bare, &keyring, pick()));
        }
        per_call(t)
    };
    let service_round = || {
        rt.block_on(async {
            let t = Instant::now();
            for _ in 0..CALLS {
                let req = ResolveRequest::new(pick().as_str(), "bench");
                black_box(svc.resolve(req).await.unwrap());
            }
            per_call(t)
        })
    };
    let (mut b, mut s, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let (tb, ts) = if round % 2 == 0 {
            let tb = bare_round();
            (tb, service_round())
        } else {
            let ts = service_round();
            (bare_round(), ts)
        };
        b.push(tb);
        s.push(ts);
        ratios.push(ts / tb);
    }
    println!(
        "PAIRED resolve_by_name: bare {:.0} ns, service {:.0} ns, ratio {:.2}x (median of {ROUNDS} alternating rounds of {CALLS})",
        median(b),
        median(s),
        median(ratios)
    );
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// p50 and p99 of `samples`, in milliseconds.
fn percentiles(mut samples: Vec<Duration>) -> (f64, f64) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
    (at(0.50).as_secs_f64() * 1e3, at(0.99).as_secs_f64() * 1e3)
}

async fn feed_latency() {
    use patchbay_core::{ProfileRepository, ProfileUpdate};
    use patchbay_store_postgres::{PostgresConfig, PostgresStore};
    use sqlx::postgres::PgListener;

    let url = std::env::var("PATCHBAY_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let schema = format!("pbbench_feed_{}", std::process::id());
    let connect = || {
        let mut c = PostgresConfig::new(url.clone(), schema.clone());
        c.max_connections = 3;
        PostgresStore::connect_with(c)
    };
    let a = match connect().await {
        Ok(a) => a,
        Err(e) => {
            eprintln!("change feed latency: SKIPPED, Postgres unreachable ({e})");
            return;
        }
    };
    let b = connect().await.unwrap();
    let svc_a = ProfileService::builder(Arc::new(a.clone()))
        .connector(FakeConnector::default())
        .build()
        .unwrap();
    let p = svc_a
        .create(NewProfile {
            name: "feed-latency".into(),
            connector: "fake".into(),
            description: None,
            config: config(),
            labels: Default::default(),
        })
        .await
        .unwrap();

    // Raw: pg_notify on A's pool, a bare PgListener on B's pool.
    let mut raw = PgListener::connect_with(b.pool()).await.unwrap();
    raw.listen("pbbench_raw").await.unwrap();
    let mut raw_samples = Vec::with_capacity(FEED_ROUNDS);
    for i in 0..FEED_ROUNDS {
        let start = Instant::now();
        sqlx::query("SELECT pg_notify('pbbench_raw', $1)")
            .bind(i.to_string())
            .execute(a.pool())
            .await
            .unwrap();
        raw.recv().await.unwrap();
        raw_samples.push(start.elapsed());
    }

    // patchbay: a content update through the service on A, the event from
    // B's watch.
    let mut events = b.watch(&TenantId::default()).await.unwrap();
    let mut samples = Vec::with_capacity(FEED_ROUNDS);
    for i in 0..FEED_ROUNDS {
        let start = Instant::now();
        let update = ProfileUpdate {
            description: Some(Some(format!("round {i}"))),
            ..Default::default()
        };
        let done = svc_a.update(&p.id, update).await.unwrap();
        loop {
            let e = events.next().await.unwrap();
            if e.version() == Some(done.version) {
                break;
            }
        }
        samples.push(start.elapsed());
    }
    let (rp50, rp99) = percentiles(raw_samples);
    let (p50, p99) = percentiles(samples);
    println!(
        "change feed over Postgres, {FEED_ROUNDS} rounds: raw pg_notify->PgListener p50 {rp50:.2} ms p99 {rp99:.2} ms; \
         service update on A -> watch event on B p50 {p50:.2} ms p99 {p99:.2} ms (ratio p50 {:.2}x, p99 {:.2}x)",
        p50 / rp50,
        p99 / rp99
    );
    sqlx::raw_sql(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
        .execute(a.pool())
        .await
        .unwrap();
}

fn main() {
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    resolve(&mut c);
    c.final_summary();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(feed_latency());
}
