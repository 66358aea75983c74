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
use crate::registry::Registered;

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
        self.inner.registry.get(&desired.connector)?;
        if current.description != desired.description || current.labels != desired.labels {
            return Ok(false);
        }
        self.matches_config(current, &desired.connector, &desired.config, purpose)
            .await
    }

    /// Whether `current` is a `connector` profile holding `config` as a
    /// create would have stored it (whole floats as integers, secrets
    /// sealed): the same public fields, and each secret equal once opened
    /// (audited as `compare`). Compares in place, copying nothing. An unknown
    /// connector, or a secret that does not open, does not match.
    ///
    /// # Errors
    /// `Storage` when the opening cannot be recorded.
    pub async fn matches_config(
        &self,
        current: &Profile,
        connector: &str,
        config: &Value,
        purpose: &str,
    ) -> Result<bool> {
        let found = self
            .matches_configs(&[(current, connector, config)], purpose)
            .await?;
        Ok(found[0])
    }

    /// [`matches_config`](Self::matches_config) for many profiles, the
    /// openings recorded in one batch ([`record_all`](crate::AuditSink::record_all): one
    /// transaction where the store keeps its trail). In order; an item whose
    /// connector is unknown or whose secrets do not open does not match.
    ///
    /// # Errors
    /// `Storage` when the openings cannot be recorded.
    pub async fn matches_configs(
        &self,
        items: &[(&Profile, &str, &Value)],
        purpose: &str,
    ) -> Result<Vec<bool>> {
        let public: Vec<Option<Vec<(&String, &String)>>> = items
            .iter()
            .map(|(current, connector, config)| {
                let reg = self.inner.registry.get(connector).ok()?;
                public_match(reg, current, connector, config)
            })
            .collect();
        let opening: Vec<&Profile> = items
            .iter()
            .zip(&public)
            .filter(|(_, p)| p.as_ref().is_some_and(|s| !s.is_empty()))
            .map(|((current, _, _), _)| *current)
            .collect();
        if !opening.is_empty() {
            self.audit_openings(&opening, purpose).await?;
        }
        Ok(items
            .iter()
            .zip(public)
            .map(|((current, _, _), secrets)| match secrets {
                None => false,
                Some(secrets) if secrets.is_empty() => true,
                Some(secrets) => self.open_fields(current).is_ok_and(|stored| {
                    secrets.iter().all(|(f, want)| {
                        stored
                            .get(*f)
                            .is_some_and(|have| have.expose_secret() == want.as_str())
                    })
                }),
            })
            .collect())
    }
}

/// The secrets to compare when `config`'s public fields equal `current`'s
/// (and the secret fields are the same); `None` when they differ.
fn public_match<'a>(
    reg: &Registered,
    current: &'a Profile,
    connector: &str,
    config: &'a Value,
) -> Option<Vec<(&'a String, &'a String)>> {
    let map = config.as_object()?;
    if current.connector != connector {
        return None;
    }
    // As `split` would: string values of secret fields are sealed.
    let mut secrets = Vec::new();
    let mut public = 0;
    for (field, want) in map {
        match want {
            Value::String(s) if reg.schema.is_secret(field) => secrets.push((field, s)),
            _ => match current.config.get(field) {
                Some(have) if same(have, want) => public += 1,
                _ => return None,
            },
        }
    }
    let same_fields = public == current.config.len()
        && secrets.len() == current.secrets.0.len()
        && secrets
            .iter()
            .all(|(f, _)| current.secrets.0.contains_key(*f));
    same_fields.then_some(secrets)
}

/// `have` (as stored: whole floats made integers) equals `want` as written.
fn same(have: &Value, want: &Value) -> bool {
    match (have, want) {
        (Value::Number(_), Value::Number(n)) if n.is_f64() => {
            let mut want = want.clone();
            crate::input::integral_numbers(&mut want);
            *have == want
        }
        (Value::Array(h), Value::Array(w)) => {
            h.len() == w.len() && h.iter().zip(w).all(|(a, b)| same(a, b))
        }
        (Value::Object(h), Value::Object(w)) => {
            h.len() == w.len() && w.iter().all(|(k, b)| h.get(k).is_some_and(|a| same(a, b)))
        }
        _ => have == want,
    }
}
