//! The testkit proves its own cases can fail: a reference store with one
//! deliberate flaw at a time (offset pagination, a cursor on a full last
//! page, no limit cap, ids not unique, no version check, a same-version
//! write refused, check-then-act writes, tenants ignored, cursors not bound
//! to their tenant, a refused named claim left attached) must fail the case written for that
//! flaw, and the same store without flaws must pass every case.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::future::Future;
use std::sync::{Arc, Mutex};

use patchbay_core::profile::name_key;
use patchbay_core::repository::{decode_cursor, encode_cursor, MAX_PAGE_SIZE};
use patchbay_core::{
    async_trait, Dependent, Error, ListQuery, Page, Profile, ProfileId, ProfileRepository, Result,
    TenantId,
};
use patchbay_testkit::repository as cases;

#[derive(Debug, Default, Clone, Copy)]
struct Flaws {
    /// The cursor is a row offset, not the last key.
    offset_pages: bool,
    /// A full page always gets a cursor, so an exact multiple ends with an
    /// empty page.
    cursor_on_full_page: bool,
    /// `limit` is used as given.
    no_limit_cap: bool,
    /// A taken id is overwritten instead of refused.
    id_not_unique: bool,
    /// `update` ignores `expected_version`.
    no_version_check: bool,
    /// `update` refuses a write whose new version equals the stored one.
    same_version_conflict: bool,
    /// Uniqueness is checked, the lock released, then the write done.
    check_then_act: bool,
    /// One namespace for all: the tenant given is never compared.
    ignores_tenant: bool,
    /// Cursors carry no tenant (made and read as the default tenant's).
    cursor_unbound: bool,
    /// A refused named claim leaves its attachment behind.
    claim_keeps_attachment: bool,
}

/// Profiles in a vector under one lock (when it does not release it).
#[derive(Default)]
struct Broken {
    flaws: Flaws,
    profiles: Mutex<Vec<Profile>>,
    dependents: Mutex<HashMap<ProfileId, BTreeSet<Dependent>>>,
    /// Claimed names: `(tenant, kind, id)` → profile.
    names: Mutex<BTreeMap<(TenantId, String, String), ProfileId>>,
    /// Key check values, kept soundly: no case here breaks them.
    key_checks: Mutex<BTreeMap<String, patchbay_core::KeyCheck>>,
}

impl Broken {
    fn new(flaws: Flaws) -> Self {
        Self {
            flaws,
            ..Self::default()
        }
    }

    fn rows(&self) -> std::sync::MutexGuard<'_, Vec<Profile>> {
        self.profiles.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether `p` is visible to `tenant`.
    fn mine(&self, p: &Profile, tenant: &TenantId) -> bool {
        self.flaws.ignores_tenant || p.tenant == *tenant
    }

    /// The key of a dependent's name: one namespace when tenants are ignored.
    fn name_of(&self, tenant: &TenantId, d: &Dependent) -> (TenantId, String, String) {
        let t = match self.flaws.ignores_tenant {
            true => TenantId::default(),
            false => tenant.clone(),
        };
        (t, d.kind.clone(), d.id.clone())
    }

    fn name_taken(&self, tenant: &TenantId, name: &str) -> bool {
        self.rows()
            .iter()
            .any(|p| self.mine(p, tenant) && name_key(&p.name) == name_key(name))
    }

    fn exists(&self, tenant: &TenantId, id: &ProfileId) -> Result<()> {
        match self
            .rows()
            .iter()
            .any(|p| p.id == *id && self.mine(p, tenant))
        {
            true => Ok(()),
            false => Err(not_found(id)),
        }
    }

    /// What `update` checks before it writes.
    fn check_update(&self, rows: &[Profile], p: &Profile, expected: u64) -> Result<()> {
        let current = rows
            .iter()
            .find(|r| r.id == p.id && self.mine(r, &p.tenant))
            .ok_or_else(|| not_found(&p.id))?;
        let version_ok = self.flaws.no_version_check || current.version == expected;
        let refused_same = self.flaws.same_version_conflict && p.version == current.version;
        if !version_ok || refused_same {
            return Err(Error::VersionConflict {
                id: p.id.to_string(),
                expected,
                actual: current.version,
            });
        }
        let taken = rows.iter().any(|r| {
            r.id != p.id && self.mine(r, &p.tenant) && name_key(&r.name) == name_key(&p.name)
        });
        if taken {
            return Err(Error::AlreadyExists {
                name: p.name.clone(),
            });
        }
        Ok(())
    }
}

fn not_found(id: &ProfileId) -> Error {
    Error::NotFound(id.to_string())
}

#[async_trait]
impl ProfileRepository for Broken {
    async fn create(&self, p: &Profile) -> Result<()> {
        if self.flaws.check_then_act {
            if self.name_taken(&p.tenant, &p.name) {
                return Err(Error::AlreadyExists {
                    name: p.name.clone(),
                });
            }
            tokio::task::yield_now().await;
        }
        let mut rows = self.rows();
        let name_taken = rows
            .iter()
            .any(|r| self.mine(r, &p.tenant) && name_key(&r.name) == name_key(&p.name));
        if !self.flaws.check_then_act && name_taken {
            return Err(Error::AlreadyExists {
                name: p.name.clone(),
            });
        }
        if let Some(i) = rows.iter().position(|r| r.id == p.id) {
            if !self.flaws.id_not_unique {
                return Err(Error::AlreadyExists {
                    name: p.name.clone(),
                });
            }
            rows.remove(i);
        }
        rows.push(p.clone());
        Ok(())
    }

    async fn get(&self, tenant: &TenantId, id: &ProfileId) -> Result<Profile> {
        let rows = self.rows();
        rows.iter()
            .find(|p| p.id == *id && self.mine(p, tenant))
            .cloned()
            .ok_or_else(|| not_found(id))
    }

    async fn get_by_name(&self, tenant: &TenantId, name: &str) -> Result<Profile> {
        let rows = self.rows();
        rows.iter()
            .find(|p| self.mine(p, tenant) && name_key(&p.name) == name_key(name))
            .cloned()
            .ok_or_else(|| Error::NotFound(name.to_owned()))
    }

    async fn list(&self, tenant: &TenantId, q: &ListQuery) -> Result<Page<Profile>> {
        let cursor_tenant = match self.flaws.cursor_unbound {
            true => TenantId::default(),
            false => tenant.clone(),
        };
        let limit = if self.flaws.no_limit_cap {
            q.limit.max(1)
        } else {
            q.limit.clamp(1, MAX_PAGE_SIZE)
        };
        let prefix = q.name_prefix.as_deref().map(name_key).unwrap_or_default();
        let mut rows: Vec<Profile> = self
            .rows()
            .iter()
            .filter(|p| self.mine(p, tenant) && name_key(&p.name).starts_with(&prefix))
            .filter(|p| q.connector.as_ref().is_none_or(|c| *c == p.connector))
            .filter(|p| patchbay_core::labels::matches(&p.labels, &q.labels))
            .cloned()
            .collect();
        rows.sort_by_key(|p| name_key(&p.name));
        let after = q
            .after
            .as_deref()
            .map(|c| decode_cursor(&cursor_tenant, c))
            .transpose()?;
        let start = match (&after, self.flaws.offset_pages) {
            (None, _) => 0,
            (Some(offset), true) => offset
                .parse()
                .map_err(|_| Error::invalid("/cursor", "not an offset"))?,
            (Some(key), false) => rows.partition_point(|p| name_key(&p.name) <= *key),
        };
        let rest = rows.get(start..).unwrap_or_default();
        let items: Vec<Profile> = rest.iter().take(limit).cloned().collect();
        let more = if self.flaws.cursor_on_full_page {
            items.len() == limit
        } else {
            rest.len() > limit
        };
        let next_cursor = more.then(|| match self.flaws.offset_pages {
            true => encode_cursor(&cursor_tenant, &(start + items.len()).to_string()),
            false => encode_cursor(&cursor_tenant, &name_key(&items.last().expect("more").name)),
        });
        Ok(Page { items, next_cursor })
    }

    async fn update(&self, p: &Profile, expected_version: u64) -> Result<()> {
        if self.flaws.check_then_act {
            self.check_update(&self.rows(), p, expected_version)?;
            tokio::task::yield_now().await;
        }
        let mut rows = self.rows();
        if !self.flaws.check_then_act {
            self.check_update(&rows, p, expected_version)?;
        }
        let row = rows
            .iter_mut()
            .find(|r| r.id == p.id)
            .ok_or_else(|| not_found(&p.id))?;
        // The stored tenant stays: only the content is the caller's.
        let tenant = row.tenant.clone();
        *row = Profile {
            tenant,
            ..p.clone()
        };
        Ok(())
    }

    async fn delete(&self, tenant: &TenantId, id: &ProfileId) -> Result<()> {
        let mut deps = self.dependents.lock().unwrap();
        self.exists(tenant, id)?;
        if let Some(d) = deps.get(id).filter(|d| !d.is_empty()) {
            return Err(Error::InUse {
                id: id.to_string(),
                dependents: d.iter().cloned().collect(),
            });
        }
        let mut rows = self.rows();
        let i = rows
            .iter()
            .position(|p| p.id == *id)
            .ok_or_else(|| not_found(id))?;
        rows.remove(i);
        deps.remove(id);
        Ok(())
    }

    async fn attach(&self, tenant: &TenantId, id: &ProfileId, d: &Dependent) -> Result<()> {
        let mut deps = self.dependents.lock().unwrap();
        self.exists(tenant, id)?;
        deps.entry(id.clone()).or_default().insert(d.clone());
        Ok(())
    }

    async fn detach(&self, tenant: &TenantId, id: &ProfileId, d: &Dependent) -> Result<bool> {
        let mut deps = self.dependents.lock().unwrap();
        self.exists(tenant, id)?;
        let detached = deps.get_mut(id).is_some_and(|s| s.remove(d));
        let mut names = self.names.lock().unwrap();
        let key = self.name_of(tenant, d);
        if detached && names.get(&key) == Some(id) {
            names.remove(&key);
        }
        Ok(detached)
    }

    async fn attach_named(
        &self,
        tenant: &TenantId,
        id: &ProfileId,
        d: &Dependent,
        _event: Option<&patchbay_core::AuditEvent>,
    ) -> Result<()> {
        let key = self.name_of(tenant, d);
        let taken = || Error::AlreadyExists { name: d.id.clone() };
        if self.flaws.check_then_act {
            if self.names.lock().unwrap().contains_key(&key) {
                return Err(taken());
            }
            tokio::task::yield_now().await;
        }
        let mut deps = self.dependents.lock().unwrap();
        self.exists(tenant, id)?;
        let mut names = self.names.lock().unwrap();
        if self.flaws.claim_keeps_attachment {
            deps.entry(id.clone()).or_default().insert(d.clone());
        }
        if !self.flaws.check_then_act && names.contains_key(&key) {
            return Err(taken());
        }
        names.insert(key, id.clone());
        deps.entry(id.clone()).or_default().insert(d.clone());
        Ok(())
    }

    async fn named_dependents(
        &self,
        tenant: &TenantId,
        kind: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<patchbay_core::Attachment>> {
        let names = self.names.lock().unwrap();
        let start = self.name_of(tenant, &Dependent::new(kind, ""));
        Ok(names
            .range(start.clone()..)
            .take_while(|((t, k, _), _)| (t, k.as_str()) == (&start.0, kind))
            .filter(|((_, _, id), _)| after.is_none_or(|a| id.as_str() > a))
            .take(limit.min(MAX_PAGE_SIZE))
            .map(|((_, k, id), p)| patchbay_core::Attachment {
                dependent: Dependent::new(k.clone(), id.clone()),
                profile_id: p.clone(),
            })
            .collect())
    }

    async fn named_dependent(&self, tenant: &TenantId, d: &Dependent) -> Result<Option<ProfileId>> {
        let key = self.name_of(tenant, d);
        Ok(self.names.lock().unwrap().get(&key).cloned())
    }

    async fn tenants(&self) -> Result<Vec<TenantId>> {
        let set: BTreeSet<TenantId> = self.rows().iter().map(|p| p.tenant.clone()).collect();
        Ok(set.into_iter().collect())
    }

    async fn key_checks(&self) -> Result<Vec<patchbay_core::KeyCheck>> {
        Ok(self.key_checks.lock().unwrap().values().cloned().collect())
    }

    async fn add_key_check(&self, check: &patchbay_core::KeyCheck) -> Result<bool> {
        let mut all = self.key_checks.lock().unwrap();
        if all.contains_key(&check.key_id) {
            return Ok(false);
        }
        all.insert(check.key_id.clone(), check.clone());
        Ok(true)
    }

    async fn remove_key_check(&self, key_id: &str) -> Result<bool> {
        Ok(self.key_checks.lock().unwrap().remove(key_id).is_some())
    }

    async fn dependents(&self, tenant: &TenantId, id: &ProfileId) -> Result<Vec<Dependent>> {
        let deps = self.dependents.lock().unwrap();
        self.exists(tenant, id)?;
        Ok(deps
            .get(id)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default())
    }
}

/// Runs a case on its own task: `true` when it passed, `false` when it
/// panicked (a contract violation found).
async fn passes<F: Future<Output = ()> + Send + 'static>(case: F) -> bool {
    match tokio::spawn(case).await {
        Ok(()) => true,
        Err(e) if e.is_panic() => false,
        Err(e) => panic!("the case did not run: {e}"),
    }
}

fn store(flaws: Flaws) -> Arc<Broken> {
    Arc::new(Broken::new(flaws))
}

/// One case against one flaw: the case must fail on the flawed store and
/// pass on the sound one. The current-thread runtime makes interleavings at
/// `yield_now` deterministic, so the racy flaws lose every time.
macro_rules! must_catch {
    ($test:ident, $flaws:expr, |$repo:ident| $case:expr) => {
        #[tokio::test]
        async fn $test() {
            let sound = store(Flaws::default());
            let $repo = sound.clone();
            assert!(
                passes(async move { $case }).await,
                "the case fails on the sound store"
            );
            let flawed = store($flaws);
            let $repo = flawed.clone();
            assert!(
                !passes(async move { $case }).await,
                "the case missed the flaw {:?}",
                $flaws
            );
        }
    };
}

must_catch!(
    offset_pagination_is_caught,
    Flaws {
        offset_pages: true,
        ..Flaws::default()
    },
    |r| cases::list_keyset_survives_writes_between_pages(&*r).await
);

must_catch!(
    a_cursor_on_the_last_full_page_is_caught,
    Flaws {
        cursor_on_full_page: true,
        ..Flaws::default()
    },
    |r| cases::list_exact_multiple_pages(&*r).await
);

must_catch!(
    an_uncapped_limit_is_caught,
    Flaws {
        no_limit_cap: true,
        ..Flaws::default()
    },
    |r| cases::list_caps_limit_at_max_page_size(&*r).await
);

must_catch!(
    a_reused_id_is_caught,
    Flaws {
        id_not_unique: true,
        ..Flaws::default()
    },
    |r| cases::duplicate_id_is_refused(&*r).await
);

must_catch!(
    a_missing_version_check_is_caught,
    Flaws {
        no_version_check: true,
        ..Flaws::default()
    },
    |r| cases::update_checks_version(&*r).await
);

must_catch!(
    a_missing_version_check_is_caught_at_the_same_version,
    Flaws {
        no_version_check: true,
        ..Flaws::default()
    },
    |r| cases::same_version_write(&*r).await
);

must_catch!(
    a_refused_same_version_write_is_caught,
    Flaws {
        same_version_conflict: true,
        ..Flaws::default()
    },
    |r| cases::same_version_write(&*r).await
);

must_catch!(
    a_create_rename_race_is_caught,
    Flaws {
        check_then_act: true,
        ..Flaws::default()
    },
    |r| cases::create_races_rename(r, 5).await
);

must_catch!(
    a_create_create_race_is_caught,
    Flaws {
        check_then_act: true,
        ..Flaws::default()
    },
    |r| cases::concurrent_creates_one_wins(r).await
);

must_catch!(
    a_shared_namespace_is_caught_by_names,
    Flaws {
        ignores_tenant: true,
        ..Flaws::default()
    },
    |r| cases::same_name_in_two_tenants(&*r).await
);

must_catch!(
    a_shared_namespace_is_caught_by_ids,
    Flaws {
        ignores_tenant: true,
        ..Flaws::default()
    },
    |r| cases::other_tenants_profiles_are_not_found(&*r).await
);

must_catch!(
    a_shared_namespace_is_caught_by_lists,
    Flaws {
        ignores_tenant: true,
        ..Flaws::default()
    },
    |r| cases::lists_and_cursors_stay_in_their_tenant(&*r).await
);

must_catch!(
    a_cursor_valid_in_every_tenant_is_caught,
    Flaws {
        cursor_unbound: true,
        ..Flaws::default()
    },
    |r| cases::lists_and_cursors_stay_in_their_tenant(&*r).await
);

must_catch!(
    a_named_claim_race_is_caught,
    Flaws {
        check_then_act: true,
        ..Flaws::default()
    },
    |r| cases::concurrent_named_claims_one_wins(r).await
);

must_catch!(
    a_refused_claim_left_attached_is_caught,
    Flaws {
        claim_keeps_attachment: true,
        ..Flaws::default()
    },
    |r| cases::named_dependents_claim_names(&*r).await
);

must_catch!(
    a_shared_namespace_is_caught_by_named_dependents,
    Flaws {
        ignores_tenant: true,
        ..Flaws::default()
    },
    |r| cases::named_dependents_claim_names(&*r).await
);

/// The sound reference store passes the whole suite: the flaws above are
/// the only reason those cases fail.
mod sound {
    patchbay_testkit::repository_suite!(async { super::Broken::new(super::Flaws::default()) });
}
