//! The SQL the store runs, qualified with its schema once at connect time,
//! and the mapping from rows to profiles.

use std::collections::BTreeMap;

use patchbay_core::{ListQuery, Profile, ProfileId, Result, SealedSecrets};
use serde_json::{Map, Value};
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use sqlx::Row;

use crate::error::corrupt;

const COLUMNS: &str =
    "id, name, connector, description, config, secrets, created_at, updated_at, version";

/// Every fixed statement, with the schema spliced in.
#[derive(Debug)]
pub(crate) struct Queries {
    pub insert: String,
    pub select_by_id: String,
    pub select_by_name_key: String,
    pub update: String,
    pub version_of: String,
    pub exists: String,
    pub delete: String,
    pub attach: String,
    pub detach: String,
    pub dependents: String,
    /// `SELECT … FROM "schema".profiles WHERE true`, to which `list` appends.
    list_head: String,
}

impl Queries {
    /// `schema` must already be checked to be a plain identifier.
    pub fn new(schema: &str) -> Self {
        let p = format!("\"{schema}\".profiles");
        let d = format!("\"{schema}\".profile_dependents");
        Self {
            insert: format!(
                "INSERT INTO {p} (id, name, name_key, connector, description, config, secrets, created_at, updated_at, version) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
            ),
            select_by_id: format!("SELECT {COLUMNS} FROM {p} WHERE id = $1"),
            select_by_name_key: format!("SELECT {COLUMNS} FROM {p} WHERE name_key = $1"),
            update: format!(
                "UPDATE {p} SET name = $1, name_key = $2, connector = $3, description = $4, config = $5, \
                 secrets = $6, created_at = $7, updated_at = $8, version = $9 WHERE id = $10 AND version = $11"
            ),
            version_of: format!("SELECT version FROM {p} WHERE id = $1"),
            exists: format!("SELECT 1 FROM {p} WHERE id = $1"),
            delete: format!("DELETE FROM {p} WHERE id = $1"),
            attach: format!(
                "INSERT INTO {d} (profile_id, kind, dependent_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"
            ),
            detach: format!("DELETE FROM {d} WHERE profile_id = $1 AND kind = $2 AND dependent_id = $3"),
            dependents: format!(
                "SELECT kind, dependent_id FROM {d} WHERE profile_id = $1 ORDER BY kind, dependent_id"
            ),
            list_head: format!("SELECT {COLUMNS} FROM {p} WHERE true"),
        }
    }

    /// A keyset page: bounds on `name_key` (served by its index, or by
    /// `(connector, name_key)` when filtered), never an OFFSET. Fetches one
    /// row more than the page to learn whether another page follows. Returns
    /// the SQL and its text binds; the row count is bound last.
    pub fn list(&self, query: &ListQuery, after: Option<String>) -> (String, Vec<String>) {
        let mut sql = self.list_head.clone();
        let mut binds = Vec::new();
        if let Some(connector) = &query.connector {
            cond(&mut sql, &mut binds, "connector =", connector.clone());
        }
        if let Some(prefix) = query.name_prefix.as_deref().filter(|p| !p.is_empty()) {
            let prefix = patchbay_core::profile::name_key(prefix);
            // Names are ASCII and name_key compares bytewise ("C").
            cond(
                &mut sql,
                &mut binds,
                "name_key <",
                format!("{prefix}\u{10FFFF}"),
            );
            cond(&mut sql, &mut binds, "name_key >=", prefix);
        }
        if let Some(after) = after {
            cond(&mut sql, &mut binds, "name_key >", after);
        }
        sql.push_str(&format!(" ORDER BY name_key LIMIT ${}", binds.len() + 1));
        (sql, binds)
    }
}

/// Appends ` AND <op> $n`, binding `v` as the n-th parameter.
fn cond(sql: &mut String, binds: &mut Vec<String>, op: &str, v: String) {
    binds.push(v);
    sql.push_str(&format!(" AND {op} ${}", binds.len()));
}

/// A row of `COLUMNS` back into a profile.
pub(crate) fn profile(row: &PgRow) -> Result<Profile> {
    let id: String = row.try_get("id").map_err(|e| corrupt("?", "id", e))?;
    let config: Json<Map<String, Value>> = row
        .try_get("config")
        .map_err(|e| corrupt(&id, "config", e))?;
    let secrets: Json<BTreeMap<String, String>> = row
        .try_get("secrets")
        .map_err(|e| corrupt(&id, "secrets", e))?;
    let version: i64 = row
        .try_get("version")
        .map_err(|e| corrupt(&id, "version", e))?;
    Ok(Profile {
        name: row.try_get("name").map_err(|e| corrupt(&id, "name", e))?,
        connector: row
            .try_get("connector")
            .map_err(|e| corrupt(&id, "connector", e))?,
        description: row
            .try_get("description")
            .map_err(|e| corrupt(&id, "description", e))?,
        config: config.0,
        secrets: SealedSecrets(secrets.0),
        created_at: row
            .try_get("created_at")
            .map_err(|e| corrupt(&id, "created_at", e))?,
        updated_at: row
            .try_get("updated_at")
            .map_err(|e| corrupt(&id, "updated_at", e))?,
        version: version as u64,
        id: ProfileId::parse(&id)
            .ok_or_else(|| corrupt(&id, "id", sqlx::Error::Decode("not a profile id".into())))?,
    })
}
