//! Config handling: validate, split secrets off, seal, open, resolve.

use std::collections::BTreeMap;
use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};
use tokio::time::{timeout_at, Instant};

use super::ProfileService;
use crate::connector::{ResolvedConfig, ALL_FIELDS};
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
        crate::input::check_json(config, "/config", errors);
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
                // A reference the host has not allowed is never stored.
                Some(Ok(r)) => {
                    if let Err(why) = self.inner.resolver.permits(&r) {
                        errors.push(FieldError::new(format!("/config/{field}"), why.0));
                    }
                }
                None => {}
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

    /// Resolves references, each within `deadline`, and returns the config a
    /// connector sees. `scrub_with` collects every secret value (opened and
    /// resolved) for scrubbing messages, even when resolution fails.
    ///
    /// Called only once a probe slot is held: resolution reads files and asks
    /// host resolvers, so it is bounded like the probe itself.
    pub(super) async fn resolve_secrets(
        &self,
        public: &Map<String, Value>,
        mut secrets: PlainSecrets,
        deadline: Instant,
        scrub_with: &mut Vec<SecretString>,
    ) -> Result<ResolvedConfig> {
        scrub_with.extend(secrets.values().cloned());
        for (field, value) in secrets.iter_mut() {
            let Some(Ok(reference)) = SecretRef::parse(value.expose_secret()) else {
                continue;
            };
            let unavailable = |message: String| Error::SecretUnavailable {
                field: format!("/config/{field}"),
                kind: reference.scheme.clone(),
                message,
            };
            // Checked again: the profile may predate the host's current rules.
            self.inner
                .resolver
                .permits(&reference)
                .map_err(|e| unavailable(e.0))?;
            let resolving = self.inner.resolver.resolve(&reference);
            let resolved = timeout_at(deadline, resolving)
                .await
                .map_err(|_| unavailable("not resolved before the probe's deadline".into()))?
                .map_err(|e| unavailable(e.0))?;
            scrub_with.push(resolved.clone());
            *value = resolved;
        }
        Ok(ResolvedConfig::new(Self::join(public, &secrets))
            .with_network_policy(Arc::clone(&self.inner.policy)))
    }
}

pub(super) fn check_description(description: Option<&str>, errors: &mut Vec<FieldError>) {
    let Some(description) = description else {
        return;
    };
    if description.chars().count() > MAX_DESCRIPTION_LEN {
        errors.push(FieldError::new(
            "/description",
            format!("must be at most {MAX_DESCRIPTION_LEN} characters"),
        ));
    }
    errors.extend(crate::input::check_text("/description", description).err());
}

/// The secrets that would follow a config to a new destination.
///
/// `before` is the stored public config; `after` the full config that would
/// be used (public fields and secrets, after the caller's patch or
/// overrides); `supplied` what the caller sent. When `after` differs from
/// `before` in any of the connector's
/// [`endpoint_fields`](crate::Connector::endpoint_fields), every secret
/// present in `after` that the caller did not supply anew is an error at
/// `/config/<secret>`: it must be entered again. Empty when nothing moves or
/// no kept secret would follow.
pub(super) fn rebinding_errors(
    reg: &Registered,
    before: &Map<String, Value>,
    after: &Value,
    supplied: &Value,
) -> Vec<FieldError> {
    let secrets = reg.schema.secrets();
    let empty = Map::new();
    let after = after.as_object().unwrap_or(&empty);
    let declared = reg.connector.endpoint_fields();
    let candidates: Vec<&str> = if declared == ALL_FIELDS {
        let mut all: Vec<&str> = before
            .keys()
            .chain(after.keys())
            .filter(|k| !secrets.contains(*k))
            .map(String::as_str)
            .collect();
        all.sort_unstable();
        all.dedup();
        all
    } else {
        declared.to_vec()
    };
    let changed: Vec<&str> = candidates
        .into_iter()
        .filter(|f| before.get(*f) != after.get(*f))
        .collect();
    if changed.is_empty() {
        return Vec::new();
    }
    secrets
        .iter()
        .filter(|s| after.get(s.as_str()).is_some_and(Value::is_string))
        .filter(|s| !supplied.get(s.as_str()).is_some_and(Value::is_string))
        .map(|s| {
            FieldError::new(
                format!("/config/{s}"),
                format!(
                    "must be entered again: {} changed, which decides where this secret is sent",
                    changed.join(", ")
                ),
            )
        })
        .collect()
}

/// Replaces every secret value in `text`, raw or encoded, by `****`.
pub(super) fn scrub(text: &str, secrets: &[SecretString]) -> String {
    crate::scrub::scrub(text, secrets)
}
