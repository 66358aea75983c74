//! An in-memory [`ProfileRepository`]: the whole contract, nothing durable.
//!
//! One lock guards all state, so name uniqueness, version checks and
//! delete-versus-attach are atomic by construction. The lock is never held
//! across an `.await`.
#![warn(missing_docs)]

mod audit;
mod key_checks;
mod writes;

pub use audit::DEFAULT_AUDIT_CAPACITY;

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Bound;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use async_trait::async_trait;
use patchbay_core::profile::name_key;
use patchbay_core::repository::{decode_cursor, encode_cursor, MAX_PAGE_SIZE};
use patchbay_core::{
    Attachment, AuditEvent, AuditQuery, AuditSink, ChangeBroadcast, Dependent, Error, KeyCheck,
    ListQuery, Page, Profile, ProfileEvents, ProfileId, ProfileRef, ProfileRepository, Result,
    TenantId,
};

/// Profiles in a `HashMap`, names per tenant in a `BTreeMap` for ordered
/// pages and hashed for lookups.
/// Keeps a bounded audit trail ([`DEFAULT_AUDIT_CAPACITY`] events, the
/// oldest dropped first), each write's event under the write's lock.
#[derive(Debug)]
pub struct MemoryStore {
    state: RwLock<State>,
    /// Moved after each successful write, once the lock is released.
    revision: AtomicU64,
    /// The change feed; sent to under the lock, so events follow write order.
    feed: ChangeBroadcast,
    key_checks: key_checks::KeyChecks,
    audit_capacity: usize,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::with_audit_capacity(DEFAULT_AUDIT_CAPACITY)
    }
}

#[derive(Debug, Default)]
struct State {
    /// Shared with `names`, and handed out by `get_shared` as is.
    profiles: HashMap<ProfileId, Arc<Profile>>,
    /// `(tenant, name key)`: one ordered range per tenant, for pages.
    by_name: BTreeMap<(TenantId, String), ProfileId>,
    /// The same keys hashed per tenant, to the profiles themselves: a read
    /// by name (the use path's) is two hashes, no walk of string
    /// comparisons, and no key to build for a lowercase name.
    names: HashMap<TenantId, HashMap<String, Arc<Profile>>>,
    dependents: HashMap<ProfileId, BTreeSet<Dependent>>,
    /// Claimed dependent names: `(tenant, kind, id)` → the profile holding it.
    claims: BTreeMap<(TenantId, String, String), ProfileId>,
    audit: audit::Ring,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty store keeping the last `capacity` audit events.
    pub fn with_audit_capacity(capacity: usize) -> Self {
        Self {
            state: RwLock::default(),
            revision: AtomicU64::default(),
            feed: ChangeBroadcast::default(),
            key_checks: key_checks::KeyChecks::default(),
            audit_capacity: capacity,
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs a write under the lock, then moves the revision if it changed
    /// anything: a reader that sees the new revision also sees the change.
    /// With `event`, records it under the same lock when the write succeeds.
    fn mutate<T>(
        &self,
        event: Option<&AuditEvent>,
        f: impl FnOnce(&mut State, &ChangeBroadcast) -> Result<T>,
    ) -> Result<T> {
        let result = {
            let mut state = self.write();
            let result = f(&mut state, &self.feed);
            if let (Ok(_), Some(event)) = (&result, event) {
                state.audit.push(event, self.audit_capacity);
            }
            result
        };
        if result.is_ok() {
            self.revision.fetch_add(1, Ordering::AcqRel);
        }
        result
    }
}

fn not_found(id: &ProfileId) -> Error {
    Error::NotFound(id.to_string())
}

impl State {
    /// The profile `id` if it belongs to `tenant`: another tenant's is as
    /// missing as one that never existed.
    fn profile(&self, tenant: &TenantId, id: &ProfileId) -> Result<&Arc<Profile>> {
        self.profiles
            .get(id)
            .filter(|p| p.tenant == *tenant)
            .ok_or_else(|| not_found(id))
    }

    /// The profile named `name` (any case) in `tenant`.
    fn named(&self, tenant: &TenantId, name: &str) -> Result<&Arc<Profile>> {
        let key = if name.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(name_key(name))
        } else {
            Cow::Borrowed(name)
        };
        self.names
            .get(tenant)
            .and_then(|names| names.get(key.as_ref()))
            // As `profile` checks. It also reads the profile before the
            // clone's atomic increment (measured: cheaper by name).
            .filter(|p| p.tenant == *tenant)
            .ok_or_else(|| Error::NotFound(name.to_owned()))
    }
}

#[async_trait]
impl AuditSink for MemoryStore {
    async fn record(&self, event: &AuditEvent) -> Result<()> {
        self.write().audit.push(event, self.audit_capacity);
        Ok(())
    }

    async fn events(&self, tenant: &TenantId, query: &AuditQuery) -> Result<Page<AuditEvent>> {
        self.read().audit.page(tenant, query)
    }
}

#[async_trait]
impl ProfileRepository for MemoryStore {
    async fn create(&self, profile: &Profile) -> Result<()> {
        self.create_with(profile, None)
    }

    async fn create_audited(&self, profile: &Profile, event: &AuditEvent) -> Result<()> {
        self.create_with(profile, Some(event))
    }

    async fn update(&self, profile: &Profile, expected_version: u64) -> Result<()> {
        self.update_with(profile, expected_version, None)
    }

    async fn update_audited(&self, p: &Profile, expected: u64, event: &AuditEvent) -> Result<()> {
        self.update_with(p, expected, Some(event))
    }

    async fn delete(&self, tenant: &TenantId, id: &ProfileId) -> Result<()> {
        self.delete_with(tenant, id, None)
    }

    async fn delete_audited(&self, t: &TenantId, id: &ProfileId, event: &AuditEvent) -> Result<()> {
        self.delete_with(t, id, Some(event))
    }

    async fn attach(&self, t: &TenantId, id: &ProfileId, d: &Dependent) -> Result<()> {
        self.attach_with(t, id, d, None)
    }

    async fn attach_audited(
        &self,
        t: &TenantId,
        id: &ProfileId,
        d: &Dependent,
        event: &AuditEvent,
    ) -> Result<()> {
        self.attach_with(t, id, d, Some(event))
    }

    async fn detach(&self, t: &TenantId, id: &ProfileId, d: &Dependent) -> Result<bool> {
        self.detach_with(t, id, d, None)
    }

    async fn detach_audited(
        &self,
        t: &TenantId,
        id: &ProfileId,
        d: &Dependent,
        event: &AuditEvent,
    ) -> Result<bool> {
        self.detach_with(t, id, d, Some(event))
    }

    async fn attach_named(
        &self,
        t: &TenantId,
        id: &ProfileId,
        d: &Dependent,
        event: Option<&AuditEvent>,
    ) -> Result<()> {
        self.attach_named_with(t, id, d, event)
    }

    async fn named_dependents(
        &self,
        tenant: &TenantId,
        kind: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Attachment>> {
        let limit = limit.clamp(1, MAX_PAGE_SIZE);
        let key = |id: &str| (tenant.clone(), kind.to_owned(), id.to_owned());
        let start = after.map_or(Bound::Included(key("")), |a| Bound::Excluded(key(a)));
        let s = self.read();
        Ok(s.claims
            .range((start, Bound::Unbounded))
            .take_while(|((t, k, _), _)| t == tenant && k == kind)
            .take(limit)
            .map(|((_, k, name), profile)| Attachment {
                dependent: Dependent::new(k.clone(), name.clone()),
                profile_id: profile.clone(),
            })
            .collect())
    }

    async fn named_dependent(&self, t: &TenantId, d: &Dependent) -> Result<Option<ProfileId>> {
        let key = (t.clone(), d.kind.clone(), d.id.clone());
        Ok(self.read().claims.get(&key).cloned())
    }

    fn audit(&self) -> Option<&dyn AuditSink> {
        Some(self)
    }

    async fn get(&self, tenant: &TenantId, id: &ProfileId) -> Result<Profile> {
        self.read().profile(tenant, id).map(|p| Profile::clone(p))
    }

    async fn get_by_name(&self, tenant: &TenantId, name: &str) -> Result<Profile> {
        self.read().named(tenant, name).map(|p| Profile::clone(p))
    }

    async fn get_shared(&self, tenant: &TenantId, profile: &ProfileRef) -> Result<Arc<Profile>> {
        let s = self.read();
        match profile {
            ProfileRef::Id(id) => s.profile(tenant, id).cloned(),
            ProfileRef::Name(name) => s.named(tenant, name).cloned(),
        }
    }

    async fn list(&self, tenant: &TenantId, query: &ListQuery) -> Result<Page<Profile>> {
        let limit = query.limit.clamp(1, MAX_PAGE_SIZE);
        let prefix = query
            .name_prefix
            .as_deref()
            .map(name_key)
            .unwrap_or_default();
        let start = match &query.after {
            Some(c) => Bound::Excluded((
                tenant.clone(),
                decode_cursor(tenant, c)?.max(prefix.clone()),
            )),
            None => Bound::Included((tenant.clone(), prefix.clone())),
        };
        let s = self.read();
        let mut items = Vec::with_capacity(limit.min(s.profiles.len()));
        let mut more = false;
        for ((t, key), id) in s.by_name.range((start, Bound::Unbounded)) {
            if t != tenant || !key.starts_with(&prefix) {
                break;
            }
            let p = &s.profiles[id];
            if query.connector.as_ref().is_some_and(|c| *c != p.connector)
                || !patchbay_core::labels::matches(&p.labels, &query.labels)
            {
                continue;
            }
            if items.len() == limit {
                more = true;
                break;
            }
            items.push(Profile::clone(p));
        }
        let next_cursor = more
            .then(|| {
                items
                    .last()
                    .map(|p: &Profile| encode_cursor(tenant, &name_key(&p.name)))
            })
            .flatten();
        Ok(Page { items, next_cursor })
    }

    async fn dependents(&self, tenant: &TenantId, id: &ProfileId) -> Result<Vec<Dependent>> {
        let s = self.read();
        s.profile(tenant, id)?;
        Ok(s.dependents
            .get(id)
            .map(|d| d.iter().cloned().collect())
            .unwrap_or_default())
    }

    async fn tenants(&self) -> Result<Vec<TenantId>> {
        let s = self.read();
        let mut tenants: Vec<TenantId> = s.by_name.keys().map(|(t, _)| t.clone()).collect();
        tenants.dedup();
        Ok(tenants)
    }

    async fn key_checks(&self) -> Result<Vec<KeyCheck>> {
        Ok(self.key_checks.all())
    }

    async fn add_key_check(&self, check: &KeyCheck) -> Result<bool> {
        Ok(self.key_checks.add(check))
    }

    async fn remove_key_check(&self, key_id: &str) -> Result<bool> {
        Ok(self.key_checks.remove(key_id))
    }

    /// Every write goes through this store, so the revision is always known.
    fn revision(&self) -> Option<u64> {
        Some(self.revision.load(Ordering::Acquire))
    }

    /// Every write goes through this store: the feed is complete.
    async fn watch(&self, tenant: &TenantId) -> Result<ProfileEvents> {
        Ok(self.feed.subscribe(tenant))
    }
}

#[cfg(test)]
mod conformance {
    patchbay_testkit::repository_suite!(async { super::MemoryStore::new() });
}
