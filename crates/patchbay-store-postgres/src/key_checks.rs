//! Key check values in the schema's `key_checks` table (migration 2).

use patchbay_core::{KeyCheck, Result};

use crate::error::storage;
use crate::store::PostgresStore;

/// The statements, with the schema spliced in (a checked identifier).
#[derive(Debug)]
pub(crate) struct KeyCheckSql {
    select: String,
    insert: String,
    delete: String,
}

impl KeyCheckSql {
    pub(crate) fn new(schema: &str) -> Self {
        let t = format!("\"{schema}\".key_checks");
        Self {
            select: format!("SELECT key_id, check_value FROM {t} ORDER BY key_id"),
            insert: format!(
                "INSERT INTO {t} (key_id, check_value) VALUES ($1, $2) ON CONFLICT (key_id) DO NOTHING"
            ),
            delete: format!("DELETE FROM {t} WHERE key_id = $1"),
        }
    }
}

impl PostgresStore {
    pub(crate) async fn select_key_checks(&self) -> Result<Vec<KeyCheck>> {
        let rows: Vec<(String, String)> = sqlx::query_as(&self.key_sql.select)
            .fetch_all(&self.pool)
            .await
            .map_err(|e| storage("read key checks", e))?;
        Ok(rows
            .into_iter()
            .map(|(key_id, value)| KeyCheck { key_id, value })
            .collect())
    }

    pub(crate) async fn insert_key_check(&self, check: &KeyCheck) -> Result<bool> {
        let done = sqlx::query(&self.key_sql.insert)
            .bind(&check.key_id)
            .bind(&check.value)
            .execute(&self.pool)
            .await
            .map_err(|e| storage("record a key check", e))?;
        Ok(done.rows_affected() == 1)
    }

    pub(crate) async fn delete_key_check(&self, key_id: &str) -> Result<bool> {
        let done = sqlx::query(&self.key_sql.delete)
            .bind(key_id)
            .execute(&self.pool)
            .await
            .map_err(|e| storage("remove a key check", e))?;
        Ok(done.rows_affected() == 1)
    }
}
