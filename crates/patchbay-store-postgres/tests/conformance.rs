//! The testkit's repository conformance suite against the local Postgres,
//! one schema per test.

mod common;

use common::TestStore;

async fn make() -> TestStore {
    match TestStore::new().await {
        Some(store) => store,
        // Not in CI and no server: `require` printed SKIPPED. The suite's
        // cases cannot be skipped one by one, so end this test process.
        None => std::process::exit(0),
    }
}

patchbay_testkit::repository_suite!(make());
