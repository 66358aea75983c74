//! SQLite [`ProfileRepository`](patchbay_core::ProfileRepository) for patchbay:
//! the embedded, durable default.
//!
//! * WAL journal, foreign keys on, a busy timeout and `synchronous = FULL`:
//!   a create that returned `Ok` survives the process being killed.
//! * Names are unique case-insensitively through a unique index, and a
//!   profile with dependents cannot be deleted through a foreign key that
//!   restricts deletes: the database enforces the contract, not a lock here.
//! * Migrations are embedded in the binary; [`SqliteStore::migrate`] runs
//!   them, and [`SqliteStore::open`] does so unless told not to.
//! * Secrets arrive sealed by the service and are kept in their own column.
//!   [`SqliteStore::open_default`] also hands back a [`Keyring`](patchbay_core::Keyring)
//!   loaded from (or created as) a key file beside the database.
//!
//! ```no_run
//! # async fn demo() -> patchbay_core::Result<()> {
//! use std::sync::Arc;
//! let (store, keyring) = patchbay_store_sqlite::SqliteStore::open_default("sqlite://profiles.db").await?;
//! let service = patchbay_core::ProfileService::builder(Arc::new(store))
//!     .sealer(keyring)
//!     .build()?;
//! # let _ = service; Ok(()) }
//! ```
#![warn(missing_docs)]

mod audit;
mod config;
mod error;
mod feed;
mod file_lock;
mod key_checks;
pub mod key_file;
mod migrate;
mod queries;
mod repository;
mod store;
mod writes;

pub use config::SqliteConfig;
pub use store::SqliteStore;
