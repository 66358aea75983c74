//! The typed config of a resolved `postgres` profile.

use patchbay_connector_sql::SqlConfig;

/// A `postgres` profile's config, kind-checked: `resolved.config::<PostgresConfig>()`
/// fails with `VALIDATION_FAILED` on `/connector` for any other kind. The
/// fields are the shared SQL ones ([`SqlConfig`], through `Deref`), as
/// PostgreSQL uses them.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(transparent)]
pub struct PostgresConfig(pub SqlConfig);

impl std::ops::Deref for PostgresConfig {
    type Target = SqlConfig;

    fn deref(&self) -> &SqlConfig {
        &self.0
    }
}

impl patchbay_core::ConnectorConfig for PostgresConfig {
    const KIND: &'static str = "postgres";
}
