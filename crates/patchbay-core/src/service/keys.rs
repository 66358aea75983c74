//! Keys: the keyring checked against the store at startup, rotation
//! (reseal), retiring a key, and updates over secrets that cannot be opened.

use std::collections::BTreeSet;

use serde_json::Value;

use super::config::PlainSecrets;
use super::crud::now;
use super::ProfileService;
use crate::audit::AuditAction;
use crate::error::{Error, Result};
use crate::key_check::KeyCheckStatus;
use crate::profile::{Profile, ProfileId};
use crate::progress::Progress;
use crate::repository::{ListQuery, MAX_PAGE_SIZE};

/// What a [`reseal`](ProfileService::reseal) did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResealReport {
    /// Profiles rewritten with every secret under the active key (each one's
    /// version went up by one).
    pub resealed: usize,
    /// Profiles left as they were because a secret could not be opened.
    pub skipped: Vec<SkippedProfile>,
}

/// A profile a reseal could not rewrite. Names fields, never values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedProfile {
    /// The profile.
    pub id: ProfileId,
    /// JSON Pointers of the secrets that did not open, such as `/config/password`.
    pub fields: Vec<String>,
}

enum Resealed {
    Yes,
    NotNeeded,
    Skipped(Vec<String>),
}

impl ProfileService {
    /// Checks the keyring against the key check values the store recorded,
    /// then records the active key's check. Call it at startup (or build with
    /// [`build_checked`](crate::ProfileServiceBuilder::build_checked)): a
    /// keyring that cannot open the stored secrets is refused before it
    /// serves anything. A store with no checks yet (made before they existed)
    /// is judged by the key ids in its envelopes instead. Returns the key ids
    /// the store now records.
    ///
    /// # Errors
    /// `SecretUnavailable` on `/keyring` naming the key ids the store needs
    /// that the keyring lacks (or holds under the same id but different);
    /// `Storage`; `Unsupported` for a store that records no key checks.
    pub async fn verify_keyring(&self) -> Result<Vec<String>> {
        let sealer = &self.inner.sealer;
        let mut to_record = BTreeSet::from([sealer.active_key_id().to_owned()]);
        if self.inner.repo.key_checks().await?.is_empty() {
            let held: BTreeSet<String> = sealer.key_ids().into_iter().collect();
            let used = self.keys_in_use().await?;
            let missing: Vec<&String> = used.difference(&held).collect();
            if !missing.is_empty() {
                return Err(self.keyring_refused(&missing, &[]));
            }
            to_record.extend(used);
        }
        self.compare_checks().await?;
        for key_id in &to_record {
            if self
                .inner
                .repo
                .add_key_check(&sealer.key_check(key_id)?)
                .await?
            {
                tracing::info!(key_id = %key_id, "recorded the key check value of a sealing key");
            }
        }
        // Again: a replica with another key may have recorded its own meanwhile.
        self.compare_checks().await
    }

    async fn compare_checks(&self) -> Result<Vec<String>> {
        let checks = self.inner.repo.key_checks().await?;
        let (mut missing, mut mismatched) = (Vec::new(), Vec::new());
        for check in &checks {
            match self.inner.sealer.verify_key_check(check) {
                KeyCheckStatus::Holds => {}
                KeyCheckStatus::Missing => missing.push(&check.key_id),
                _ => mismatched.push(&check.key_id),
            }
        }
        if missing.is_empty() && mismatched.is_empty() {
            Ok(checks.into_iter().map(|c| c.key_id).collect())
        } else {
            Err(self.keyring_refused(&missing, &mismatched))
        }
    }

    fn keyring_refused(&self, missing: &[&String], mismatched: &[&String]) -> Error {
        let list = |ids: &[&String]| {
            ids.iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut why = Vec::new();
        if !missing.is_empty() {
            why.push(format!(
                "the store's secrets are sealed with key(s) {} that the keyring does not hold",
                list(missing)
            ));
        }
        if !mismatched.is_empty() {
            why.push(format!(
                "key(s) {} in the keyring are not the keys the store recorded under those ids",
                list(mismatched)
            ));
        }
        Error::SecretUnavailable {
            field: "/keyring".to_owned(),
            kind: "sealed".to_owned(),
            message: format!(
                "{} (the keyring holds {}); start with the key that sealed them, as the active or an older key",
                why.join("; "),
                self.inner.sealer.key_ids().join(", ")
            ),
        }
    }

    /// Rotation: rewrites every profile holding a secret sealed with a key
    /// other than the active one, all its secrets sealed again under the
    /// active key, as a new version (through the version check, so a
    /// concurrent update is never lost: the reseal reads again and retries).
    /// Profiles with a secret the keyring cannot open are left alone and
    /// reported. Idempotent.
    ///
    /// # Errors
    /// `Storage` when the store fails or a profile keeps changing under it.
    pub async fn reseal(&self) -> Result<ResealReport> {
        self.reseal_inner(None).await
    }

    /// [`reseal`](Self::reseal), telling `progress` how many of the profiles
    /// that need it are done (counted in a first, read-only pass).
    ///
    /// # Errors
    /// As [`reseal`](Self::reseal).
    pub async fn reseal_with_progress(&self, progress: &dyn Progress) -> Result<ResealReport> {
        self.reseal_inner(Some(progress)).await
    }

    async fn reseal_inner(&self, progress: Option<&dyn Progress>) -> Result<ResealReport> {
        let total = match progress {
            Some(progress) => {
                let sealer = &self.inner.sealer;
                let mut total = 0;
                self.each_profile(|p| {
                    total += usize::from(p.secrets.0.values().any(|e| sealer.needs_reseal(e)));
                })
                .await?;
                progress.update(0, total);
                total
            }
            None => 0,
        };
        let mut done = 0;
        let mut report = ResealReport::default();
        // Store-wide: keys are the host's, whichever tenant a profile is in.
        for tenant in self.inner.repo.tenants().await? {
            let mut query = ListQuery {
                limit: MAX_PAGE_SIZE,
                ..ListQuery::default()
            };
            loop {
                let page = self.inner.repo.list(&tenant, &query).await?;
                for profile in page.items {
                    let id = profile.id.clone();
                    match self.reseal_one(profile).await? {
                        Resealed::Yes => report.resealed += 1,
                        Resealed::NotNeeded => continue,
                        Resealed::Skipped(fields) => {
                            tracing::warn!(profile = %id, fields = ?fields, "reseal skipped a profile whose secrets cannot be opened");
                            report.skipped.push(SkippedProfile { id, fields });
                        }
                    }
                    done += 1;
                    if let Some(progress) = progress {
                        progress.update(done, total);
                    }
                }
                match page.next_cursor {
                    Some(c) => query.after = Some(c),
                    None => break,
                }
            }
        }
        Ok(report)
    }

    async fn reseal_one(&self, mut profile: Profile) -> Result<Resealed> {
        let sealer = &self.inner.sealer;
        for _ in 0..5 {
            if !profile.secrets.0.values().any(|e| sealer.needs_reseal(e)) {
                return Ok(Resealed::NotNeeded);
            }
            let mut plain = PlainSecrets::new();
            let mut failed = Vec::new();
            for (field, envelope) in &profile.secrets.0 {
                match sealer.open(&profile.id, field, envelope) {
                    Ok(value) => {
                        plain.insert(field.clone(), value);
                    }
                    Err(Error::SecretUnavailable { field, .. }) => failed.push(field),
                    Err(e) => return Err(e),
                }
            }
            if !failed.is_empty() {
                return Ok(Resealed::Skipped(failed));
            }
            let mut next = profile.clone();
            next.secrets = self.seal(&profile.id, &plain)?;
            next.version = profile.version + 1;
            next.updated_at = now();
            // The reseal is the host's, in the profile's own tenant.
            let event = self.tenant(profile.tenant.clone()).audit_event(
                AuditAction::Reseal,
                Some(&profile.id),
                Some(next.version),
                None,
            );
            match self
                .inner
                .repo
                .update_audited(&next, profile.version, &event)
                .await
            {
                Ok(()) => return Ok(Resealed::Yes),
                Err(Error::VersionConflict { .. }) => {
                    match self.inner.repo.get(&profile.tenant, &profile.id).await {
                        Ok(fresh) => profile = fresh,
                        Err(Error::NotFound(_)) => return Ok(Resealed::NotNeeded),
                        Err(e) => return Err(e),
                    }
                }
                Err(Error::NotFound(_)) => return Ok(Resealed::NotNeeded),
                Err(e) => return Err(e),
            }
        }
        Err(Error::Storage {
            message: format!("profile {} kept changing during reseal", profile.id),
            source: None,
        })
    }

    /// Retires `key_id`: forgets its key check value, so keyrings without it
    /// open the store again. Refused while any stored secret is sealed with
    /// it (reseal first) and for the active key. Returns whether a check was
    /// recorded for it.
    ///
    /// # Errors
    /// `Validation` on `/key_id` naming the profiles that still use the key,
    /// or when it is the active key; `Storage`; `Unsupported`.
    pub async fn retire_key(&self, key_id: &str) -> Result<bool> {
        if key_id == self.inner.sealer.active_key_id() {
            return Err(Error::invalid(
                "/key_id",
                format!("key {key_id} is the active key: rotate to another key first"),
            ));
        }
        let users = self.profiles_sealed_with(key_id).await?;
        if !users.is_empty() {
            let shown: Vec<&str> = users.iter().take(5).map(ProfileId::as_str).collect();
            return Err(Error::invalid(
                "/key_id",
                format!(
                    "key {key_id} still seals secrets of {} profile(s) ({}{}): reseal them first",
                    users.len(),
                    shown.join(", "),
                    if users.len() > 5 { ", …" } else { "" }
                ),
            ));
        }
        let removed = self.inner.repo.remove_key_check(key_id).await?;
        tracing::info!(key_id, removed, "retired a sealing key");
        Ok(removed)
    }

    /// The stored secrets an update keeps, opened. A secret that cannot be
    /// opened is no obstacle when the merge patch replaces (or removes) it.
    ///
    /// # Errors
    /// `SecretUnavailable` for a secret that cannot be opened and that the
    /// patch leaves in place.
    pub(super) fn open_for_patch(&self, profile: &Profile, patch: &Value) -> Result<PlainSecrets> {
        let mut plain = PlainSecrets::new();
        for (field, envelope) in &profile.secrets.0 {
            match self.inner.sealer.open(&profile.id, field, envelope) {
                Ok(value) => {
                    plain.insert(field.clone(), value);
                }
                Err(Error::SecretUnavailable { .. }) if patch.get(field).is_some() => {}
                Err(Error::SecretUnavailable {
                    field,
                    kind,
                    message,
                }) => {
                    return Err(Error::SecretUnavailable {
                        field,
                        kind,
                        message: format!("{message}; send a new value to replace it"),
                    })
                }
                Err(e) => return Err(e),
            }
        }
        Ok(plain)
    }

    /// Ids of the keys that sealed any stored secret.
    async fn keys_in_use(&self) -> Result<BTreeSet<String>> {
        let mut used = BTreeSet::new();
        self.each_profile(|p| {
            for envelope in p.secrets.0.values() {
                if let Some(kid) = self.inner.sealer.key_id_of(envelope) {
                    used.insert(kid.to_owned());
                }
            }
        })
        .await?;
        Ok(used)
    }

    async fn profiles_sealed_with(&self, key_id: &str) -> Result<Vec<ProfileId>> {
        let mut users = Vec::new();
        self.each_profile(|p| {
            let sealer = &self.inner.sealer;
            if p.secrets
                .0
                .values()
                .any(|e| sealer.key_id_of(e) == Some(key_id))
            {
                users.push(p.id.clone());
            }
        })
        .await?;
        Ok(users)
    }

    /// Every stored profile of every tenant, page by page.
    async fn each_profile(&self, mut f: impl FnMut(&Profile)) -> Result<()> {
        for tenant in self.inner.repo.tenants().await? {
            let mut query = ListQuery {
                limit: MAX_PAGE_SIZE,
                ..ListQuery::default()
            };
            loop {
                let page = self.inner.repo.list(&tenant, &query).await?;
                page.items.iter().for_each(&mut f);
                match page.next_cursor {
                    Some(c) => query.after = Some(c),
                    None => break,
                }
            }
        }
        Ok(())
    }
}
