//! Create, read, update, delete, dependents.

use time::OffsetDateTime;

use super::compare::CheckedProfile;
use super::config::{check_description, rebinding_errors};
use super::ProfileService;
use crate::audit::AuditAction;
use crate::error::{Error, FieldError, Result, ValidationErrors};
use crate::input::check_line;
use crate::profile::{merge_patch, validate_name, NewProfile, Profile, ProfileId, ProfileUpdate};
use crate::registry::ConnectorInfo;
use crate::repository::{Dependent, ListQuery, Page, MAX_PAGE_SIZE};

/// Timestamps are kept to the microsecond, the finest every store can hold.
pub(super) fn now() -> OffsetDateTime {
    let t = OffsetDateTime::now_utc();
    t.replace_microsecond(t.microsecond())
        .expect("valid microsecond")
}

impl ProfileService {
    /// Every registered connector with its schema.
    pub fn connectors(&self) -> Vec<ConnectorInfo> {
        self.inner.registry.infos()
    }

    /// A page of profiles.
    ///
    /// # Errors
    /// `Validation` for a limit outside 1..=1000 or a bad cursor.
    pub async fn list(&self, query: &ListQuery) -> Result<Page<Profile>> {
        let mut errors = Vec::new();
        if query.limit == 0 || query.limit > MAX_PAGE_SIZE {
            errors.push(FieldError::new("/limit", "must be between 1 and 1000"));
        }
        let params = [
            ("/connector", &query.connector),
            ("/prefix", &query.name_prefix),
            ("/cursor", &query.after),
        ];
        for (path, value) in params {
            if let Some(value) = value {
                errors.extend(check_line(path, value).err());
            }
        }
        if query.labels.len() > crate::labels::MAX_LABELS {
            errors.push(FieldError::new("/label", "at most 16 label filters"));
        }
        for (key, value) in &query.labels {
            let bad =
                crate::labels::check_key(key).and_then(|()| crate::labels::check_value(key, value));
            if let Err(e) = bad {
                errors.push(FieldError::new("/label", e.message));
            }
        }
        ValidationErrors(errors).into_result()?;
        self.inner.repo.list(&self.tenant, query).await
    }

    /// The profile with `id`.
    ///
    /// # Errors
    /// `NotFound`.
    pub async fn get(&self, id: &ProfileId) -> Result<Profile> {
        self.inner.repo.get(&self.tenant, id).await
    }

    /// The profile named `name` (case-insensitively).
    ///
    /// # Errors
    /// `NotFound`.
    pub async fn get_by_name(&self, name: &str) -> Result<Profile> {
        // No stored profile has an invalid name; control characters and the
        // like never reach a store.
        if validate_name(name).is_err() {
            return Err(Error::NotFound(name.escape_debug().to_string()));
        }
        self.inner.repo.get_by_name(&self.tenant, name).await
    }

    /// Validates, seals and stores a new profile. Nothing is stored unless
    /// every check passes.
    ///
    /// # Errors
    /// `UnknownConnector`; `Validation` listing every problem;
    /// `AlreadyExists` when the name is taken.
    pub async fn create(&self, new: NewProfile) -> Result<Profile> {
        let result = self.create_inner(new).await;
        if let Err(e) = &result {
            self.audit_failure(AuditAction::Create, None, None, e).await;
        }
        result
    }

    /// Stores a profile [`check`](Self::check)ed earlier, without
    /// validating it again (it is, when checked by another service or by a
    /// provisioner for a non-provisioner).
    ///
    /// # Errors
    /// `AlreadyExists` when the name is taken; as [`create`](Self::create)
    /// when it is validated again.
    pub async fn create_checked(&self, checked: CheckedProfile) -> Result<Profile> {
        if !self.checked_here(&checked) {
            return self.create(checked.into_inner()).await;
        }
        let result = self.store_new(checked.into_inner()).await;
        if let Err(e) = &result {
            self.audit_failure(AuditAction::Create, None, None, e).await;
        }
        result
    }

    async fn create_inner(&self, mut new: NewProfile) -> Result<Profile> {
        self.check_new(&mut new)?;
        self.store_new(new).await
    }

    /// Seals and stores `new`, already checked.
    async fn store_new(&self, new: NewProfile) -> Result<Profile> {
        let reg = self.inner.registry.get(&new.connector)?;
        let id = ProfileId::generate();
        let (config, secrets) = Self::split(reg, new.config);
        let now = now();
        let profile = Profile {
            secrets: self.seal(&id, &secrets)?,
            id,
            tenant: self.tenant.clone(),
            name: new.name,
            connector: new.connector,
            description: new.description,
            config,
            labels: new.labels,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        let event = self.audit_event(AuditAction::Create, Some(&profile.id), Some(1), None);
        self.inner.repo.create_audited(&profile, &event).await?;
        tracing::info!(tenant = %self.tenant, profile = %profile.id, connector = %profile.connector, "profile created");
        Ok(profile)
    }

    /// Applies a partial update. An omitted secret keeps its stored value,
    /// unless the update changes where secrets go (a connector's
    /// [`endpoint_fields`](crate::Connector::endpoint_fields)): then every
    /// kept secret must be given again, or the update is refused.
    ///
    /// # Errors
    /// `NotFound`; `Validation`; `AlreadyExists` on a rename collision;
    /// `VersionConflict` when `update.version` is not the stored version or
    /// the profile changed concurrently.
    pub async fn update(&self, id: &ProfileId, update: ProfileUpdate) -> Result<Profile> {
        let result = self.update_inner(id, update).await;
        if let Err(e) = &result {
            self.audit_failure(AuditAction::Update, Some(id), None, e)
                .await;
        }
        result
    }

    async fn update_inner(&self, id: &ProfileId, update: ProfileUpdate) -> Result<Profile> {
        let current = self.inner.repo.get(&self.tenant, id).await?;
        if let Some(expected) = update.version {
            if expected != current.version {
                return Err(Error::VersionConflict {
                    id: id.to_string(),
                    expected,
                    actual: current.version,
                });
            }
        }
        self.check_managed(&current)?;
        let reg = self.inner.registry.get(&current.connector)?;
        let mut errors = Vec::new();
        if let Some(name) = &update.name {
            errors.extend(validate_name(name).err());
        }
        if let Some(description) = &update.description {
            check_description(description.as_deref(), &mut errors);
        }
        let mut next = current.clone();
        if let Some(patch) = &update.labels {
            next.labels = crate::labels::patch_labels(&current.labels, patch, &mut errors);
            crate::labels::validate_labels(&next.labels, &mut errors);
            self.reserved_label_errors(&current.labels, &next.labels, &mut errors);
        }
        if let Some(patch) = &update.config {
            if patch.is_object() {
                let mut full = Self::join(&current.config, &self.open_for_patch(&current, patch)?);
                merge_patch(&mut full, patch);
                crate::input::integral_numbers(&mut full);
                self.check_config(reg, &full, &mut errors);
                // A stored secret never follows the profile to a new host.
                errors.extend(rebinding_errors(reg, &current.config, &full, patch));
                if errors.is_empty() {
                    let (config, secrets) = Self::split(reg, full);
                    next.config = config;
                    next.secrets = self.seal(id, &secrets)?;
                }
            } else {
                errors.push(FieldError::new(
                    "/config",
                    "must be an object (a JSON merge patch)",
                ));
            }
        }
        ValidationErrors(errors).into_result()?;
        if let Some(name) = update.name {
            next.name = name;
        }
        if let Some(description) = update.description {
            next.description = description;
        }
        next.version = current.version + 1;
        next.updated_at = now();
        let event = self.audit_event(AuditAction::Update, Some(id), Some(next.version), None);
        self.inner
            .repo
            .update_audited(&next, current.version, &event)
            .await?;
        tracing::info!(tenant = %self.tenant, profile = %id, version = next.version, "profile updated");
        Ok(next)
    }

    /// Deletes a profile.
    ///
    /// # Errors
    /// `NotFound`; `InUse` listing the dependents.
    pub async fn delete(&self, id: &ProfileId) -> Result<()> {
        let result = self.delete_inner(id).await;
        if let Err(e) = &result {
            self.audit_failure(AuditAction::Delete, Some(id), None, e)
                .await;
        }
        result
    }

    async fn delete_inner(&self, id: &ProfileId) -> Result<()> {
        // Read first for the event's version (the last one the profile had).
        let current = self.inner.repo.get(&self.tenant, id).await?;
        self.check_managed(&current)?;
        let version = current.version;
        let event = self.audit_event(AuditAction::Delete, Some(id), Some(version), None);
        self.inner
            .repo
            .delete_audited(&self.tenant, id, &event)
            .await?;
        tracing::info!(tenant = %self.tenant, profile = %id, "profile deleted");
        Ok(())
    }

    /// Records that `dependent` uses the profile; it cannot be deleted until
    /// every dependent is detached.
    ///
    /// # Errors
    /// `NotFound`; `Validation` for an empty or over-long kind or id.
    pub async fn attach(&self, id: &ProfileId, dependent: &Dependent) -> Result<()> {
        let event = self.audit_event(AuditAction::Attach, Some(id), None, None);
        let result = match check_dependent(dependent) {
            Ok(()) => {
                self.inner
                    .repo
                    .attach_audited(&self.tenant, id, dependent, &event)
                    .await
            }
            Err(e) => Err(e),
        };
        if let Err(e) = &result {
            self.audit_failure(AuditAction::Attach, Some(id), None, e)
                .await;
        }
        result
    }

    /// Removes a dependent; returns whether it was attached.
    ///
    /// # Errors
    /// `NotFound` for an unknown profile.
    pub async fn detach(&self, id: &ProfileId, dependent: &Dependent) -> Result<bool> {
        let event = self.audit_event(AuditAction::Detach, Some(id), None, None);
        let result = match check_dependent(dependent) {
            Ok(()) => {
                self.inner
                    .repo
                    .detach_audited(&self.tenant, id, dependent, &event)
                    .await
            }
            Err(e) => Err(e),
        };
        if let Err(e) = &result {
            self.audit_failure(AuditAction::Detach, Some(id), None, e)
                .await;
        }
        result
    }

    /// What depends on the profile.
    ///
    /// # Errors
    /// `NotFound`.
    pub async fn dependents(&self, id: &ProfileId) -> Result<Vec<Dependent>> {
        self.inner.repo.dependents(&self.tenant, id).await
    }
}

pub(super) fn check_dependent(d: &Dependent) -> Result<()> {
    let mut errors = Vec::new();
    for (path, v) in [("/kind", &d.kind), ("/id", &d.id)] {
        if v.is_empty() || v.len() > 128 {
            errors.push(FieldError::new(path, "must be 1 to 128 characters"));
        }
        errors.extend(check_line(path, v).err());
    }
    ValidationErrors(errors).into_result()
}
