//! An in-memory [`ProfileRepository`]: the whole contract, nothing durable.
//!
//! One lock guards all state, so name uniqueness, version checks and
//! delete-versus-attach are atomic by construction. The lock is never held
//! across an `.await`.
#![warn(missing_docs)]

mod key_checks;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Bound;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use async_trait::async_trait;
use patchbay_core::profile::name_key;
use patchbay_core::repository::{decode_cursor, encode_cursor, MAX_PAGE_SIZE};
use patchbay_core::{
    ChangeBroadcast, Dependent, Error, KeyCheck, ListQuery, Page, Profile, ProfileEvent,
    ProfileEvents, ProfileId, ProfileRepository, Result,
};

/// Profiles in a `HashMap`; names in a `BTreeMap` for ordered pages and a
/// `HashMap` for lookups.
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: RwLock<State>,
    /// Moved after each successful write, once the lock is released.
    revision: AtomicU64,
    /// The change feed; sent to under the lock, so events follow write order.
    feed: ChangeBroadcast,
    key_checks: key_checks::KeyChecks,
}

#[derive(Debug, Default)]
struct State {
    /// Shared with `names`: a lookup either way is one hash.
    profiles: HashMap<ProfileId, Arc<Profile>>,
    /// Name keys in order, for pages.
    by_name: BTreeMap<String, ProfileId>,
    /// The same keys hashed, to the profiles themselves (`get_by_name` is
    /// the use path's read: one hash, no walk of string comparisons).
    names: HashMap<String, Arc<Profile>>,
    dependents: HashMap<ProfileId, BTreeSet<Dependent>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs a write under the lock, then moves the revision if it changed
    /// anything: a reader that sees the new revision also sees the change.
    fn mutate<T>(&self, f: impl FnOnce(&mut State, &ChangeBroadcast) -> Result<T>) -> Result<T> {
        let result = f(&mut self.write(), &self.feed);
        if result.is_ok() {
            self.revision.fetch_add(1, Ordering::AcqRel);
        }
        result
    }
}

fn not_found(id: &ProfileId) -> Error {
    Error::NotFound(id.to_string())
}

#[async_trait]
impl ProfileRepository for MemoryStore {
    async fn create(&self, profile: &Profile) -> Result<()> {
        let key = name_key(&profile.name);
        self.mutate(|s, feed| {
            if s.by_name.contains_key(&key) || s.profiles.contains_key(&profile.id) {
                return Err(Error::AlreadyExists {
                    name: profile.name.clone(),
                });
            }
            let stored = Arc::new(profile.clone());
            s.names.insert(key.clone(), Arc::clone(&stored));
            s.by_name.insert(key, profile.id.clone());
            s.profiles.insert(profile.id.clone(), stored);
            feed.send(ProfileEvent::Created {
                id: profile.id.clone(),
                version: profile.version,
            });
            Ok(())
        })
    }

    async fn get(&self, id: &ProfileId) -> Result<Profile> {
        self.read()
            .profiles
            .get(id)
            .map(|p| Profile::clone(p))
            .ok_or_else(|| not_found(id))
    }

    async fn get_by_name(&self, name: &str) -> Result<Profile> {
        let s = self.read();
        s.names
            .get(&name_key(name))
            .map(|p| Profile::clone(p))
            .ok_or_else(|| Error::NotFound(name.to_owned()))
    }

    async fn list(&self, query: &ListQuery) -> Result<Page<Profile>> {
        let limit = query.limit.clamp(1, MAX_PAGE_SIZE);
        let prefix = query
            .name_prefix
            .as_deref()
            .map(name_key)
            .unwrap_or_default();
        let start = match &query.after {
            Some(c) => Bound::Excluded(decode_cursor(c)?.max(prefix.clone())),
            None => Bound::Included(prefix.clone()),
        };
        let s = self.read();
        let mut items = Vec::with_capacity(limit.min(s.profiles.len()));
        let mut more = false;
        for (key, id) in s.by_name.range((start, Bound::Unbounded)) {
            if !key.starts_with(&prefix) {
                break;
            }
            let p = &s.profiles[id];
            if query.connector.as_ref().is_some_and(|c| *c != p.connector) {
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
                    .map(|p: &Profile| encode_cursor(&name_key(&p.name)))
            })
            .flatten();
        Ok(Page { items, next_cursor })
    }

    async fn update(&self, profile: &Profile, expected_version: u64) -> Result<()> {
        self.mutate(|s, feed| {
            let current = s
                .profiles
                .get(&profile.id)
                .ok_or_else(|| not_found(&profile.id))?;
            if current.version != expected_version {
                return Err(Error::VersionConflict {
                    id: profile.id.to_string(),
                    expected: expected_version,
                    actual: current.version,
                });
            }
            let (old_key, new_key) = (name_key(&current.name), name_key(&profile.name));
            if old_key != new_key {
                if s.by_name.contains_key(&new_key) {
                    return Err(Error::AlreadyExists {
                        name: profile.name.clone(),
                    });
                }
                s.by_name.remove(&old_key);
                s.names.remove(&old_key);
                s.by_name.insert(new_key.clone(), profile.id.clone());
            }
            let stored = Arc::new(profile.clone());
            s.names.insert(new_key, Arc::clone(&stored));
            s.profiles.insert(profile.id.clone(), stored);
            // A reseal keeps the version: not a change of content.
            if profile.version != expected_version {
                feed.send(ProfileEvent::Updated {
                    id: profile.id.clone(),
                    version: profile.version,
                });
            }
            Ok(())
        })
    }

    async fn delete(&self, id: &ProfileId) -> Result<()> {
        self.mutate(|s, feed| {
            if let Some(deps) = s.dependents.get(id).filter(|d| !d.is_empty()) {
                return Err(Error::InUse {
                    id: id.to_string(),
                    dependents: deps.iter().cloned().collect(),
                });
            }
            let profile = s.profiles.remove(id).ok_or_else(|| not_found(id))?;
            let key = name_key(&profile.name);
            s.names.remove(&key);
            s.by_name.remove(&key);
            s.dependents.remove(id);
            feed.send(ProfileEvent::Deleted {
                id: id.clone(),
                version: profile.version,
            });
            Ok(())
        })
    }

    async fn attach(&self, id: &ProfileId, dependent: &Dependent) -> Result<()> {
        self.mutate(|s, _| {
            if !s.profiles.contains_key(id) {
                return Err(not_found(id));
            }
            s.dependents
                .entry(id.clone())
                .or_default()
                .insert(dependent.clone());
            Ok(())
        })
    }

    async fn detach(&self, id: &ProfileId, dependent: &Dependent) -> Result<bool> {
        self.mutate(|s, _| {
            if !s.profiles.contains_key(id) {
                return Err(not_found(id));
            }
            Ok(s.dependents
                .get_mut(id)
                .is_some_and(|d| d.remove(dependent)))
        })
    }

    async fn dependents(&self, id: &ProfileId) -> Result<Vec<Dependent>> {
        let s = self.read();
        if !s.profiles.contains_key(id) {
            return Err(not_found(id));
        }
        Ok(s.dependents
            .get(id)
            .map(|d| d.iter().cloned().collect())
            .unwrap_or_default())
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
    async fn watch(&self) -> Result<ProfileEvents> {
        Ok(self.feed.subscribe())
    }
}

#[cfg(test)]
mod conformance {
    patchbay_testkit::repository_suite!(async { super::MemoryStore::new() });
}

#[cfg(test)]
mod names {
    use patchbay_core::{Error, ProfileRepository};
    use patchbay_testkit::repository::{fixture, unique};

    /// The name index holds the profiles themselves: it must follow every
    /// content update, rename and delete.
    #[tokio::test]
    async fn the_name_index_follows_every_write() {
        let repo = super::MemoryStore::new();
        let p = fixture(&unique("names"), "fake");
        repo.create(&p).await.unwrap();
        let mut v2 = p.clone();
        v2.description = Some("second".into());
        v2.version = 2;
        repo.update(&v2, 1).await.unwrap();
        assert_eq!(repo.get_by_name(&p.name).await.unwrap(), v2);
        let mut v3 = v2.clone();
        v3.name = unique("renamed");
        v3.version = 3;
        repo.update(&v3, 2).await.unwrap();
        assert!(matches!(
            repo.get_by_name(&p.name).await,
            Err(Error::NotFound(_))
        ));
        assert_eq!(repo.get_by_name(&v3.name).await.unwrap(), v3);
        assert_eq!(repo.get(&p.id).await.unwrap(), v3);
        repo.delete(&p.id).await.unwrap();
        assert!(matches!(
            repo.get_by_name(&v3.name).await,
            Err(Error::NotFound(_))
        ));
    }
}
