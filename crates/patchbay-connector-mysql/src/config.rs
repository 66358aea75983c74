//! The typed config of a resolved `mysql` profile.

use patchbay_connector_sql::SqlConfig;

/// A `mysql` profile's config, kind-checked: `resolved.config::<MySqlConfig>()`
/// fails with `VALIDATION_FAILED` on `/connector` for any other kind. The
/// fields are the shared SQL ones ([`SqlConfig`], through `Deref`), as
/// MySQL uses them.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(transparent)]
pub struct MySqlConfig(pub SqlConfig);

impl std::ops::Deref for MySqlConfig {
    type Target = SqlConfig;

    fn deref(&self) -> &SqlConfig {
        &self.0
    }
}

impl patchbay_core::ConnectorConfig for MySqlConfig {
    const KIND: &'static str = "mysql";
}
