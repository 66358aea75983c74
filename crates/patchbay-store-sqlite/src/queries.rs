//! The SQL the store runs, and the mapping between rows and profiles.

use std::collections::BTreeMap;

use patchbay_core::{ListQuery, Profile, ProfileId, Result, SealedSecrets, TenantId};
use serde_json::{Map, Value};
use sqlx::sqlite::SqliteRow;
use sqlx::Row;
use time::OffsetDateTime;

use crate::error::corrupt;

const COLUMNS: &str = "p.id, p.tenant, p.name, p.connector, p.description, p.config, p.labels, \
    p.secrets, p.created_at, p.updated_at, p.version";

pub(crate) const INSERT: &str = "INSERT INTO profiles \
    (id, tenant, name, name_key, connector, description, config, labels, secrets, created_at, updated_at, version) \
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

pub(crate) const UPDATE: &str = "UPDATE profiles SET \
    name = ?, name_key = ?, connector = ?, description = ?, config = ?, labels = ?, secrets = ?, \
    created_at = ?, updated_at = ?, version = ? \
    WHERE id = ? AND tenant = ? AND version = ?";

// Every statement on one profile names its tenant too: another tenant's
// profile matches nothing, exactly like a missing one.
pub(crate) const VERSION_OF: &str = "SELECT version FROM profiles WHERE id = ? AND tenant = ?";
pub(crate) const EXISTS: &str = "SELECT 1 FROM profiles WHERE id = ? AND tenant = ?";
pub(crate) const DELETE: &str = "DELETE FROM profiles WHERE id = ? AND tenant = ?";
pub(crate) const TENANTS: &str = "SELECT DISTINCT tenant FROM profiles ORDER BY tenant";

pub(crate) const ATTACH: &str = "INSERT INTO profile_dependents (profile_id, kind, dependent_id) \
    SELECT ?1, ?2, ?3 WHERE EXISTS (SELECT 1 FROM profiles WHERE id = ?1 AND tenant = ?4) \
    ON CONFLICT DO NOTHING";
pub(crate) const DETACH: &str = "DELETE FROM profile_dependents \
    WHERE profile_id = ?1 AND kind = ?2 AND dependent_id = ?3 \
    AND EXISTS (SELECT 1 FROM profiles WHERE id = ?1 AND tenant = ?4)";
pub(crate) const DEPENDENTS: &str = "SELECT d.kind, d.dependent_id FROM profile_dependents d \
    JOIN profiles p ON p.id = d.profile_id \
    WHERE d.profile_id = ? AND p.tenant = ? ORDER BY d.kind, d.dependent_id";

// The attachment is in the same transaction, so it exists for the FK.
pub(crate) const CLAIM_NAME: &str = "INSERT INTO dependent_names \
    (tenant, kind, dependent_id, profile_id) VALUES (?, ?, ?, ?)";
pub(crate) const NAMED_DEPENDENTS: &str = "SELECT dependent_id, profile_id FROM dependent_names \
    WHERE tenant = ? AND kind = ? AND dependent_id > ? ORDER BY dependent_id LIMIT ?";
pub(crate) const NAMED_DEPENDENT: &str = "SELECT profile_id FROM dependent_names \
    WHERE tenant = ? AND kind = ? AND dependent_id = ?";

/// `SELECT … WHERE id = ?`
pub(crate) fn select_by_id() -> &'static str {
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SQL.get_or_init(|| format!("SELECT {COLUMNS} FROM profiles p WHERE id = ? AND tenant = ?"))
}

/// `SELECT … WHERE name_key = ?`
pub(crate) fn select_by_name_key() -> &'static str {
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SQL.get_or_init(|| {
        format!("SELECT {COLUMNS} FROM profiles p WHERE tenant = ? AND name_key = ?")
    })
}

/// A keyset page: one tenant, bounds on `name_key` (served by the
/// `(tenant, name_key)` index, or `(tenant, connector, name_key)` when
/// filtered), never an OFFSET. Fetches one row
/// more than the page to learn whether another page follows.
pub(crate) struct ListSql {
    pub sql: String,
    pub binds: Vec<String>,
    pub fetch: i64,
}

/// Builds the statement for `query`; `after` is the decoded cursor.
pub(crate) fn list(
    tenant: &TenantId,
    query: &ListQuery,
    after: Option<String>,
    limit: usize,
) -> ListSql {
    // With a label filter the first label's rows drive, in name order
    // (`k` is profile_labels, keyed (tenant, key, value, name_key)); any
    // further label is a lookup by profile.
    let (mut sql, order) = match query.labels.first() {
        None => (
            format!("SELECT {COLUMNS} FROM profiles p WHERE p.tenant = ?"),
            "p",
        ),
        Some(_) => (
            format!(
                "SELECT {COLUMNS} FROM profile_labels k JOIN profiles p ON p.id = k.profile_id \
                 WHERE k.tenant = ? AND k.key = ? AND k.value = ?"
            ),
            "k",
        ),
    };
    let mut binds = vec![tenant.to_string()];
    if let Some((key, value)) = query.labels.first() {
        binds.push(key.clone());
        binds.push(value.clone());
    }
    for (key, value) in query.labels.iter().skip(1) {
        sql.push_str(
            " AND EXISTS (SELECT 1 FROM profile_labels x \
             WHERE x.profile_id = p.id AND x.key = ? AND x.value = ?)",
        );
        binds.push(key.clone());
        binds.push(value.clone());
    }
    if let Some(connector) = &query.connector {
        sql.push_str(" AND p.connector = ?");
        binds.push(connector.clone());
    }
    if let Some(prefix) = query.name_prefix.as_deref().filter(|p| !p.is_empty()) {
        let prefix = patchbay_core::profile::name_key(prefix);
        sql.push_str(&format!(
            " AND {order}.name_key >= ? AND {order}.name_key < ?"
        ));
        binds.push(prefix.clone());
        binds.push(prefix_end(&prefix));
    }
    if let Some(after) = after {
        sql.push_str(&format!(" AND {order}.name_key > ?"));
        binds.push(after);
    }
    sql.push_str(&format!(" ORDER BY {order}.name_key LIMIT ?"));
    ListSql {
        sql,
        binds,
        fetch: limit as i64 + 1,
    }
}

/// The smallest string above every string starting with `prefix` (names are
/// ASCII, and the comparison is bytewise).
pub(crate) fn prefix_end(prefix: &str) -> String {
    format!("{prefix}\u{10FFFF}")
}

/// Unix microseconds, the stored form of a timestamp.
pub(crate) fn micros(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000) as i64
}

pub(crate) fn from_micros(id: &str, us: i64) -> Result<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(us) * 1_000)
        .map_err(|e| corrupt(id, "timestamp", e))
}

/// Config, labels and secrets as stored JSON text.
pub(crate) fn encode_json(profile: &Profile) -> (String, String, String) {
    let config = Value::Object(profile.config.clone()).to_string();
    let labels = serde_json::to_string(&profile.labels).expect("a map of strings serializes");
    let secrets = serde_json::to_string(&profile.secrets.0).expect("a map of strings serializes");
    (config, labels, secrets)
}

/// A row of `COLUMNS` back into a profile.
pub(crate) fn profile(row: &SqliteRow) -> Result<Profile> {
    let id: String = row.try_get("id").map_err(|e| corrupt("?", "id", e))?;
    let get_text =
        |col: &str| -> Result<String> { row.try_get(col).map_err(|e| corrupt(&id, col, e)) };
    let get_int = |col: &str| -> Result<i64> { row.try_get(col).map_err(|e| corrupt(&id, col, e)) };
    let config: Map<String, Value> =
        serde_json::from_str(&get_text("config")?).map_err(|e| corrupt(&id, "config", e))?;
    let secrets: BTreeMap<String, String> =
        serde_json::from_str(&get_text("secrets")?).map_err(|e| corrupt(&id, "secrets", e))?;
    let labels: BTreeMap<String, String> =
        serde_json::from_str(&get_text("labels")?).map_err(|e| corrupt(&id, "labels", e))?;
    let description: Option<String> = row
        .try_get("description")
        .map_err(|e| corrupt(&id, "description", e))?;
    let tenant = get_text("tenant")?;
    Ok(Profile {
        tenant: TenantId::new(&tenant).map_err(|e| corrupt(&id, "tenant", e))?,
        name: get_text("name")?,
        connector: get_text("connector")?,
        description,
        config,
        labels,
        secrets: SealedSecrets(secrets),
        created_at: from_micros(&id, get_int("created_at")?)?,
        updated_at: from_micros(&id, get_int("updated_at")?)?,
        version: u64::try_from(get_int("version")?).map_err(|e| corrupt(&id, "version", e))?,
        id: ProfileId::parse(&id).ok_or_else(|| corrupt(&id, "id", "not a profile id"))?,
    })
}
