//! PostgreSQL [`ProfileRepository`](patchbay_core::ProfileRepository) for
//! patchbay: for services that run several replicas against one database.
//!
//! * Everything lives in one schema of your choice, so several apps can
//!   share a database; the embedded migrations create it.
//! * Names are unique case-insensitively through a unique index, and a
//!   profile with dependents cannot be deleted through a foreign key that
//!   restricts deletes: the database enforces the contract across replicas.
//! * Updates are optimistic (`UPDATE … WHERE version = $expected`); lists are
//!   keyset pages on an index.
//! * Pooled connections are checked before use, so the store recovers by
//!   itself after the server restarts; calls made while it is down fail with
//!   `STORAGE`.
//! * Secrets arrive sealed by the service and are kept in their own column.
//!
//! ```no_run
//! # async fn demo() -> patchbay_core::Result<()> {
//! use std::sync::Arc;
//! use patchbay_core::{Key, Keyring, ProfileService};
//! let store = patchbay_store_postgres::PostgresStore::connect("postgres://app@db/app", "patchbay").await?;
//! let keyring = Keyring::new(Key::from_env("PATCHBAY_SEAL_KEY")?);
//! let service = ProfileService::builder(Arc::new(store)).sealer(keyring).build()?;
//! # let _ = service; Ok(()) }
//! ```
#![warn(missing_docs)]

mod audit;
mod config;
mod error;
mod key_checks;
mod migrate;
mod notify;
mod queries;
mod repository;
mod store;
mod writes;

pub use config::PostgresConfig;
pub use store::PostgresStore;
