//! From file entries to validated profiles, and the merge patch that turns a
//! stored config into a desired one.

use std::collections::HashSet;

use patchbay_core::profile::name_key;
use patchbay_core::{Error, FieldError, NewProfile, Profile, ProfileService, ProfileUpdate};
use serde_json::{Map, Value};

use crate::file::{Entry, ProvisionFile};
use crate::problem::{Problem, Problems};

/// Where each problem of a file's entries is, and whether a name repeats.
pub(crate) struct Locator<'a> {
    file: &'a ProvisionFile,
    seen: HashSet<String>,
    pub problems: Vec<Problem>,
}

impl<'a> Locator<'a> {
    pub fn new(file: &'a ProvisionFile) -> Self {
        Self {
            file,
            seen: HashSet::new(),
            problems: Vec::new(),
        }
    }

    /// A problem at `path` in entry `i`.
    pub fn push(&mut self, i: usize, path: &str, message: String) {
        self.problems.push(Problem {
            path: format!("/profiles/{i}{path}"),
            line: self.file.lines.get(i).copied().flatten(),
            message,
        });
    }

    /// Field errors of entry `i`.
    pub fn extend(&mut self, i: usize, errors: Vec<FieldError>) {
        for f in errors {
            self.push(i, &f.path, f.message);
        }
    }

    /// Notes entry `i`'s name, a problem when an earlier entry has it.
    pub fn name(&mut self, i: usize) {
        if !self.seen.insert(name_key(&self.file.profiles[i].name)) {
            self.push(
                i,
                "/name",
                "a profile of this name is listed earlier".into(),
            );
        }
    }

    /// Every problem, if any.
    pub fn finish(self) -> Result<(), Problems> {
        if self.problems.is_empty() {
            Ok(())
        } else {
            Err(Problems(self.problems))
        }
    }
}

/// The profile an entry describes (its URI parsed), not yet validated.
pub(crate) fn desired(
    service: &ProfileService,
    entry: &Entry,
) -> Result<NewProfile, Vec<FieldError>> {
    let (connector, config) = match (&entry.uri, &entry.connector, &entry.config) {
        (Some(uri), connector, None) => {
            let (kind, config) = service.config_from_uri(uri).map_err(field_errors)?;
            if connector.as_ref().is_some_and(|c| *c != kind) {
                return Err(vec![FieldError::new(
                    "/connector",
                    format!("the URI is a `{kind}` one"),
                )]);
            }
            (kind, config)
        }
        (Some(_), _, Some(_)) => {
            return Err(vec![FieldError::new(
                "/uri",
                "give either `uri` or `config`, not both",
            )])
        }
        (None, Some(c), Some(config)) => (c.clone(), config.clone()),
        (None, None, _) => {
            return Err(vec![FieldError::new(
                "/connector",
                "is required (or give `uri`)",
            )])
        }
        (None, Some(_), None) => {
            return Err(vec![FieldError::new(
                "/config",
                "is required (or give `uri`)",
            )])
        }
    };
    Ok(NewProfile {
        name: entry.name.clone(),
        connector,
        description: entry.description.clone(),
        config,
        labels: entry.labels.clone(),
    })
}

/// The field errors of a validation error; any other error as one at the root.
pub(crate) fn field_errors(e: Error) -> Vec<FieldError> {
    match e {
        Error::Validation(v) => v.0,
        other => vec![FieldError::new("", other.to_string())],
    }
}

/// A JSON merge patch (RFC 7396) turning `current` into `desired`.
pub(crate) fn merge_patch(current: &Map<String, Value>, desired: &Map<String, Value>) -> Value {
    let mut patch = Map::new();
    for key in current.keys() {
        if !desired.contains_key(key) {
            patch.insert(key.clone(), Value::Null);
        }
    }
    for (key, want) in desired {
        match (current.get(key), want) {
            (Some(have), _) if have == want => {}
            (Some(Value::Object(have)), Value::Object(want)) => {
                patch.insert(key.clone(), merge_patch(have, want));
            }
            _ => drop(patch.insert(key.clone(), want.clone())),
        }
    }
    Value::Object(patch)
}

/// The update that turns `current` into `desired` (version-pinned).
pub(crate) fn update_to(current: &Profile, desired: NewProfile) -> ProfileUpdate {
    let mut stored = current.config.clone();
    // Secrets stored but not desired are removed; desired ones are set.
    for field in current.secret_fields() {
        stored.insert(field, Value::Null);
    }
    let Value::Object(want) = desired.config else {
        unreachable!("validated configs are objects")
    };
    ProfileUpdate {
        name: (current.name != desired.name).then_some(desired.name),
        description: (current.description != desired.description).then_some(desired.description),
        config: Some(merge_patch(&stored, &want)),
        labels: (current.labels != desired.labels).then(|| {
            let to_map = |l: &patchbay_core::labels::Labels| -> Map<String, Value> {
                l.iter()
                    .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                    .collect()
            };
            merge_patch(&to_map(&current.labels), &to_map(&desired.labels))
        }),
        version: Some(current.version),
    }
}
