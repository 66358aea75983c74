//! Profiles from and as connection URIs (`postgres://user@host/db`).

use serde_json::Value;

use super::ProfileService;
use crate::error::{Error, FieldError, Result, ValidationErrors};
use crate::profile::{NewProfile, Profile};
use crate::uri::{scheme_of, ConnectionUri};

impl ProfileService {
    /// The connector kind and config a connection URI describes, validated
    /// like a create's config. Every problem points at `/uri`; the password
    /// is never quoted.
    ///
    /// # Errors
    /// `Validation` at `/uri`: malformed URI, no connector for its scheme, or
    /// a config the connector refuses (the message names the config field).
    pub fn config_from_uri(&self, uri: &str) -> Result<(String, Value)> {
        let invalid = |errors: Vec<FieldError>| Error::Validation(ValidationErrors(errors));
        let scheme = scheme_of(uri)
            .ok_or_else(|| Error::invalid("/uri", "the URI must start with `scheme://`"))?;
        let reg = self.inner.registry.for_scheme(&scheme)?;
        let parsed = ConnectionUri::parse(uri).map_err(|e| invalid(vec![e]))?;
        let mut config = reg.connector.config_from_uri(&parsed).map_err(invalid)?;
        crate::input::integral_numbers(&mut config);
        let mut errors = Vec::new();
        self.check_config(reg, &config, &mut errors);
        if !errors.is_empty() {
            // Name the config field the URI part became, at `/uri`.
            let errors = errors
                .into_iter()
                .map(|e| {
                    let field = e.path.trim_start_matches("/config").trim_start_matches('/');
                    let field = if field.is_empty() { "config" } else { field };
                    FieldError::new("/uri", format!("{field}: {}", e.message))
                })
                .collect();
            return Err(invalid(errors));
        }
        Ok((reg.connector.kind().to_owned(), config))
    }

    /// Creates a profile from a connection URI: its password becomes a
    /// sealed secret like any other.
    ///
    /// # Errors
    /// As [`config_from_uri`](Self::config_from_uri), then as
    /// [`create`](Self::create).
    pub async fn create_from_uri(
        &self,
        name: impl Into<String>,
        uri: &str,
        description: Option<String>,
        labels: crate::labels::Labels,
    ) -> Result<Profile> {
        let (connector, config) = self.config_from_uri(uri)?;
        self.create(NewProfile {
            name: name.into(),
            connector,
            description,
            config,
            labels,
        })
        .await
    }

    /// A stored profile as a connection URI, **without its secrets**;
    /// `None` when its connector has no URI form.
    ///
    /// # Errors
    /// `UnknownConnector`.
    pub fn uri_of(&self, profile: &Profile) -> Result<Option<String>> {
        let reg = self.inner.registry.get(&profile.connector)?;
        Ok(reg.connector.uri_of(&Value::Object(profile.config.clone())))
    }
}
