//! Native client config from a profile beside the same `PgConnectOptions`
//! built from literals, in the same run. Run:
//! `cargo bench -p patchbay-connector-postgres --bench native_client -- --noplot`.
//!
//! Three ways to the same options:
//! * `literals`: `PgConnectOptions` built by hand, as a host without
//!   patchbay would;
//! * `builder`: `connect_options` from the profile's typed config (what a
//!   resolved profile hands over);
//! * `parse_and_builder`: the typed config parsed from the resolved JSON
//!   first, then `connect_options`.
//!
//! Criterion measures each group in turn; on a shared machine load moves
//! between groups, so the bench also runs alternating rounds (literals
//! first, then builder first, ...) and prints the median per-round ratio
//! as `PAIRED` lines: those are the figures in `benches/README.md`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use patchbay_connector_postgres::sqlx::postgres::{PgConnectOptions, PgSslMode};
use patchbay_connector_postgres::{connect_options, SqlConfig};

use patchbay_core::ResolvedConfig;
use serde_json::json;

fn resolved() -> ResolvedConfig {
    ResolvedConfig::new(json!({
        "host": "db.internal", "port": 5432, "database": "orders",
        "username": "app", "password": "s3cret", "tls_mode": "require"
    }))
}

fn literals() -> PgConnectOptions {
    PgConnectOptions::new_without_pgpass()
        .host("db.internal")
        .port(5432)
        .username("app")
        .password("s3cret")
        .database("orders")
        .ssl_mode(PgSslMode::Require)
}

/// Median nanoseconds per call of `f` over `n` calls.
fn time_per_call<T>(n: u32, mut f: impl FnMut() -> T) -> f64 {
    let start = Instant::now();
    for _ in 0..n {
        black_box(f());
    }
    start.elapsed().as_nanos() as f64 / f64::from(n)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Alternating rounds of `base` and `other`; prints the medians and the
/// median of the per-round ratios.
fn paired<A, B>(name: &str, mut base: impl FnMut() -> A, mut other: impl FnMut() -> B) {
    const ROUNDS: usize = 15;
    const CALLS: u32 = 20_000;
    let (mut b, mut o, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let (tb, to) = if round % 2 == 0 {
            let tb = time_per_call(CALLS, &mut base);
            (tb, time_per_call(CALLS, &mut other))
        } else {
            let to = time_per_call(CALLS, &mut other);
            (time_per_call(CALLS, &mut base), to)
        };
        b.push(tb);
        o.push(to);
        ratios.push(to / tb);
    }
    println!(
        "PAIRED {name}: literals {:.0} ns, profile {:.0} ns, ratio {:.2}x (median of {ROUNDS} alternating rounds)",
        median(b),
        median(o),
        median(ratios)
    );
}

fn bench(c: &mut Criterion) {
    let config: SqlConfig = resolved().parse().unwrap();
    let json = resolved();
    // The two sides build the same options.
    let (a, b) = (literals(), connect_options(&config).unwrap());
    assert_eq!(
        (
            a.get_host(),
            a.get_port(),
            a.get_username(),
            a.get_database()
        ),
        (
            b.get_host(),
            b.get_port(),
            b.get_username(),
            b.get_database()
        )
    );
    assert_eq!(
        format!("{:?}", a.get_ssl_mode()),
        format!("{:?}", b.get_ssl_mode())
    );

    let mut g = c.benchmark_group("pg_connect_options");
    g.measurement_time(Duration::from_secs(3));
    g.bench_function("literals", |bench| bench.iter(literals));
    g.bench_function("builder", |bench| {
        bench.iter(|| connect_options(black_box(&config)).unwrap())
    });
    g.bench_function("parse_and_builder", |bench| {
        bench.iter(|| connect_options(&black_box(&json).parse::<SqlConfig>().unwrap()).unwrap())
    });
    g.finish();

    paired("builder", literals, || connect_options(&config).unwrap());
    paired("parse_and_builder", literals, || {
        connect_options(&json.parse::<SqlConfig>().unwrap()).unwrap()
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
