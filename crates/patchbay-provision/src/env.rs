//! Environment profiles: `PATCHBAY_CONN_<NAME>` holding a connection URI or a
//! JSON entry (`{"connector": …, "config": …}`), applied like a provisioning
//! file managed by `env`. `ORDERS_DB` names the profile `orders-db`.

use crate::file::{Entry, ProvisionFile};
use crate::problem::{Problem, Problems};

/// The variable prefix.
pub const PREFIX: &str = "PATCHBAY_CONN_";

/// The profile name a variable gives: `PATCHBAY_CONN_ORDERS_DB` → `orders-db`.
pub fn profile_name(var: &str) -> Option<String> {
    let rest = var.strip_prefix(PREFIX)?;
    (!rest.is_empty()).then(|| rest.to_ascii_lowercase().replace('_', "-"))
}

/// The entries the given variables declare (others are ignored). Values are
/// never quoted in problems: they hold passwords.
///
/// # Errors
/// Every variable whose value is neither a URI nor a JSON entry.
pub fn from_vars(
    vars: impl IntoIterator<Item = (String, String)>,
) -> Result<ProvisionFile, Problems> {
    let mut vars: Vec<(String, String)> = vars
        .into_iter()
        .filter(|(k, _)| k.starts_with(PREFIX))
        .collect();
    vars.sort();
    let mut problems = Vec::new();
    let mut file = ProvisionFile::default();
    for (var, value) in vars {
        let at = |message: String| Problem {
            path: format!("/env/{var}"),
            line: None,
            message,
        };
        let Some(name) = profile_name(&var) else {
            problems.push(at("names no profile".into()));
            continue;
        };
        let value = value.trim();
        let entry = if value.starts_with('{') {
            let parsed = match serde_json::from_str::<serde_json::Value>(value) {
                Ok(v) => with_name(v, &name),
                Err(e) => {
                    // serde's message may quote the input: only its position.
                    problems.push(at(format!(
                        "not valid JSON (line {}, column {})",
                        e.line(),
                        e.column()
                    )));
                    continue;
                }
            };
            match Entry::from_value(parsed, &format!("/env/{var}")) {
                Ok(e) => e,
                Err(found) => {
                    problems.extend(found);
                    continue;
                }
            }
        } else {
            Entry {
                name,
                uri: Some(value.to_owned()),
                ..Entry::default()
            }
        };
        file.profiles.push(entry);
        file.lines.push(None);
    }
    if problems.is_empty() {
        Ok(file)
    } else {
        Err(Problems(problems))
    }
}

/// Reads the process environment.
///
/// # Errors
/// As [`from_vars`].
pub fn from_env() -> Result<ProvisionFile, Problems> {
    from_vars(std::env::vars())
}

/// The JSON entry with its `name` set from the variable.
fn with_name(mut json: serde_json::Value, name: &str) -> serde_json::Value {
    if let serde_json::Value::Object(map) = &mut json {
        map.entry("name").or_insert_with(|| name.into());
    }
    json
}
