//! Conformance suites for patchbay backends.
//!
//! * [`repository`]: plain `async fn case(&dyn ProfileRepository)` cases, and
//!   [`repository_suite!`] to turn all of them into named tests. Every store
//!   in this workspace runs it; a third-party store adds one line:
//!
//!   ```ignore
//!   patchbay_testkit::repository_suite!(async { MyStore::connect("…").await });
//!   ```
//! * [`watch`]: change-feed cases, part of [`repository_suite!`]; a store
//!   without a feed passes them by answering `UNSUPPORTED`.
//! * [`connector`]: cases every connector runs (schema validity, secrets
//!   marked, a sentinel secret never leaks, deadline honoured, refused fast).
//! * [`key_checks`]: the key check values a store records (also in
//!   [`repository_suite!`]).
//! * [`fake`]: a scripted connector for testing the service itself.
//! * [`net`]: loopback failure targets and the `CI=true` rule (a test that
//!   needs a missing service fails in CI instead of skipping).
//! * `tls_proxy` (feature `tls-proxy`): a TLS front with a fresh
//!   certificate for a plain local service.
#![warn(missing_docs)]

pub mod connector;
pub mod fake;
pub mod key_checks;
pub mod net;
pub mod repository;
#[cfg(feature = "tls-proxy")]
pub mod tls_proxy;
pub mod watch;

/// Generates one `#[tokio::test]` per repository conformance case.
///
/// `$make` is an expression (usually an `async` block) evaluating to a value
/// that implements `ProfileRepository`; it runs once per test. Pass
/// `rounds = N` to change the delete-versus-attach rounds (default 200).
///
/// For a store behind a service that may be absent, write
/// `repository_suite!(optional: make())` with `make()` giving an `Option`:
/// `None` ends the test early (use [`net::require`], which prints `SKIPPED`
/// outside CI and panics under `CI=true`).
#[macro_export]
macro_rules! repository_suite {
    (optional: $make:expr) => {
        $crate::repository_suite!(optional: $make, rounds = 200);
    };
    (optional: $make:expr, rounds = $rounds:expr) => {
        $crate::repository_suite!(@cases $make;
            create_then_get, minimal_profile_round_trips, missing_is_not_found,
            duplicate_names_in_any_case, list_paginates_in_name_order, list_filters,
            list_rejects_bad_cursor, update_checks_version, rename_keeps_names_unique,
            delete_removes, dependents_block_delete, revision_follows_writes,
            list_keyset_survives_writes_between_pages, list_exact_multiple_pages,
            list_caps_limit_at_max_page_size, duplicate_id_is_refused, same_version_write);
        $crate::repository_suite!(@keys $make; key_checks_round_trip);
        $crate::repository_suite!(@shared $make;
            concurrent_creates_one_wins(), concurrent_updates_one_wins(),
            delete_races_attach($rounds), create_races_rename($rounds / 4));
        $crate::repository_suite!(@watch $make; watch_reports_writes);
        $crate::repository_suite!(@watch_shared $make; watch_sees_every_update_in_order);
    };
    ($make:expr) => {
        $crate::repository_suite!($make, rounds = 200);
    };
    ($make:expr, rounds = $rounds:expr) => {
        $crate::repository_suite!(optional: async { Some($make.await) }, rounds = $rounds);
    };
    (@cases $make:expr; $($case:ident),+) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let Some(repo) = $make.await else { return };
                $crate::repository::$case(&repo).await;
            }
        )+
    };
    (@watch $make:expr; $($case:ident),+) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let Some(repo) = $make.await else { return };
                $crate::watch::$case(&repo).await;
            }
        )+
    };
    (@watch_shared $make:expr; $($case:ident),+) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() {
                let Some(repo) = $make.await else { return };
                let repo: std::sync::Arc<dyn $crate::__core::ProfileRepository> = std::sync::Arc::new(repo);
                $crate::watch::$case(repo).await;
            }
        )+
    };
    (@keys $make:expr; $($case:ident),+) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let Some(repo) = $make.await else { return };
                $crate::key_checks::$case(&repo).await;
            }
        )+
    };
    (@shared $make:expr; $($case:ident($($arg:expr)?)),+) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() {
                let Some(repo) = $make.await else { return };
                let repo: std::sync::Arc<dyn $crate::__core::ProfileRepository> = std::sync::Arc::new(repo);
                $crate::repository::$case(repo $(, $arg)?).await;
            }
        )+
    };
}

#[doc(hidden)]
pub use patchbay_core as __core;
