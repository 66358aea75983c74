//! The connectors a service knows, with their compiled schemas.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

use crate::connector::Connector;
use crate::error::{Error, FieldError, Result, ValidationErrors};
use crate::schema::ConfigSchema;

/// A registered connector and its compiled config schema.
pub(crate) struct Registered {
    pub(crate) connector: Arc<dyn Connector>,
    pub(crate) schema: ConfigSchema,
}

/// Connectors by kind.
#[derive(Default)]
pub struct ConnectorRegistry {
    entries: BTreeMap<&'static str, Registered>,
}

/// What a client needs to know about a connector.
#[derive(Debug, Clone, Serialize)]
pub struct ConnectorInfo {
    /// Kind, such as `kafka`.
    pub kind: String,
    /// One line for humans.
    pub description: String,
    /// JSON Schema of the config; secret fields carry `writeOnly: true`.
    pub schema: Value,
    /// Names of the secret fields.
    pub secret_fields: Vec<String>,
    /// Autocomplete types served.
    pub autocomplete_types: Vec<String>,
    /// Connection URI schemes read (not served by `/connectors`; the OpenAPI
    /// document states them).
    #[serde(skip)]
    pub uri_schemes: Vec<String>,
}

impl ConnectorRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `connector`, replacing any of the same kind.
    ///
    /// # Errors
    /// `Validation` when its schema does not compile.
    pub fn register(&mut self, connector: Arc<dyn Connector>) -> Result<()> {
        let schema = ConfigSchema::compile(connector.config_schema())?;
        self.entries
            .insert(connector.kind(), Registered { connector, schema });
        Ok(())
    }

    pub(crate) fn get(&self, kind: &str) -> Result<&Registered> {
        self.entries
            .get(kind)
            .ok_or_else(|| Error::UnknownConnector(kind.to_owned()))
    }

    /// The connector that reads URIs of `scheme` (lower case).
    ///
    /// # Errors
    /// `Validation` at `/uri` listing the schemes registered.
    pub(crate) fn for_scheme(&self, scheme: &str) -> Result<&Registered> {
        self.entries
            .values()
            .find(|r| r.connector.uri_schemes().contains(&scheme))
            .ok_or_else(|| {
                let mut known: Vec<&str> = self
                    .entries
                    .values()
                    .flat_map(|r| r.connector.uri_schemes().iter().copied())
                    .collect();
                known.sort_unstable();
                Error::Validation(ValidationErrors(vec![FieldError::new(
                    "/uri",
                    format!(
                        "no connector reads `{scheme}://` URIs (known: {})",
                        known.join(", ")
                    ),
                )]))
            })
    }

    /// Kinds registered, sorted.
    pub fn kinds(&self) -> Vec<&'static str> {
        self.entries.keys().copied().collect()
    }

    /// Every connector's public description.
    pub fn infos(&self) -> Vec<ConnectorInfo> {
        self.entries
            .values()
            .map(|r| ConnectorInfo {
                kind: r.connector.kind().to_owned(),
                description: r.connector.description().to_owned(),
                schema: r.schema.schema().clone(),
                secret_fields: r.schema.secrets().to_vec(),
                autocomplete_types: r
                    .connector
                    .autocomplete_types()
                    .iter()
                    .map(|s| (*s).to_owned())
                    .collect(),
                uri_schemes: r
                    .connector
                    .uri_schemes()
                    .iter()
                    .map(|s| (*s).to_owned())
                    .collect(),
            })
            .collect()
    }
}
