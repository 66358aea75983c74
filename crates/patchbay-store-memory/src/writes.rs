//! The writes, each one step under the store's lock: the contract's checks,
//! the change, the feed's event and (when given) the audit event together.

use std::sync::Arc;

use patchbay_core::profile::name_key;
use patchbay_core::{
    AuditEvent, Dependent, Error, Profile, ProfileEvent, ProfileId, Result, TenantId,
};

use crate::{not_found, MemoryStore, State};

impl State {
    /// Drops `(tenant, name key)` from the hashed names (and the tenant's
    /// map when it empties).
    fn unname(&mut self, (tenant, key): &(TenantId, String)) {
        if let Some(names) = self.names.get_mut(tenant) {
            names.remove(key);
            if names.is_empty() {
                self.names.remove(tenant);
            }
        }
    }
}

/// The writes, each under the lock; with an event, it is recorded there too.
impl MemoryStore {
    pub(crate) fn create_with(&self, profile: &Profile, event: Option<&AuditEvent>) -> Result<()> {
        let key = (profile.tenant.clone(), name_key(&profile.name));
        self.mutate(event, |s, feed| {
            if s.by_name.contains_key(&key) || s.profiles.contains_key(&profile.id) {
                return Err(Error::AlreadyExists {
                    name: profile.name.clone(),
                });
            }
            let stored = Arc::new(profile.clone());
            s.names
                .entry(key.0.clone())
                .or_default()
                .insert(key.1.clone(), Arc::clone(&stored));
            s.by_name.insert(key, profile.id.clone());
            s.profiles.insert(profile.id.clone(), stored);
            feed.send(
                &profile.tenant,
                ProfileEvent::Created {
                    id: profile.id.clone(),
                    version: profile.version,
                },
            );
            Ok(())
        })
    }

    pub(crate) fn update_with(
        &self,
        profile: &Profile,
        expected_version: u64,
        event: Option<&AuditEvent>,
    ) -> Result<()> {
        self.mutate(event, |s, feed| {
            let current = s.profile(&profile.tenant, &profile.id)?;
            if current.version != expected_version {
                return Err(Error::VersionConflict {
                    id: profile.id.to_string(),
                    expected: expected_version,
                    actual: current.version,
                });
            }
            let t = &profile.tenant;
            let old_key = (t.clone(), name_key(&current.name));
            let new_key = (t.clone(), name_key(&profile.name));
            if old_key != new_key {
                if s.by_name.contains_key(&new_key) {
                    return Err(Error::AlreadyExists {
                        name: profile.name.clone(),
                    });
                }
                s.by_name.remove(&old_key);
                s.by_name.insert(new_key.clone(), profile.id.clone());
                s.unname(&old_key);
            }
            let stored = Arc::new(profile.clone());
            s.names
                .entry(new_key.0)
                .or_default()
                .insert(new_key.1, Arc::clone(&stored));
            s.profiles.insert(profile.id.clone(), stored);
            // A reseal keeps the version: not a change of content.
            if profile.version != expected_version {
                feed.send(
                    &profile.tenant,
                    ProfileEvent::Updated {
                        id: profile.id.clone(),
                        version: profile.version,
                    },
                );
            }
            Ok(())
        })
    }

    pub(crate) fn delete_with(
        &self,
        tenant: &TenantId,
        id: &ProfileId,
        event: Option<&AuditEvent>,
    ) -> Result<()> {
        self.mutate(event, |s, feed| {
            s.profile(tenant, id)?;
            if let Some(deps) = s.dependents.get(id).filter(|d| !d.is_empty()) {
                return Err(Error::InUse {
                    id: id.to_string(),
                    dependents: deps.iter().cloned().collect(),
                });
            }
            let profile = s.profiles.remove(id).ok_or_else(|| not_found(id))?;
            let key = (tenant.clone(), name_key(&profile.name));
            s.by_name.remove(&key);
            s.unname(&key);
            s.dependents.remove(id);
            feed.send(
                tenant,
                ProfileEvent::Deleted {
                    id: id.clone(),
                    version: profile.version,
                },
            );
            Ok(())
        })
    }

    pub(crate) fn attach_with(
        &self,
        tenant: &TenantId,
        id: &ProfileId,
        dependent: &Dependent,
        event: Option<&AuditEvent>,
    ) -> Result<()> {
        self.mutate(event, |s, _| {
            s.profile(tenant, id)?;
            s.dependents
                .entry(id.clone())
                .or_default()
                .insert(dependent.clone());
            Ok(())
        })
    }

    pub(crate) fn detach_with(
        &self,
        tenant: &TenantId,
        id: &ProfileId,
        dependent: &Dependent,
        event: Option<&AuditEvent>,
    ) -> Result<bool> {
        self.mutate(event, |s, _| {
            s.profile(tenant, id)?;
            let detached = s
                .dependents
                .get_mut(id)
                .is_some_and(|d| d.remove(dependent));
            let key = (tenant.clone(), dependent.kind.clone(), dependent.id.clone());
            if detached && s.claims.get(&key) == Some(id) {
                s.claims.remove(&key);
            }
            Ok(detached)
        })
    }

    pub(crate) fn attach_named_with(
        &self,
        tenant: &TenantId,
        id: &ProfileId,
        dependent: &Dependent,
        event: Option<&AuditEvent>,
    ) -> Result<()> {
        self.mutate(event, |s, _| {
            s.profile(tenant, id)?;
            let key = (tenant.clone(), dependent.kind.clone(), dependent.id.clone());
            if s.claims.contains_key(&key) {
                return Err(Error::AlreadyExists {
                    name: dependent.id.clone(),
                });
            }
            s.claims.insert(key, id.clone());
            s.dependents
                .entry(id.clone())
                .or_default()
                .insert(dependent.clone());
            Ok(())
        })
    }
}
