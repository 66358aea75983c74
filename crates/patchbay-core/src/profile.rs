//! The profile model: what is stored and what is returned.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::error::FieldError;
use crate::labels::Labels;

/// Longest accepted profile name, in bytes (names are ASCII).
pub const MAX_NAME_LEN: usize = 128;
/// Longest accepted description, in characters.
pub const MAX_DESCRIPTION_LEN: usize = 1024;

/// A profile id: `prof_` followed by 32 lowercase hex digits (a random UUID).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ProfileId(String);

impl ProfileId {
    /// A fresh random id.
    pub fn generate() -> Self {
        Self(format!("prof_{}", uuid::Uuid::new_v4().simple()))
    }

    /// Parses an id, refusing anything that is not `prof_` + URL-safe characters.
    pub fn parse(s: &str) -> Option<Self> {
        let suffix = s.strip_prefix("prof_")?;
        let ok = !suffix.is_empty()
            && suffix.len() <= 64
            && suffix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        ok.then(|| Self(s.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ProfileId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ProfileId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

/// Checks a profile name: 1–128 ASCII letters, digits, `-`, `_` or `.`,
/// starting with a letter or digit. Names compare case-insensitively.
pub fn validate_name(name: &str) -> Result<(), FieldError> {
    let err = |m: &str| Err(FieldError::new("/name", m));
    if name.is_empty() {
        return err("must not be empty");
    }
    if name.len() > MAX_NAME_LEN {
        return err("must be at most 128 characters");
    }
    if !name.as_bytes()[0].is_ascii_alphanumeric() {
        return err("must start with a letter or digit");
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return err("may contain only ASCII letters, digits, '-', '_' and '.'");
    }
    Ok(())
}

/// The key names are unique by: the name in lowercase.
pub fn name_key(name: &str) -> String {
    name.to_ascii_lowercase()
}

/// Sealed secret fields of a profile: field name to an opaque envelope made by
/// a [`Sealer`](crate::seal::Sealer). Never serialized into responses; `Debug`
/// shows only the field names.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SealedSecrets(pub BTreeMap<String, String>);

impl SealedSecrets {
    /// Names of the secret fields that hold a value.
    pub fn fields(&self) -> Vec<String> {
        self.0.keys().cloned().collect()
    }
}

impl fmt::Debug for SealedSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

/// A stored connection profile.
///
/// Serializing it gives the public view of the REST contract: `config` holds
/// only non-secret fields, `secret_fields` names the secrets that are set
/// (their values are write-only and never leave the service).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// Unique id, `prof_…`.
    pub id: ProfileId,
    /// The tenant the profile belongs to. Not part of the public view (the
    /// caller's own tenant is implied); stores persist it.
    #[serde(skip)]
    pub tenant: crate::tenant::TenantId,
    /// Unique name within its tenant (case-insensitively).
    pub name: String,
    /// Connector kind, such as `kafka`.
    pub connector: String,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Non-secret configuration.
    pub config: Map<String, Value>,
    /// Labels (`{"env": "prod"}`), for filtering lists.
    #[serde(default, skip_serializing_if = "Labels::is_empty")]
    pub labels: Labels,
    /// Secret fields, sealed. Stores persist them; responses carry only
    /// their names, as `secret_fields`.
    #[serde(
        rename = "secret_fields",
        serialize_with = "secret_names",
        skip_deserializing
    )]
    pub secrets: SealedSecrets,
    /// Creation time (UTC).
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Last change (UTC).
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// Starts at 1, incremented by every change.
    pub version: u64,
}

impl Profile {
    /// Names of the secret fields that hold a value (values are never shown).
    pub fn secret_fields(&self) -> Vec<String> {
        self.secrets.fields()
    }
}

fn secret_names<S: serde::Serializer>(secrets: &SealedSecrets, s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(secrets.0.keys())
}

/// A request to create (or to test) a profile. `config` includes secrets
/// in plain text or as `{{ scheme:arg }}` references.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewProfile {
    /// Unique name.
    pub name: String,
    /// Connector kind.
    pub connector: String,
    /// Optional description.
    #[serde(default)]
    pub description: Option<String>,
    /// Connector configuration.
    pub config: Value,
    /// Labels (`{"env": "prod"}`; see [`crate::labels`]).
    #[serde(default)]
    pub labels: Labels,
}

impl fmt::Debug for NewProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The config may hold plain secrets: never print it.
        f.debug_struct("NewProfile")
            .field("name", &self.name)
            .field("connector", &self.connector)
            .field("description", &self.description)
            .field("labels", &self.labels)
            .finish_non_exhaustive()
    }
}

/// A partial update. `config` is a JSON merge patch (RFC 7386) over the stored
/// config: fields given replace, `null` removes, omitted fields (secrets
/// included) are kept.
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileUpdate {
    /// New name.
    #[serde(default)]
    pub name: Option<String>,
    /// New description; `Some(None)` clears it.
    #[serde(default, deserialize_with = "double_option")]
    pub description: Option<Option<String>>,
    /// Merge patch for the config.
    #[serde(default)]
    pub config: Option<Value>,
    /// Merge patch for the labels: a string sets a label, `null` removes it.
    #[serde(default)]
    pub labels: Option<Value>,
    /// The version the caller last read; a mismatch is a `VERSION_CONFLICT`.
    #[serde(default)]
    pub version: Option<u64>,
}

impl fmt::Debug for ProfileUpdate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProfileUpdate")
            .field("name", &self.name)
            .field("description", &self.description)
            .field("labels", &self.labels)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

fn double_option<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// Applies an RFC 7386 JSON merge patch to `target`.
pub(crate) fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let map = target.as_object_mut().expect("made an object above");
    for (key, value) in patch {
        if value.is_null() {
            map.remove(key);
        } else {
            merge_patch(map.entry(key.clone()).or_insert(Value::Null), value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names() {
        assert!(validate_name("prod-kafka_1.eu").is_ok());
        for bad in ["", "-x", "a b", "é", &"a".repeat(129)] {
            assert!(validate_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn ids() {
        let id = ProfileId::generate();
        assert_eq!(ProfileId::parse(id.as_str()), Some(id));
        assert_eq!(ProfileId::parse("prof_"), None);
        assert_eq!(ProfileId::parse("x_abc"), None);
        assert_eq!(ProfileId::parse("prof_a/b"), None);
    }

    #[test]
    fn merge_patch_rfc7386() {
        let mut t = json!({"a": 1, "b": {"c": 2, "d": 3}});
        merge_patch(&mut t, &json!({"a": null, "b": {"c": 9}, "e": "x"}));
        assert_eq!(t, json!({"b": {"c": 9, "d": 3}, "e": "x"}));
    }
}
