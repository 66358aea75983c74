//! What an apply or import did, by profile name.

use serde::Serialize;

/// Names per outcome; `failed` and `kept_in_use` carry the reason.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    pub created: Vec<String>,
    pub updated: Vec<String>,
    pub unchanged: Vec<String>,
    pub deleted: Vec<String>,
    /// Existing profiles left alone (import without overwrite).
    pub skipped: Vec<String>,
    /// Profiles `--prune` would delete that are still in use, with their dependents.
    pub kept_in_use: Vec<(String, String)>,
    /// Writes that failed after validation (a concurrent change, a store error).
    pub failed: Vec<(String, String)>,
}

impl Report {
    /// Whether nothing was written.
    pub fn is_noop(&self) -> bool {
        self.created.is_empty() && self.updated.is_empty() && self.deleted.is_empty()
    }
}
