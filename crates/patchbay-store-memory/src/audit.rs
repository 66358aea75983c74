//! The memory store's audit trail: a bounded ring under the store's lock,
//! so a write and its event are one step; the oldest events go first.

use std::collections::VecDeque;

use patchbay_core::audit::{decode_audit_cursor, encode_audit_cursor};
use patchbay_core::repository::MAX_PAGE_SIZE;
use patchbay_core::{AuditEvent, AuditQuery, Page, Result, TenantId};

/// Events kept before the oldest are dropped.
pub const DEFAULT_AUDIT_CAPACITY: usize = 100_000;

/// The ring, and the next sequence number.
#[derive(Debug, Default)]
pub(crate) struct Ring {
    events: VecDeque<AuditEvent>,
    last_seq: u64,
}

impl Ring {
    /// Appends `event` with the next sequence number, dropping the oldest
    /// beyond `capacity`.
    pub(crate) fn push(&mut self, event: &AuditEvent, capacity: usize) {
        self.last_seq += 1;
        let mut event = event.clone();
        event.seq = self.last_seq;
        self.events.push_back(event);
        while self.events.len() > capacity.max(1) {
            self.events.pop_front();
        }
    }

    /// A page of `tenant`'s events after the cursor, oldest first.
    pub(crate) fn page(&self, tenant: &TenantId, q: &AuditQuery) -> Result<Page<AuditEvent>> {
        let after = match &q.after {
            Some(c) => decode_audit_cursor(tenant, c)?,
            None => 0,
        };
        let limit = q.limit.clamp(1, MAX_PAGE_SIZE);
        // Sequence numbers ascend along the ring: skip to the first after.
        let start = self.events.partition_point(|e| e.seq <= after);
        let mut items = Vec::new();
        let mut more = false;
        for e in self.events.range(start..) {
            let wanted = e.tenant == *tenant
                && q.profile_id
                    .as_ref()
                    .is_none_or(|id| e.profile_id.as_ref() == Some(id))
                && q.action.is_none_or(|a| e.action == a);
            if !wanted {
                continue;
            }
            if items.len() == limit {
                more = true;
                break;
            }
            items.push(e.clone());
        }
        let next_cursor = more
            .then(|| {
                items
                    .last()
                    .map(|e: &AuditEvent| encode_audit_cursor(tenant, e.seq))
            })
            .flatten();
        Ok(Page { items, next_cursor })
    }
}
