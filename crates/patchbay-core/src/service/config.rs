//! Config handling: validate, split secrets off, seal, open, resolve.

use std::collections::BTreeMap;

use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};

use super::ProfileService;
use crate::connector::ResolvedConfig;
use crate::error::{Error, FieldError, Result};
use crate::profile::{Profile, ProfileId, SealedSecrets, MAX_DESCRIPTION_LEN};
use crate::registry::Registered;
use crate::secret::SecretRef;

/// Plain secrets split off a config, on their way to being sealed.
pub(super) type PlainSecrets = BTreeMap<String, SecretString>;

impl ProfileService {
    /// Every problem with `config` for this connector, paths under `/config`.
    pub(super) fn check_config(
        &self,
        reg: &Registered,
        config: &Value,
        errors: &mut Vec<FieldError>,
    ) {
        let Some(map) = config.as_object() else {
            errors.push(FieldError::new("/config", "must be an object"));
            return;
        };
        errors.extend(reg.schema.validate(config, "/config"));
        for e in reg.connector.check(config) {
            errors.push(FieldError::new(format!("/config{}", e.path), e.message));
        }
        for field in reg.schema.secrets() {
            let Some(Value::String(value)) = map.get(field) else {
                continue;
            };
            match SecretRef::parse(value) {
                Some(Err(why)) => errors.push(FieldError::new(format!("/config/{field}"), why)),
                Some(Ok(r)) if !self.inner.resolver.supports(&r.scheme) => {
                    errors.push(FieldError::new(
                        format!("/config/{field}"),
                        format!("unknown secret reference scheme {:?}", r.scheme),
                    ))
                }
                _ => {}
            }
        }
    }

    /// Splits a validated config into public fields and secrets.
    pub(super) fn split(reg: &Registered, config: Value) -> (Map<String, Value>, PlainSecrets) {
        let Value::Object(mut public) = config else {
            return (Map::new(), PlainSecrets::new());
        };
        let mut secrets = PlainSecrets::new();
        for field in reg.schema.secrets() {
            if let Some(Value::String(s)) = public.remove(field) {
                secrets.insert(field.clone(), SecretString::from(s));
            }
        }
        (public, secrets)
    }

    pub(super) fn seal(&self, id: &ProfileId, secrets: &PlainSecrets) -> Result<SealedSecrets> {
        let mut sealed = BTreeMap::new();
        for (field, value) in secrets {
            sealed.insert(field.clone(), self.inner.sealer.seal(id, field, value)?);
        }
        Ok(SealedSecrets(sealed))
    }

    pub(super) fn open(&self, profile: &Profile) -> Result<PlainSecrets> {
        let mut plain = PlainSecrets::new();
        for (field, envelope) in &profile.secrets.0 {
            let value = self.inner.sealer.open(&profile.id, field, envelope)?;
            plain.insert(field.clone(), value);
        }
        Ok(plain)
    }

    /// Public config plus secrets as one JSON object (for re-validation on
    /// update, and for probes once references are resolved).
    pub(super) fn join(public: &Map<String, Value>, secrets: &PlainSecrets) -> Value {
        let mut full = public.clone();
        for (field, value) in secrets {
            full.insert(
                field.clone(),
                Value::String(value.expose_secret().to_owned()),
            );
        }
        Value::Object(full)
    }

    /// Resolves references and returns the config a connector sees, plus the
    /// secret values for scrubbing messages.
    pub(super) async fn resolve_secrets(
        &self,
        public: &Map<String, Value>,
        mut secrets: PlainSecrets,
    ) -> Result<(ResolvedConfig, Vec<SecretString>)> {
        let mut errors = Vec::new();
        for (field, value) in secrets.iter_mut() {
            let Some(Ok(reference)) = SecretRef::parse(value.expose_secret()) else {
                continue;
            };
            match self.inner.resolver.resolve(&reference).await {
                Ok(resolved) => *value = resolved,
                Err(e) => errors.push(FieldError::new(format!("/config/{field}"), e.0)),
            }
        }
        if !errors.is_empty() {
            return Err(Error::Validation(crate::ValidationErrors(errors)));
        }
        let config = ResolvedConfig::new(Self::join(public, &secrets));
        Ok((config, secrets.into_values().collect()))
    }
}

pub(super) fn check_description(description: Option<&str>, errors: &mut Vec<FieldError>) {
    if description.is_some_and(|d| d.chars().count() > MAX_DESCRIPTION_LEN) {
        errors.push(FieldError::new(
            "/description",
            format!("must be at most {MAX_DESCRIPTION_LEN} characters"),
        ));
    }
}

/// Replaces every secret value in `text`, raw or encoded, by `****`.
pub(super) fn scrub(text: &str, secrets: &[SecretString]) -> String {
    crate::scrub::scrub(text, secrets)
}
