//! Checking a profile without storing it, and comparing a stored profile with
//! a desired one by value (secrets included, never logged): what declarative
//! tools (provisioning files, imports) need to be idempotent.

use std::sync::{Arc, Weak};

use secrecy::ExposeSecret;
use serde_json::Value;

use super::config::check_description;
use super::{Inner, ProfileService};
use crate::error::{Result, ValidationErrors};
use crate::profile::{validate_name, NewProfile, Profile};

/// A [`NewProfile`] that passed [`ProfileService::check`], numbers
/// normalized: [`create_checked`](ProfileService::create_checked) stores it
/// without validating it again (a declarative tool checks a whole file before
/// it writes anything, then writes each entry).
#[derive(Clone)]
pub struct CheckedProfile {
    new: NewProfile,
    /// Checked by this service's registry and rules (its `Inner`), and
    /// whether as a provisioner (which may set reserved labels).
    by: Weak<Inner>,
    provisioning: bool,
}

impl CheckedProfile {
    /// The checked profile.
    pub fn get(&self) -> &NewProfile {
        &self.new
    }

    /// The checked profile, to change (and check again).
    pub fn into_inner(self) -> NewProfile {
        self.new
    }
}

impl std::fmt::Debug for CheckedProfile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckedProfile")
            .field("name", &self.new.name)
            .field("connector", &self.new.connector)
            .finish_non_exhaustive()
    }
}

impl ProfileService {
    /// Validates `new` exactly as [`create`](Self::create) would, storing
    /// nothing.
    ///
    /// # Errors
    /// `UnknownConnector`; `Validation` listing every problem.
    pub fn validate(&self, new: &NewProfile) -> Result<()> {
        self.check_new(&mut new.clone())
    }

    /// Validates `new` as [`create`](Self::create) would and keeps it, checked,
    /// for [`create_checked`](Self::create_checked).
    ///
    /// # Errors
    /// As [`validate`](Self::validate).
    pub fn check(&self, mut new: NewProfile) -> Result<CheckedProfile> {
        self.check_new(&mut new)?;
        Ok(CheckedProfile {
            new,
            by: Arc::downgrade(&self.inner),
            provisioning: self.provisioning,
        })
    }

    /// Whether `checked` was checked under this service's rules (a service
    /// built apart, or a provisioner's check handed to an API caller, is not).
    pub(super) fn checked_here(&self, checked: &CheckedProfile) -> bool {
        std::ptr::eq(checked.by.as_ptr(), Arc::as_ptr(&self.inner))
            && (self.provisioning || !checked.provisioning)
    }

    /// Every problem with `new`, its numbers normalized in place.
    pub(super) fn check_new(&self, new: &mut NewProfile) -> Result<()> {
        let reg = self.inner.registry.get(&new.connector)?;
        crate::input::integral_numbers(&mut new.config);
        let mut errors = Vec::new();
        errors.extend(validate_name(&new.name).err());
        check_description(new.description.as_deref(), &mut errors);
        crate::labels::validate_labels(&new.labels, &mut errors);
        self.reserved_label_errors(&Default::default(), &new.labels, &mut errors);
        self.check_config(reg, &new.config, &mut errors);
        ValidationErrors(errors).into_result()
    }

    /// Whether `current` already holds what `desired` describes: same
    /// connector, description, labels and public config, and each secret
    /// equal to the stored one once opened (references compare as written,
    /// unresolved). The name is not compared. Opening is audited as `compare`.
    ///
    /// `desired` is not validated: when it matches, it equals a stored, valid
    /// profile; when it does not, creating or updating validates it. So an
    /// unchanged entry costs a comparison, not a validation.
    ///
    /// # Errors
    /// `UnknownConnector`; `SecretUnavailable` when a stored secret cannot
    /// be opened.
    pub async fn matches(
        &self,
        current: &Profile,
        desired: &NewProfile,
        purpose: &str,
    ) -> Result<bool> {
        let reg = self.inner.registry.get(&desired.connector)?;
        let mut config = desired.config.clone();
        crate::input::integral_numbers(&mut config);
        let (public, secrets) = Self::split(reg, config);
        if current.connector != desired.connector
            || current.description != desired.description
            || current.labels != desired.labels
            || Value::Object(public) != Value::Object(current.config.clone())
            || secrets.keys().ne(current.secrets.0.keys())
        {
            return Ok(false);
        }
        if secrets.is_empty() {
            return Ok(true);
        }
        self.audit(current, "compare", purpose).await?;
        let stored = self.open_fields(current)?;
        Ok(secrets
            .iter()
            .zip(stored.iter())
            .all(|((_, a), (_, b))| a.expose_secret() == b.expose_secret()))
    }
}
