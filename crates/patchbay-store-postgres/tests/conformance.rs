//! The testkit's repository conformance suite against the local Postgres,
//! one schema per test.

mod common;

use common::TestStore;

// `None` when Postgres is unreachable outside CI (`require` printed SKIPPED);
// under CI=true `TestStore::new` panics instead.
patchbay_testkit::repository_suite!(optional: TestStore::new());
