//! The change feed of an exclusive store: in-process, complete because this
//! store is the database's only writer.
//!
//! Writes that publish run one at a time behind `gate`, and publish before
//! releasing it: two racing writes of one profile cannot publish out of
//! commit order (SQLite serializes writers anyway, so little is lost).

use patchbay_core::{ChangeBroadcast, ProfileEvent, ProfileEvents, ProfileId, Result, TenantId};
use tokio::sync::{Mutex, MutexGuard};

use crate::error::storage;
use crate::queries as q;
use crate::store::SqliteStore;

/// The feed's state, shared by the store's clones.
#[derive(Debug, Default)]
pub(crate) struct Feed {
    gate: Mutex<()>,
    tx: ChangeBroadcast,
}

impl SqliteStore {
    /// Held across a write and its publication (`None` without a feed).
    pub(crate) async fn gate(&self) -> Option<MutexGuard<'_, ()>> {
        match &self.feed {
            Some(f) => Some(f.gate.lock().await),
            None => None,
        }
    }

    /// Publishes after a committed write, while the gate is held.
    pub(crate) fn publish(&self, tenant: &TenantId, event: impl FnOnce() -> ProfileEvent) {
        if let Some(f) = &self.feed {
            f.tx.send(tenant, event());
        }
    }

    /// The version a delete will remove (read under the gate, so it is the
    /// one deleted); `None` without a feed or when the profile is missing.
    pub(crate) async fn version_before_delete(
        &self,
        tenant: &TenantId,
        id: &ProfileId,
    ) -> Result<Option<u64>> {
        if self.feed.is_none() {
            return Ok(None);
        }
        let version: Option<i64> = sqlx::query_scalar(q::VERSION_OF)
            .bind(id.as_str())
            .bind(tenant.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| storage("read a profile version", e))?;
        Ok(version.map(|v| v as u64))
    }

    /// The feed, for `ProfileRepository::watch`.
    pub(crate) fn subscribe(&self, tenant: &TenantId) -> Option<ProfileEvents> {
        self.feed.as_ref().map(|f| f.tx.subscribe(tenant))
    }
}
