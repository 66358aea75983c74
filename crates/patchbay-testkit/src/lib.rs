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
//!   marked, a sentinel secret never leaks, deadline honoured, refused fast,
//!   an unresolvable host is `dns`), and [`connector_suite!`] to turn all of
//!   them into named tests from one [`fixture::Fixture`]:
//!
//!   ```ignore
//!   patchbay_testkit::connector_suite!(MyFixture);
//!   ```
//! * [`spellings`]: the raw, percent-encoded and escaped forms of a secret,
//!   and sentinel values drivers encode; [`capture`]: everything logged.
//! * [`hygiene`]: 200 probes, then a server-side connection count settles.
//! * [`key_checks`]: the key check values a store records (also in
//!   [`repository_suite!`]).
//! * [`fake`]: a scripted connector for testing the service itself.
//! * [`net`]: loopback failure targets and the `CI=true` rule (a test that
//!   needs a missing service fails in CI instead of skipping).
//! * [`tls`]: the TLS listeners and test PKI of `scripts/services/tls.sh`.
//! * `tls_proxy` (feature `tls-proxy`): a TLS front with a fresh
//!   certificate for a plain local service.
#![warn(missing_docs)]

pub mod audit;
pub mod capture;
pub mod connector;
pub mod fake;
pub mod fixture;
pub mod hygiene;
pub mod key_checks;
pub mod net;
pub mod repository;
pub mod spellings;
pub mod tls;
#[cfg(feature = "tls-proxy")]
pub mod tls_proxy;
pub mod watch;

/// Generates one test per connector conformance case from a
/// [`fixture::Fixture`] value: `schema_is_valid`, `secrets_are_marked`,
/// `sentinel_never_leaks` (every secret field of the schema, every
/// sentinel), `deadline_is_honoured`, `refused_is_fast` and
/// `unresolvable_is_dns`. A connector crate invokes it once, so no case can
/// be left out; cases needing the live service skip (or fail under CI)
/// through the fixture's `live()`.
#[macro_export]
macro_rules! connector_suite {
    ($fixture:expr) => {
        $crate::connector_suite!(@sync $fixture; schema_is_valid, secrets_are_marked);
        $crate::connector_suite!(@async $fixture;
            sentinel_never_leaks, deadline_is_honoured, refused_is_fast, unresolvable_is_dns);
    };
    (@sync $fixture:expr; $($case:ident),+) => {
        $(
            #[test]
            fn $case() {
                $crate::fixture::$case(&$fixture);
            }
        )+
    };
    (@async $fixture:expr; $($case:ident),+) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                $crate::fixture::$case(&$fixture).await;
            }
        )+
    };
}

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
            list_caps_limit_at_max_page_size, duplicate_id_is_refused, same_version_write,
            same_name_in_two_tenants, other_tenants_profiles_are_not_found,
            lists_and_cursors_stay_in_their_tenant, labels_filter_lists,
            named_dependents_claim_names, shared_reads_follow_writes);
        $crate::repository_suite!(@keys $make; key_checks_round_trip);
        $crate::repository_suite!(@shared $make;
            concurrent_creates_one_wins(), concurrent_updates_one_wins(),
            delete_races_attach($rounds), create_races_rename($rounds / 4),
            concurrent_named_claims_one_wins());
        $crate::repository_suite!(@audit $make; audit_one_event_per_acknowledged_write);
        $crate::repository_suite!(@watch $make; watch_reports_writes, watch_is_scoped_to_its_tenant);
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
    (@audit $make:expr; $($case:ident),+) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() {
                let Some(repo) = $make.await else { return };
                let repo: std::sync::Arc<dyn $crate::__core::ProfileRepository> = std::sync::Arc::new(repo);
                $crate::audit::$case(repo).await;
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

/// For [`fixture::Fixture`] impls.
pub use async_trait::async_trait;
