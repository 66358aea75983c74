//! The SQL the store runs, qualified with its schema once at connect time,
//! and the mapping from rows to profiles.

use std::collections::BTreeMap;

use patchbay_core::{ListQuery, Profile, ProfileId, Result, SealedSecrets, TenantId};
use serde_json::{Map, Value};
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use sqlx::Row;

use crate::error::corrupt;

const COLUMNS: &str = "id, tenant, name, connector, description, config, labels, secrets, \
    created_at, updated_at, version";
/// [`COLUMNS`] of `profiles p` in a join.
const P_COLUMNS: &str = "p.id, p.tenant, p.name, p.connector, p.description, p.config, \
    p.labels, p.secrets, p.created_at, p.updated_at, p.version";

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
    pub claim_name: String,
    pub named_dependents: String,
    pub named_dependent: String,
    pub tenants: String,
    /// `SELECT … FROM "schema".profiles p WHERE p.tenant = $1`, to which
    /// `list` appends.
    list_head: String,
    /// The same driven by one label: `$2` its key, `$3` its value.
    list_by_label: String,
}

impl Queries {
    /// `schema` must already be checked to be a plain identifier.
    pub fn new(schema: &str) -> Self {
        let p = format!("\"{schema}\".profiles");
        let d = format!("\"{schema}\".profile_dependents");
        let n = format!("\"{schema}\".dependent_names");
        // Every statement on one profile names its tenant too: another
        // tenant's profile matches nothing, exactly like a missing one.
        let mine = format!("EXISTS (SELECT 1 FROM {p} WHERE id = $1 AND tenant = $4)");
        Self {
            insert: format!(
                "INSERT INTO {p} (id, tenant, name, name_key, connector, description, config, secrets, created_at, updated_at, version, labels) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
            ),
            select_by_id: format!("SELECT {COLUMNS} FROM {p} WHERE id = $1 AND tenant = $2"),
            select_by_name_key: format!(
                "SELECT {COLUMNS} FROM {p} WHERE tenant = $1 AND name_key = $2"
            ),
            update: format!(
                "UPDATE {p} SET name = $1, name_key = $2, connector = $3, description = $4, config = $5, \
                 secrets = $6, created_at = $7, updated_at = $8, version = $9 \
                 , labels = $13 WHERE id = $10 AND tenant = $11 AND version = $12"
            ),
            version_of: format!("SELECT version FROM {p} WHERE id = $1 AND tenant = $2"),
            exists: format!("SELECT 1 FROM {p} WHERE id = $1 AND tenant = $2"),
            delete: format!("DELETE FROM {p} WHERE id = $1 AND tenant = $2"),
            // The foreign key still decides a race with delete (its check
            // locks the profile row); EXISTS only keeps other tenants out.
            attach: format!(
                "INSERT INTO {d} (profile_id, kind, dependent_id) SELECT $1, $2, $3 WHERE {mine} \
                 ON CONFLICT DO NOTHING"
            ),
            detach: format!(
                "DELETE FROM {d} WHERE profile_id = $1 AND kind = $2 AND dependent_id = $3 AND {mine}"
            ),
            dependents: format!(
                "SELECT d.kind, d.dependent_id FROM {d} d JOIN {p} p ON p.id = d.profile_id \
                 WHERE d.profile_id = $1 AND p.tenant = $2 ORDER BY d.kind, d.dependent_id"
            ),
            // The attachment is in the same transaction, so it exists for the FK.
            claim_name: format!(
                "INSERT INTO {n} (tenant, kind, dependent_id, profile_id) VALUES ($1, $2, $3, $4)"
            ),
            named_dependents: format!(
                "SELECT dependent_id, profile_id FROM {n} WHERE tenant = $1 AND kind = $2 \
                 AND dependent_id > $3 ORDER BY dependent_id LIMIT $4"
            ),
            named_dependent: format!(
                "SELECT profile_id FROM {n} WHERE tenant = $1 AND kind = $2 AND dependent_id = $3"
            ),
            tenants: format!("SELECT DISTINCT tenant FROM {p} ORDER BY tenant"),
            list_head: format!("SELECT {COLUMNS} FROM {p} p WHERE p.tenant = $1"),
            list_by_label: format!(
                "SELECT {P_COLUMNS} FROM \"{schema}\".profile_labels k \
                 JOIN {p} p ON p.id = k.profile_id \
                 WHERE k.tenant = $1 AND k.key = $2 AND k.value = $3"
            ),
        }
    }

    /// A keyset page: one tenant, bounds on `name_key` (served by the
    /// `(tenant, name_key)` index, or `(tenant, connector, name_key)` when
    /// filtered by connector), never an OFFSET. With labels, the first
    /// label's `profile_labels` rows drive, keyed `(tenant, key, value,
    /// name_key)`: the page reads its own rows whatever the label's share;
    /// further labels are a containment test on each. Fetches one
    /// row more than the page to learn whether another page follows. Returns
    /// the SQL and its text binds; the row count is bound last.
    pub fn list(
        &self,
        tenant: &TenantId,
        query: &ListQuery,
        after: Option<String>,
    ) -> (String, Vec<String>) {
        let mut binds = vec![tenant.to_string()];
        let (mut sql, key) = match query.labels.first() {
            None => (self.list_head.clone(), "name_key"),
            Some((k, v)) => {
                binds.extend([k.clone(), v.clone()]);
                (self.list_by_label.clone(), "k.name_key")
            }
        };
        if let Some(connector) = &query.connector {
            cond(&mut sql, &mut binds, "p.connector =", connector.clone());
        }
        if query.labels.len() > 1 {
            let wanted: serde_json::Map<String, Value> = query.labels[1..]
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect();
            let wanted = Value::Object(wanted).to_string();
            cond(&mut sql, &mut binds, "p.labels @> ", wanted);
            sql.push_str("::jsonb");
        }
        if let Some(prefix) = query.name_prefix.as_deref().filter(|p| !p.is_empty()) {
            let prefix = patchbay_core::profile::name_key(prefix);
            // Names are ASCII and name_key compares bytewise ("C").
            cond(
                &mut sql,
                &mut binds,
                &format!("{key} <"),
                format!("{prefix}\u{10FFFF}"),
            );
            cond(&mut sql, &mut binds, &format!("{key} >="), prefix);
        }
        if let Some(after) = after {
            cond(&mut sql, &mut binds, &format!("{key} >"), after);
        }
        sql.push_str(&format!(" ORDER BY {key} LIMIT ${}", binds.len() + 1));
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
    let labels: Json<BTreeMap<String, String>> = row
        .try_get("labels")
        .map_err(|e| corrupt(&id, "labels", e))?;
    let version: i64 = row
        .try_get("version")
        .map_err(|e| corrupt(&id, "version", e))?;
    let tenant: String = row
        .try_get("tenant")
        .map_err(|e| corrupt(&id, "tenant", e))?;
    Ok(Profile {
        tenant: TenantId::new(&tenant)
            .map_err(|e| corrupt(&id, "tenant", sqlx::Error::Decode(e.to_string().into())))?,
        name: row.try_get("name").map_err(|e| corrupt(&id, "name", e))?,
        connector: row
            .try_get("connector")
            .map_err(|e| corrupt(&id, "connector", e))?,
        description: row
            .try_get("description")
            .map_err(|e| corrupt(&id, "description", e))?,
        config: config.0,
        labels: labels.0,
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
