//! Durable stores beside bare sqlx, on the same database in the same run.
//!
//! For SQLite and Postgres: create, get by id, and a keyset page of 100 out
//! of 10,000 profiles, each next to a baseline running the equivalent
//! statement through the same sqlx pool (same pragmas, same connections);
//! and the same page at 1,000 and 100,000 rows, to show that a page's cost
//! does not grow with the table. Postgres is skipped (with a message) when
//! unreachable; set PATCHBAY_TEST_POSTGRES_URL to point elsewhere.
//!
//! And issue 14's ratios (`stores/tenancy.rs`): a create with its audit
//! event ÷ without, and a label-filtered page ÷ an unfiltered one over
//! 100,000 profiles in 100 tenants.
//!
//! Run: `cargo bench --bench stores -- --noplot`

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use patchbay_core::ProfileId;
use tokio::runtime::Runtime;

#[path = "stores/postgres.rs"]
mod postgres;
#[path = "stores/sqlite.rs"]
mod sqlite;
#[path = "stores/tenancy.rs"]
mod tenancy;

pub(crate) const SIZES: [usize; 3] = [1_000, 10_000, 100_000];
pub(crate) const CONFIG: &str = r#"{"host":"db.internal","port":5432,"nested":{"a":[1,2]}}"#;
pub(crate) const SECRETS: &str = r#"{"password":"pbs1.test.c2VhbGVk"}"#;
pub(crate) const COLS: &str =
    "id, name, connector, description, config, secrets, created_at, updated_at, version";

pub(crate) fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime")
}

/// The id of the `i`-th seeded profile (names are `bench-000001`…).
pub(crate) fn seeded_id(i: usize) -> ProfileId {
    ProfileId::parse(&format!("prof_{i:032x}")).expect("id")
}

/// A cursor in the middle of the seeded names.
pub(crate) fn middle_cursor(n: usize) -> String {
    format!("bench-{:06}", n / 2)
}

/// A cheap deterministic spread of ids over `1..=n` (an LCG step).
pub(crate) fn pseudo_random(i: u64, n: usize) -> usize {
    (i.wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407)
        >> 33) as usize
        % n
        + 1
}

/// An `iter_custom` body: `iters` calls of `op`, each with a fresh number
/// (so gets spread over the seeded ids), timed together.
pub(crate) async fn timed<F, Fut>(iters: u64, mut op: F) -> Duration
where
    F: FnMut(u64) -> Fut,
    Fut: Future<Output = ()>,
{
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let start = Instant::now();
    for _ in 0..iters {
        op(NEXT.fetch_add(1, Ordering::Relaxed)).await;
    }
    start.elapsed()
}

/// Store ÷ baseline measured in alternating rounds (store first, then
/// baseline first, …) of `per_round` calls each, so that load from other
/// processes on this shared machine hits both sides alike. Prints per-call
/// medians and the median of the per-round ratios.
pub(crate) fn paired<A, FA, B, FB>(rt: &Runtime, label: &str, per_round: u64, mut a: A, mut b: B)
where
    A: FnMut(u64) -> FA,
    FA: Future<Output = ()>,
    B: FnMut(u64) -> FB,
    FB: Future<Output = ()>,
{
    const ROUNDS: usize = 15;
    let (mut ta, mut tb, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    rt.block_on(async {
        timed(per_round, &mut a).await;
        timed(per_round, &mut b).await;
        for round in 0..ROUNDS {
            let (da, db) = if round % 2 == 0 {
                let da = timed(per_round, &mut a).await;
                (da, timed(per_round, &mut b).await)
            } else {
                let db = timed(per_round, &mut b).await;
                (timed(per_round, &mut a).await, db)
            };
            ta.push(da / per_round as u32);
            tb.push(db / per_round as u32);
            ratios.push(da.as_secs_f64() / db.as_secs_f64());
        }
    });
    ta.sort();
    tb.sort();
    ratios.sort_by(f64::total_cmp);
    println!(
        "PAIRED {label}: {:?} vs {:?} per call, ratio {:.2} (median of {ROUNDS} alternating rounds of {per_round})",
        ta[ROUNDS / 2],
        tb[ROUNDS / 2],
        ratios[ROUNDS / 2]
    );
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30)
}

criterion_group! { name = benches; config = config(); targets = sqlite::bench, postgres::bench }
criterion_main!(benches);
