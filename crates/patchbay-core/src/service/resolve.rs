//! The use path: a profile by id or name, secrets opened, references
//! resolved, host overrides layered on, every opening audited.

use std::collections::BTreeMap;
use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};
use tokio::time::{timeout_at, Instant};

use super::config::PlainSecrets;
use super::{ProfileService, ProfileServiceBuilder};
use crate::audit::AuditAction;
use crate::connector::{ResolvedConfig, ALL_FIELDS};
use crate::error::{Error, FieldError, Result, ValidationErrors};
use crate::profile::{merge_patch, Profile};
use crate::registry::Registered;
use crate::resolved::ProfileRef;
use crate::resolved::{Override, OverrideKind, ResolveRequest, ResolvedProfile, SecretOpened};
use crate::secret::SecretRef;

/// The audit hook's type.
pub(super) type AccessHook = Arc<dyn Fn(&SecretOpened<'_>) + Send + Sync>;

const MAX_PURPOSE_LEN: usize = 200;

impl ProfileServiceBuilder {
    /// Calls `hook` every time the service opens a profile's secrets (each
    /// resolve, test and autocomplete of a saved profile), with the profile's
    /// id, version, connector and the caller's purpose, never a value. It runs
    /// inline: keep it quick (hand slow work to a channel).
    pub fn on_secret_access(
        mut self,
        hook: impl Fn(&SecretOpened<'_>) + Send + Sync + 'static,
    ) -> Self {
        self.on_secret_access = Some(Arc::new(hook));
        self
    }
}

impl ProfileService {
    /// Resolves a profile for use: reads it by id or name, checks the pinned
    /// version, opens its sealed secrets, layers the overrides (validated as
    /// the profile itself is) and resolves secret references, all within the
    /// request's deadline. Emits an audit event (tracing target
    /// `patchbay::audit`, and the [`on_secret_access`] hook).
    ///
    /// [`on_secret_access`]: ProfileServiceBuilder::on_secret_access
    ///
    /// # Errors
    /// `NOT_FOUND`; `VERSION_CONFLICT` when pinned to another version;
    /// `UNKNOWN_CONNECTOR`; `VALIDATION_FAILED` for a bad purpose or
    /// overrides (paths under `/overrides`); `SECRET_UNAVAILABLE` naming the
    /// field whose sealed value cannot be opened or whose reference does not
    /// resolve (in time); `STORAGE` when the store fails or does not answer
    /// in time.
    pub async fn resolve(&self, req: ResolveRequest) -> Result<ResolvedProfile> {
        check_purpose(&req.purpose)?;
        let budget = req
            .timeout
            .unwrap_or(self.inner.probe_timeout)
            .min(self.inner.max_probe_timeout);
        let deadline = Instant::now() + budget;
        // Shared: nothing of the stored profile is copied that the result
        // does not change.
        let read = self.inner.repo.get_shared(&self.tenant, &req.profile);
        let read = timeout_at(deadline, read)
            .await
            .map_err(|_| Error::Storage {
                message: format!("the store did not answer within {} ms", budget.as_millis()),
                source: None,
            })
            .and_then(|r| r);
        let profile = match read {
            Ok(p) => p,
            Err(e) => {
                let id = match &req.profile {
                    ProfileRef::Id(id) => Some(id),
                    ProfileRef::Name(_) => None,
                };
                self.audit_failure(AuditAction::Resolve, id, None, &e).await;
                return Err(e);
            }
        };
        if let Some(expected) = req.version.filter(|v| *v != profile.version) {
            return Err(Error::VersionConflict {
                id: profile.id.to_string(),
                expected,
                actual: profile.version,
            });
        }
        let reg = self.inner.registry.get(&profile.connector)?;
        self.audit(&profile, "resolve", &req.purpose).await?;
        let secrets = self.open_fields(&profile)?;
        let (layered, overrides) = match req.overrides {
            Some(o) => {
                let (merged, report) =
                    self.layer(reg, &profile.config, &secrets, o, req.allow_conflicts)?;
                (Some(merged), report)
            }
            None => (None, Vec::new()),
        };
        let secrets = self.resolve_references(secrets, deadline).await?;
        Ok(ResolvedProfile {
            profile,
            layered,
            secrets,
            overrides,
        })
    }

    /// Records that `profile`'s secrets are being opened: the trail event
    /// first (no event, no opening), then the log line and the hook.
    pub(super) async fn audit(
        &self,
        profile: &Profile,
        operation: &'static str,
        purpose: &str,
    ) -> Result<()> {
        let action = match operation {
            "test" => AuditAction::Test,
            "autocomplete" => AuditAction::Autocomplete,
            _ => AuditAction::Resolve,
        };
        self.audit_opening(action, &profile.id, profile.version)
            .await?;
        tracing::info!(
            target: "patchbay::audit",
            profile = %profile.id,
            version = profile.version,
            connector = %profile.connector,
            operation,
            purpose,
            "profile secrets opened"
        );
        if let Some(hook) = &self.inner.on_secret_access {
            hook(&SecretOpened {
                id: &profile.id,
                version: profile.version,
                connector: &profile.connector,
                operation,
                purpose,
                fields: profile.secrets.0.keys().map(String::as_str).collect(),
            });
        }
        Ok(())
    }

    /// [`audit`](Self::audit) of many comparisons at once: every trail
    /// event in one batch first, then a log line and the hook per profile.
    pub(super) async fn audit_openings(&self, profiles: &[&Profile], purpose: &str) -> Result<()> {
        if let Some(sink) = self.inner.repo.audit() {
            let events: Vec<_> = profiles
                .iter()
                .map(|p| self.audit_event(AuditAction::Resolve, Some(&p.id), Some(p.version), None))
                .collect();
            sink.record_all(&events).await?;
        }
        for profile in profiles {
            tracing::info!(
                target: "patchbay::audit",
                profile = %profile.id,
                version = profile.version,
                connector = %profile.connector,
                operation = "compare",
                purpose,
                "profile secrets opened"
            );
            if let Some(hook) = &self.inner.on_secret_access {
                hook(&SecretOpened {
                    id: &profile.id,
                    version: profile.version,
                    connector: &profile.connector,
                    operation: "compare",
                    purpose,
                    fields: profile.secrets.0.keys().map(String::as_str).collect(),
                });
            }
        }
        Ok(())
    }

    /// Opens each sealed field; a failure names the field.
    pub(super) fn open_fields(&self, profile: &Profile) -> Result<PlainSecrets> {
        let mut plain = PlainSecrets::new();
        for (field, envelope) in &profile.secrets.0 {
            let value = self
                .inner
                .sealer
                .open(&profile.id, field, envelope)
                .map_err(|e| Error::SecretUnavailable {
                    field: format!("/config/{field}"),
                    kind: "sealed".to_owned(),
                    message: match e {
                        Error::Storage { message, .. } => message,
                        other => other.to_string(),
                    },
                })?;
            plain.insert(field.clone(), value);
        }
        Ok(plain)
    }

    /// Resolves `{{ scheme:arg }}` references through the service's resolver
    /// (the probes' helper: the host's `SecretAccess`, each reference bounded
    /// by the deadline, failures as `SECRET_UNAVAILABLE` naming the field).
    async fn resolve_references(
        &self,
        secrets: PlainSecrets,
        deadline: Instant,
    ) -> Result<BTreeMap<String, SecretString>> {
        // No reference among the values (the usual case): what was opened
        // is the result, without a round trip through a config.
        let is_reference =
            |v: &SecretString| matches!(SecretRef::parse(v.expose_secret()), Some(Ok(_)));
        if !secrets.values().any(is_reference) {
            return Ok(secrets);
        }
        let mut seen = Vec::new();
        let resolved = self
            .resolve_secrets(&Map::new(), secrets, deadline, &mut seen)
            .await?;
        Ok(secret_map(&resolved))
    }

    /// Layers `overrides` over the profile's public config: validated with
    /// the profile's schema and checks, no secret field, no endpoint moved,
    /// no conflict unless allowed. Returns the merged config and the report.
    fn layer(
        &self,
        reg: &Registered,
        public: &Map<String, Value>,
        secrets: &PlainSecrets,
        overrides: Value,
        allow_conflicts: bool,
    ) -> Result<(Map<String, Value>, Vec<Override>)> {
        let Value::Object(patch) = overrides else {
            return Err(Error::invalid("/overrides", "must be an object"));
        };
        let mut errors = Vec::new();
        for key in patch.keys().filter(|k| reg.schema.is_secret(k)) {
            errors.push(FieldError::new(
                format!("/overrides/{}", escape(key)),
                "secret fields come from the profile and cannot be overridden",
            ));
        }
        let mut report = Vec::new();
        diff(Some(public), &patch, "", &mut report);
        if !allow_conflicts {
            for o in report.iter().filter(|o| o.kind != OverrideKind::Added) {
                errors.push(FieldError::new(
                    format!("/overrides{}", o.path),
                    "the profile sets this field; allow conflicts to override it",
                ));
            }
        }
        let mut merged = Value::Object(public.clone());
        merge_patch(&mut merged, &Value::Object(patch.clone()));
        let Value::Object(merged) = merged else {
            unreachable!("a merge patch of two objects is an object")
        };
        if errors.is_empty() {
            let mut found = Vec::new();
            self.check_config(reg, &Self::join(&merged, secrets), &mut found);
            errors.extend(found.into_iter().map(|mut e| {
                let key = e.path.trim_start_matches("/config/").split('/').next();
                if key.is_some_and(|k| patch.contains_key(k)) {
                    e.path = e.path.replacen("/config", "/overrides", 1);
                }
                e
            }));
        }
        if errors.is_empty() {
            // Secrets are bound to their endpoint, and an override cannot
            // give them again: no override of a field that decides where
            // they go (the connector's `endpoint_fields`), nor of anything
            // that moves an endpoint.
            let bound = reg.connector.endpoint_fields();
            for key in patch.keys() {
                if bound == ALL_FIELDS || bound.contains(&key.as_str()) {
                    errors.push(FieldError::new(
                        format!("/overrides/{}", escape(key)),
                        "an override cannot change a field that decides where the profile's secrets go",
                    ));
                }
            }
            let endpoints = |m: &Map<String, Value>| {
                reg.connector
                    .endpoints(&ResolvedConfig::new(Self::join(m, secrets)))
            };
            let before = endpoints(public)?;
            for (key, value) in &patch {
                let mut one = Value::Object(public.clone());
                merge_patch(
                    &mut one,
                    &Value::Object(Map::from_iter([(key.clone(), value.clone())])),
                );
                let moved = match one {
                    Value::Object(m) => !endpoints(&m).is_ok_and(|e| e == before),
                    _ => true,
                };
                if moved {
                    errors.push(FieldError::new(
                        format!("/overrides/{}", escape(key)),
                        "an override cannot change the endpoints the profile connects to",
                    ));
                }
            }
        }
        ValidationErrors(errors).into_result()?;
        report
            .iter_mut()
            .for_each(|o| o.path.insert_str(0, "/config"));
        Ok((merged, report))
    }
}

/// The secrets of a resolved, secrets-only config.
fn secret_map(config: &ResolvedConfig) -> BTreeMap<String, SecretString> {
    config
        .expose()
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| Some((k.clone(), SecretString::from(v.as_str()?))))
        .collect()
}

/// Leaf-level report of what `patch` does to `base`, paths relative to it.
fn diff(
    base: Option<&Map<String, Value>>,
    patch: &Map<String, Value>,
    at: &str,
    out: &mut Vec<Override>,
) {
    for (key, value) in patch {
        let path = format!("{at}/{}", escape(key));
        let old = base.and_then(|b| b.get(key));
        let kind = match (value, old) {
            (Value::Null, None) => continue,
            (Value::Null, Some(_)) => OverrideKind::Removed,
            (Value::Object(inner), Some(Value::Object(old))) => {
                diff(Some(old), inner, &path, out);
                continue;
            }
            (_, None) => OverrideKind::Added,
            (v, Some(old)) if v == old => continue,
            _ => OverrideKind::Replaced,
        };
        out.push(Override { path, kind });
    }
}

/// RFC 6901 escaping of one JSON Pointer segment.
fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

fn check_purpose(purpose: &str) -> Result<()> {
    if purpose.trim().is_empty()
        || purpose.chars().count() > MAX_PURPOSE_LEN
        || purpose.chars().any(char::is_control)
    {
        return Err(Error::invalid(
            "/purpose",
            format!("must be 1 to {MAX_PURPOSE_LEN} printable characters"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn diff_reports_leaves() {
        let base = json!({"a": 1, "p": {"x": "1", "y": "2"}, "r": true});
        let patch = json!({"a": 1, "b": 2, "p": {"x": "9", "z/w": "3"}, "r": null, "q": null});
        let mut out = Vec::new();
        diff(base.as_object(), patch.as_object().unwrap(), "", &mut out);
        let got: Vec<_> = out.iter().map(|o| (o.path.as_str(), o.kind)).collect();
        assert_eq!(
            got,
            [
                ("/b", OverrideKind::Added),
                ("/p/x", OverrideKind::Replaced),
                ("/p/z~1w", OverrideKind::Added),
                ("/r", OverrideKind::Removed),
            ]
        );
    }

    #[test]
    fn purposes() {
        assert!(check_purpose("nightly export").is_ok());
        for bad in ["", "  ", "a\nb", &"x".repeat(201)] {
            assert!(check_purpose(bad).is_err(), "{bad:?}");
        }
    }
}
