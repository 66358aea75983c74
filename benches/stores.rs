//! Durable stores beside bare sqlx, on the same database in the same run.
//!
//! For SQLite and Postgres: create, get by id, and a keyset page of 100 out
//! of 10,000 profiles, each next to a baseline running the equivalent
//! statement through the same sqlx pool (same pragmas, same connections);
//! and the same page at 1,000 and 100,000 rows, to show that a page's cost
//! does not grow with the table. Postgres is skipped (with a message) when
//! unreachable; set PATCHBAY_TEST_POSTGRES_URL to point elsewhere.
//!
//! Run: `cargo bench --bench stores -- --noplot`

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use patchbay_core::ProfileId;
use tokio::runtime::Runtime;

#[path = "stores/postgres.rs"]
mod postgres;
#[path = "stores/sqlite.rs"]
mod sqlite;

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

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30)
}

criterion_group! { name = benches; config = config(); targets = sqlite::bench, postgres::bench }
criterion_main!(benches);
