//! The audit trail as the service writes it: who (the principal the host
//! named with [`acting_as`](ProfileService::acting_as)), which tenant, what,
//! which profile and version, how it went. A write's success event goes to
//! the store with the write (the same transaction where the store keeps a
//! trail); a refused or failed call gets a failure event.

use std::sync::Arc;

use super::crud::now;
use super::ProfileService;
use crate::audit::{AuditAction, AuditEvent, AuditOutcome, AuditQuery};
use crate::error::{Error, FieldError, Result, ValidationErrors};
use crate::profile::ProfileId;
use crate::repository::{Page, MAX_PAGE_SIZE};

impl ProfileService {
    /// The same service, recording `principal` (an opaque name from the
    /// host: a user id, a token's name — never a credential) as the actor
    /// of every audit event.
    pub fn acting_as(&self, principal: impl Into<Arc<str>>) -> Self {
        let mut scoped = self.clone();
        scoped.principal = Some(principal.into());
        scoped
    }

    /// The actor named with [`acting_as`](Self::acting_as).
    pub fn principal(&self) -> Option<&str> {
        self.principal.as_deref()
    }

    /// An event of this service's tenant and principal.
    pub(super) fn audit_event(
        &self,
        action: AuditAction,
        id: Option<&ProfileId>,
        version: Option<u64>,
        error: Option<&Error>,
    ) -> AuditEvent {
        // The id before the clock: the clock read (an ordered TSC read)
        // waits for earlier loads, and the id is the one likely to miss.
        let profile_id = id.cloned();
        AuditEvent {
            seq: 0,
            at: now(),
            tenant: self.tenant.clone(),
            principal: self.principal.as_deref().map(str::to_owned),
            action,
            profile_id,
            version,
            outcome: match error {
                None => AuditOutcome::Success,
                Some(_) => AuditOutcome::Failure,
            },
            error_code: error.map(|e| e.code().to_owned()),
        }
    }

    /// Records a failure event, when the store keeps a trail. Best effort:
    /// the caller gets its own error either way, so a failure to record is
    /// logged, not returned.
    pub(super) async fn audit_failure(
        &self,
        action: AuditAction,
        id: Option<&ProfileId>,
        version: Option<u64>,
        error: &Error,
    ) {
        let Some(sink) = self.inner.repo.audit() else {
            return;
        };
        let event = self.audit_event(action, id, version, Some(error));
        if let Err(e) = sink.record(&event).await {
            tracing::error!(target: "patchbay::audit", action = %action, error = %e, "could not record a failure event");
        }
    }

    /// Records that secrets of a profile are about to be opened. Fails
    /// closed: no event recorded, no secret opened.
    pub(super) async fn audit_opening(
        &self,
        action: AuditAction,
        id: &ProfileId,
        version: u64,
    ) -> Result<()> {
        match self.inner.repo.audit() {
            Some(sink) => {
                sink.record(&self.audit_event(action, Some(id), Some(version), None))
                    .await
            }
            None => Ok(()),
        }
    }

    /// A page of this tenant's audit trail, oldest first; filters by
    /// profile and action, keyset-paginated (`next_cursor` → `after`).
    ///
    /// # Errors
    /// `Validation` for a limit outside 1..=1000 or a bad cursor;
    /// `Unsupported` when the store keeps no trail; `Storage`.
    pub async fn audit_events(&self, query: &AuditQuery) -> Result<Page<AuditEvent>> {
        let mut errors = Vec::new();
        if query.limit == 0 || query.limit > MAX_PAGE_SIZE {
            errors.push(FieldError::new("/limit", "must be between 1 and 1000"));
        }
        if let Some(after) = &query.after {
            errors.extend(crate::input::check_line("/after", after).err());
        }
        ValidationErrors(errors).into_result()?;
        let sink = self.inner.repo.audit().ok_or_else(|| {
            Error::Unsupported("this profile store keeps no audit trail".to_owned())
        })?;
        sink.events(&self.tenant, query).await
    }
}
