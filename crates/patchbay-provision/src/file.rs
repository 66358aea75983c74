//! The provisioning file: a list of profiles, each a connector + config or a
//! connection URI, secrets written as references (`{{ env:X }}`).
//!
//! ```yaml
//! profiles:
//!   - name: orders-db
//!     connector: postgres
//!     description: Orders, primary
//!     labels: { env: prod }
//!     config: { host: db.internal, username: app, password: "{{ env:ORDERS_DB_PASSWORD }}" }
//!   - name: cache
//!     uri: redis://cache.internal:6379/0
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::problem::{Problem, Problems};

/// The document formats read; YAML is the native one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Json,
    Toml,
}

impl Format {
    /// By file extension: `.json`, `.toml`, anything else YAML.
    pub fn of(path: &Path) -> Self {
        match path.extension().and_then(|e| e.to_str()) {
            Some("json") => Format::Json,
            Some("toml") => Format::Toml,
            _ => Format::Yaml,
        }
    }
}

/// One profile as a file declares it. `Debug` leaves out `uri` and `config`:
/// either may hold a plain password.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connector: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<Value>,
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("name", &self.name)
            .field("connector", &self.connector)
            .field("description", &self.description)
            .field("labels", &self.labels)
            .finish_non_exhaustive()
    }
}

/// A parsed provisioning file with where each entry starts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProvisionFile {
    pub profiles: Vec<Entry>,
    /// 1-based line of each entry, when the text was read from a file.
    #[serde(skip)]
    pub lines: Vec<Option<usize>>,
}

impl ProvisionFile {
    /// Parses `text` in `format`.
    ///
    /// # Errors
    /// The syntax or shape problem, with its line when the parser knows it.
    pub fn parse(text: &str, format: Format) -> Result<Self, Problems> {
        let doc: Value = match format {
            Format::Yaml => yaml_serde::from_str(text).map_err(|e| {
                one(
                    "",
                    e.location().map(|l| l.line()),
                    format!("not valid YAML: {e}"),
                )
            })?,
            Format::Json => serde_json::from_str(text)
                .map_err(|e| one("", Some(e.line()), format!("not valid JSON: {e}")))?,
            Format::Toml => {
                let v: toml::Value = toml::from_str(text).map_err(|e| {
                    let line = e.span().map(|s| text[..s.start].lines().count().max(1));
                    one("", line, format!("not valid TOML: {}", e.message()))
                })?;
                serde_json::to_value(v).map_err(|e| one("", None, e.to_string()))?
            }
        };
        let lines = {
            let names: Vec<Option<&str>> = doc
                .get("profiles")
                .and_then(Value::as_array)
                .map(|list| {
                    list.iter()
                        .map(|e| e.get("name").and_then(Value::as_str))
                        .collect()
                })
                .unwrap_or_default();
            entry_lines(text, &names)
        };
        let mut file = shape(doc).map_err(|mut problems| {
            for p in &mut problems.0 {
                p.line = entry_index(&p.path).and_then(|i| lines.get(i).copied().flatten());
            }
            problems
        })?;
        file.lines = lines;
        Ok(file)
    }

    /// Reads and parses `path`, its format by extension.
    ///
    /// # Errors
    /// An unreadable file, or as [`parse`](Self::parse).
    pub fn read(path: &Path) -> Result<Self, Problems> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| one("", None, format!("cannot read {}: {e}", path.display())))?;
        Self::parse(&text, Format::of(path))
    }

    /// The file as text in `format` (export).
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Yaml => yaml_serde::to_string(self).unwrap_or_default(),
            Format::Json => serde_json::to_string_pretty(self).unwrap_or_default() + "\n",
            Format::Toml => toml::to_string(self).unwrap_or_default(),
        }
    }
}

fn one(path: &str, line: Option<usize>, message: String) -> Problems {
    Problems(vec![Problem {
        path: path.to_owned(),
        line,
        message,
    }])
}

/// The document's shape, every entry checked so all problems come at once.
/// Built by hand rather than with `serde_json::from_value`: serde's type
/// errors quote the offending value, which may be a password.
fn shape(doc: Value) -> Result<ProvisionFile, Problems> {
    let Value::Object(mut top) = doc else {
        return Err(one(
            "",
            None,
            "the file must be a mapping with `profiles`".into(),
        ));
    };
    let mut problems: Vec<Problem> = top
        .keys()
        .filter(|k| *k != "profiles")
        .map(|k| Problem {
            path: format!("/{}", pointer_token(k)),
            line: None,
            message: "unknown key".into(),
        })
        .collect();
    let list = match top.remove("profiles") {
        Some(Value::Array(list)) => list,
        Some(Value::Null) | None => Vec::new(),
        Some(_) => {
            problems.push(Problem {
                path: "/profiles".into(),
                line: None,
                message: "must be a list".into(),
            });
            Vec::new()
        }
    };
    let mut profiles = Vec::new();
    for (i, item) in list.into_iter().enumerate() {
        match Entry::from_value(item, &format!("/profiles/{i}")) {
            Ok(e) => profiles.push(e),
            Err(errors) => problems.extend(errors),
        }
    }
    if problems.is_empty() {
        Ok(ProvisionFile {
            profiles,
            lines: Vec::new(),
        })
    } else {
        Err(Problems(problems))
    }
}

impl Entry {
    /// The entry `value` describes, `at` its JSON Pointer. Problems name the
    /// field and the type it needs, never the value found.
    pub(crate) fn from_value(value: Value, at: &str) -> Result<Self, Vec<Problem>> {
        let problem = |path: String, message: &str| Problem {
            path,
            line: None,
            message: message.to_owned(),
        };
        let Value::Object(map) = value else {
            return Err(vec![problem(at.to_owned(), "must be a mapping")]);
        };
        let mut entry = Entry::default();
        let mut problems = Vec::new();
        let mut has_name = false;
        for (key, value) in map {
            let path = format!("{at}/{}", pointer_token(&key));
            let text = |v: Value| match v {
                Value::String(s) => Some(s),
                _ => None,
            };
            // Optional fields may be written as null (absent).
            let optional = |v: Value, slot: &mut Option<String>| match v {
                Value::Null => Some(()),
                v => text(v).map(|s| *slot = Some(s)),
            };
            let slot = match key.as_str() {
                "name" => {
                    has_name = true;
                    text(value).map(|s| entry.name = s)
                }
                "connector" => optional(value, &mut entry.connector),
                "uri" => optional(value, &mut entry.uri),
                "description" => optional(value, &mut entry.description),
                "labels" => {
                    match labels(value, &path) {
                        Ok(l) => entry.labels = l,
                        Err(p) => problems.extend(p),
                    }
                    Some(())
                }
                "config" => {
                    entry.config = (!value.is_null()).then_some(value);
                    Some(())
                }
                _ => {
                    problems.push(problem(path, "unknown key"));
                    continue;
                }
            };
            if slot.is_none() {
                problems.push(problem(path, "must be a string"));
            }
        }
        if !has_name {
            problems.push(problem(format!("{at}/name"), "is required"));
        }
        if problems.is_empty() {
            Ok(entry)
        } else {
            Err(problems)
        }
    }
}

fn labels(value: Value, at: &str) -> Result<BTreeMap<String, String>, Vec<Problem>> {
    let must = |path: String, message: &str| Problem {
        path,
        line: None,
        message: message.to_owned(),
    };
    match value {
        Value::Null => Ok(BTreeMap::new()),
        Value::Object(map) => {
            let mut out = BTreeMap::new();
            let mut problems = Vec::new();
            for (k, v) in map {
                match v {
                    Value::String(s) => drop(out.insert(k, s)),
                    _ => problems.push(must(
                        format!("{at}/{}", pointer_token(&k)),
                        "must be a string",
                    )),
                }
            }
            if problems.is_empty() {
                Ok(out)
            } else {
                Err(problems)
            }
        }
        _ => Err(vec![must(at.to_owned(), "must be a mapping of strings")]),
    }
}

/// `key` as one JSON Pointer reference token (RFC 6901).
pub(crate) fn pointer_token(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// The line where each entry's `name` is written: the first line after the
/// previous entry's that holds the name as a value.
fn entry_lines(text: &str, names: &[Option<&str>]) -> Vec<Option<usize>> {
    let lines: Vec<&str> = text.lines().collect();
    let mut from = 0;
    names
        .iter()
        .map(|name| {
            let name = (*name)?;
            let found = (from..lines.len()).find(|&i| {
                let l = lines[i];
                l.contains("name") && l.contains(name)
            });
            if let Some(i) = found {
                from = i + 1;
            }
            found.map(|i| i + 1)
        })
        .collect()
}

/// The entry a `/profiles/<i>/…` path is in.
fn entry_index(path: &str) -> Option<usize> {
    path.strip_prefix("/profiles/")?
        .split('/')
        .next()?
        .parse()
        .ok()
}
