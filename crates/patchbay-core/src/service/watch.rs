//! The change feed, as the service offers it.

use super::ProfileService;
use crate::error::Result;
use crate::watch::ProfileEvents;

impl ProfileService {
    /// A stream of changes to this service's tenant's profiles (created, updated, deleted, and
    /// `Resync` when events may have been missed), from the store's
    /// [`watch`](crate::ProfileRepository::watch). A host rebuilds its client
    /// when the profile it uses changes; see [`ProfileEvent`](crate::ProfileEvent).
    ///
    /// # Errors
    /// `UNSUPPORTED` when the store has no change feed; `STORAGE` when it
    /// cannot start one (for Postgres: the listener cannot connect).
    pub async fn watch(&self) -> Result<ProfileEvents> {
        self.inner.repo.watch(&self.tenant).await
    }
}
