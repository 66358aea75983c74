//! Profiles as code for patchbay: provisioning files (YAML, JSON, TOML)
//! applied idempotently, environment profiles (`PATCHBAY_CONN_<NAME>`),
//! export without secret values, and import.
//!
//! Everything goes through [`patchbay_core::ProfileService`]: the same
//! validation, sealing and policy as the API. A source validates every entry
//! before it writes anything; profiles it manages carry the label
//! `patchbay.io/managed-by` and the API refuses to edit them unless the host
//! allows drift.

mod apply;
pub mod env;
mod export;
mod file;
mod plan;
mod problem;
mod report;

pub use apply::{apply, apply_with_progress, ApplyOptions};
pub use export::{all_profiles, export, import, import_with_progress, placeholder, Selection};
pub use file::{Entry, Format, ProvisionFile};
/// Progress of a long apply or import, for a host to render.
pub use patchbay_core::{NoProgress, Progress};
pub use problem::{Problem, Problems};
pub use report::Report;
