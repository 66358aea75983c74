//! Config schemas: generated from typed structs, validated with `jsonschema`.

use jsonschema::error::ValidationErrorKind;
use serde_json::Value;

use crate::error::{Error, FieldError, Result};

/// The JSON Schema (draft 2020-12) of a connector's typed config.
///
/// Put `#[serde(deny_unknown_fields)]` on the struct so unknown fields are
/// rejected, and mark secrets with `#[schemars(extend("writeOnly" = true))]`.
pub fn schema_for<T: schemars::JsonSchema>() -> Value {
    serde_json::to_value(schemars::schema_for!(T)).expect("a schema is always JSON")
}

/// Top-level properties marked `writeOnly: true`.
pub fn secret_fields(schema: &Value) -> Vec<String> {
    schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|props| {
            props
                .iter()
                .filter(|(_, p)| p.get("writeOnly").and_then(Value::as_bool) == Some(true))
                .map(|(name, _)| name.clone())
                .collect()
        })
        .unwrap_or_default()
}

/// A compiled config schema.
pub struct ConfigSchema {
    schema: Value,
    validator: jsonschema::Validator,
    secrets: Vec<String>,
}

impl ConfigSchema {
    /// Compiles `schema`.
    ///
    /// # Errors
    /// `Validation` when `schema` is not a valid JSON Schema.
    pub fn compile(schema: Value) -> Result<Self> {
        let validator = jsonschema::validator_for(&schema)
            .map_err(|e| Error::invalid("/", format!("invalid JSON Schema: {e}")))?;
        let secrets = secret_fields(&schema);
        Ok(Self {
            schema,
            validator,
            secrets,
        })
    }

    /// The schema as published.
    pub fn schema(&self) -> &Value {
        &self.schema
    }

    /// Names of secret fields.
    pub fn secrets(&self) -> &[String] {
        &self.secrets
    }

    /// Whether `field` is a secret.
    pub fn is_secret(&self, field: &str) -> bool {
        self.secrets.iter().any(|s| s == field)
    }

    /// Every schema violation of `config`, paths prefixed with `prefix`.
    /// Unknown fields are reported one by one at their own path. Messages
    /// never quote a secret field's value.
    pub fn validate(&self, config: &Value, prefix: &str) -> Vec<FieldError> {
        let mut out = Vec::new();
        for e in self.validator.iter_errors(config) {
            let path = e.instance_path().to_string();
            if let ValidationErrorKind::AdditionalProperties { unexpected } = e.kind() {
                out.extend(unexpected.iter().map(|field| {
                    let field = field.replace('~', "~0").replace('/', "~1");
                    FieldError::new(format!("{prefix}{path}/{field}"), "is not a known field")
                }));
                continue;
            }
            let top = path.split('/').nth(1).unwrap_or_default();
            let message = if self.is_secret(top) {
                // The default message quotes the value: say it without it.
                "has an invalid value for a secret field".to_owned()
            } else {
                e.to_string()
            };
            out.push(FieldError::new(format!("{prefix}{path}"), message));
        }
        out
    }
}
