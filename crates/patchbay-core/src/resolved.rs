//! The use path's types: what a host asks for ([`ResolveRequest`]) and what
//! it gets ([`ResolvedProfile`]): a profile's config with its secrets opened
//! and references resolved, ready for a driver.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::connector::ResolvedConfig;
use crate::error::{Error, Result};
use crate::profile::{Profile, ProfileId};

/// A connector's typed config, tied to its connector kind so that typed
/// access is checked: `resolved.config::<PostgresConfig>()` on a Kafka
/// profile is an error, not a misparse. Secret fields should be
/// [`Secret`](crate::Secret).
pub trait ConnectorConfig: DeserializeOwned {
    /// The [`Connector::kind`](crate::Connector::kind) this config belongs to.
    const KIND: &'static str;
}

/// Which profile: its id or its name (case-insensitive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProfileRef {
    /// By id.
    Id(ProfileId),
    /// By name.
    Name(String),
}

impl From<ProfileId> for ProfileRef {
    fn from(id: ProfileId) -> Self {
        Self::Id(id)
    }
}

impl From<&ProfileId> for ProfileRef {
    fn from(id: &ProfileId) -> Self {
        Self::Id(id.clone())
    }
}

impl From<&str> for ProfileRef {
    fn from(name: &str) -> Self {
        Self::Name(name.to_owned())
    }
}

impl From<String> for ProfileRef {
    fn from(name: String) -> Self {
        Self::Name(name)
    }
}

/// A request to [resolve](crate::ProfileService::resolve) a profile.
///
/// ```
/// # use patchbay_core::ResolveRequest;
/// let req = ResolveRequest::new("orders-db", "ingest worker")
///     .expect_version(3)
///     .overrides(serde_json::json!({"connect_timeout_ms": 2000}));
/// ```
#[derive(Clone)]
pub struct ResolveRequest {
    pub(crate) profile: ProfileRef,
    pub(crate) purpose: String,
    pub(crate) version: Option<u64>,
    pub(crate) overrides: Option<Value>,
    pub(crate) allow_conflicts: bool,
    pub(crate) timeout: Option<Duration>,
}

impl ResolveRequest {
    /// Resolve `profile` (an id, or a name as `&str`) for `purpose`: a short
    /// text saying who uses the secrets and why, recorded by the audit hook.
    pub fn new(profile: impl Into<ProfileRef>, purpose: impl Into<String>) -> Self {
        Self {
            profile: profile.into(),
            purpose: purpose.into(),
            version: None,
            overrides: None,
            allow_conflicts: false,
            timeout: None,
        }
    }

    /// Pin: fail with `VERSION_CONFLICT` unless the profile is at `version`.
    pub fn expect_version(mut self, version: u64) -> Self {
        self.version = Some(version);
        self
    }

    /// Host settings layered over the profile's config (a JSON object,
    /// applied as a merge patch), validated like the profile itself. An
    /// override may not name a secret field nor move an endpoint, and may
    /// not change a value the profile sets unless
    /// [`allow_conflicts`](Self::allow_conflicts) is given.
    pub fn overrides(mut self, overrides: Value) -> Self {
        self.overrides = Some(overrides);
        self
    }

    /// Let overrides replace (or, with `null`, remove) values the profile
    /// sets; they are still listed in [`ResolvedProfile::overrides`].
    pub fn allow_conflicts(mut self, allow: bool) -> Self {
        self.allow_conflicts = allow;
        self
    }

    /// Deadline for the whole resolve (store read and reference
    /// resolution); default and cap are the service's probe timeouts.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }
}

impl fmt::Debug for ResolveRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Overrides carry no secrets (secret fields are refused), but keep
        // them out of logs anyway: only their keys.
        let keys: Vec<&String> = self
            .overrides
            .as_ref()
            .and_then(Value::as_object)
            .map(|m| m.keys().collect())
            .unwrap_or_default();
        f.debug_struct("ResolveRequest")
            .field("profile", &self.profile)
            .field("purpose", &self.purpose)
            .field("version", &self.version)
            .field("override_keys", &keys)
            .field("allow_conflicts", &self.allow_conflicts)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// How one override related to the profile's config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum OverrideKind {
    /// The profile did not set this field.
    Added,
    /// The profile set it to another value (needs `allow_conflicts`).
    Replaced,
    /// The override removed it with `null` (needs `allow_conflicts`).
    Removed,
}

/// One overridden leaf, as a JSON Pointer under `/config`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Override {
    /// Such as `/config/properties/linger.ms`.
    pub path: String,
    /// What the override did.
    pub kind: OverrideKind,
}

/// A profile ready to use: its config with secrets opened and references
/// resolved, overrides applied. Secrets are held as [`SecretString`]s;
/// `Debug` shows only names; nothing here is serializable.
pub struct ResolvedProfile {
    /// The profile as read (shared with the store's copy, when it keeps
    /// one); its sealed secrets are not used from here on.
    pub(crate) profile: Arc<Profile>,
    /// The public config with the overrides layered on, when given.
    pub(crate) layered: Option<Map<String, Value>>,
    pub(crate) secrets: BTreeMap<String, SecretString>,
    pub(crate) overrides: Vec<Override>,
}

impl ResolvedProfile {
    /// The profile's id.
    pub fn id(&self) -> &ProfileId {
        &self.profile.id
    }

    /// The profile's name.
    pub fn name(&self) -> &str {
        &self.profile.name
    }

    /// The connector kind, such as `postgres`.
    pub fn connector(&self) -> &str {
        &self.profile.connector
    }

    /// The version resolved.
    pub fn version(&self) -> u64 {
        self.profile.version
    }

    /// The non-secret fields (overrides applied).
    pub fn public_config(&self) -> &Map<String, Value> {
        self.layered.as_ref().unwrap_or(&self.profile.config)
    }

    /// A secret field's value, resolved.
    pub fn secret(&self, field: &str) -> Option<&SecretString> {
        self.secrets.get(field)
    }

    /// What the overrides changed, in path order (empty without overrides).
    pub fn overrides(&self) -> &[Override] {
        &self.overrides
    }

    /// The connector's typed config.
    ///
    /// # Errors
    /// `VALIDATION_FAILED` on `/connector` when `T` belongs to another
    /// connector kind; on `/config` when the config does not fit `T`.
    pub fn config<T: ConnectorConfig>(&self) -> Result<T> {
        if T::KIND != self.connector() {
            return Err(Error::invalid(
                "/connector",
                format!(
                    "profile {} is a {} profile, not {}",
                    self.name(),
                    self.connector(),
                    T::KIND
                ),
            ));
        }
        self.resolved_config().parse()
    }

    /// The whole config as a connector sees it (what probes get): for
    /// [`Connector::endpoints`](crate::Connector::endpoints) and native
    /// client builders. Its strings are zeroized on drop.
    pub fn resolved_config(&self) -> ResolvedConfig {
        let mut full = self.public_config().clone();
        for (field, value) in &self.secrets {
            full.insert(
                field.clone(),
                Value::String(value.expose_secret().to_owned()),
            );
        }
        ResolvedConfig::new(Value::Object(full))
    }
}

impl fmt::Debug for ResolvedProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResolvedProfile")
            .field("id", self.id())
            .field("name", &self.name())
            .field("connector", &self.connector())
            .field("version", &self.version())
            .field(
                "config_fields",
                &self.public_config().keys().collect::<Vec<_>>(),
            )
            .field("secret_fields", &self.secrets.keys().collect::<Vec<_>>())
            .field("overrides", &self.overrides)
            .finish()
    }
}

/// What the [audit hook](crate::ProfileServiceBuilder::on_secret_access)
/// receives each time the service opens a profile's secrets. Never a value.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SecretOpened<'a> {
    /// The profile.
    pub id: &'a ProfileId,
    /// Its version.
    pub version: u64,
    /// Its connector kind.
    pub connector: &'a str,
    /// `resolve`, `test` or `autocomplete`.
    pub operation: &'static str,
    /// The caller's purpose (`resolve`), or the operation for probes.
    pub purpose: &'a str,
    /// The secret fields opened.
    pub fields: Vec<&'a str>,
}
