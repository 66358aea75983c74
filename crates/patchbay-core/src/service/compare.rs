//! Checking a profile without storing it, and comparing a stored profile with
//! a desired one by value (secrets included, never logged): what declarative
//! tools (provisioning files, imports) need to be idempotent.

use secrecy::ExposeSecret;
use serde_json::Value;

use super::config::check_description;
use super::ProfileService;
use crate::error::{Result, ValidationErrors};
use crate::profile::{validate_name, NewProfile, Profile};

impl ProfileService {
    /// Validates `new` exactly as [`create`](Self::create) would, storing
    /// nothing.
    ///
    /// # Errors
    /// `UnknownConnector`; `Validation` listing every problem.
    pub fn validate(&self, new: &NewProfile) -> Result<()> {
        let reg = self.inner.registry.get(&new.connector)?;
        let mut config = new.config.clone();
        crate::input::integral_numbers(&mut config);
        let mut errors = Vec::new();
        errors.extend(validate_name(&new.name).err());
        check_description(new.description.as_deref(), &mut errors);
        self.check_config(reg, &config, &mut errors);
        ValidationErrors(errors).into_result()
    }

    /// Whether `current` already holds what `desired` describes: same
    /// connector, description and public config, and each secret equal to the
    /// stored one once opened (references compare as written, unresolved).
    /// The name is not compared. Opening is audited as `compare`.
    ///
    /// # Errors
    /// As [`validate`](Self::validate) for `desired`; `SecretUnavailable`
    /// when a stored secret cannot be opened.
    pub async fn matches(
        &self,
        current: &Profile,
        desired: &NewProfile,
        purpose: &str,
    ) -> Result<bool> {
        self.validate(desired)?;
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
