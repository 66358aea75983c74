//! Key check values in memory: a map from key id to check, under its own
//! lock (they change apart from profiles and never move the revision).

use std::collections::BTreeMap;
use std::sync::{PoisonError, RwLock};

use patchbay_core::KeyCheck;

/// The recorded checks, by key id.
#[derive(Debug, Default)]
pub(crate) struct KeyChecks(RwLock<BTreeMap<String, KeyCheck>>);

impl KeyChecks {
    pub(crate) fn all(&self) -> Vec<KeyCheck> {
        let map = self.0.read().unwrap_or_else(PoisonError::into_inner);
        map.values().cloned().collect()
    }

    pub(crate) fn add(&self, check: &KeyCheck) -> bool {
        let mut map = self.0.write().unwrap_or_else(PoisonError::into_inner);
        if map.contains_key(&check.key_id) {
            return false;
        }
        map.insert(check.key_id.clone(), check.clone());
        true
    }

    pub(crate) fn remove(&self, key_id: &str) -> bool {
        let mut map = self.0.write().unwrap_or_else(PoisonError::into_inner);
        map.remove(key_id).is_some()
    }
}
