//! Key check values in the `key_checks` table (migration 2).

use patchbay_core::{KeyCheck, Result};

use crate::error::storage;
use crate::queries::micros;
use crate::store::SqliteStore;

const SELECT: &str = "SELECT key_id, check_value FROM key_checks ORDER BY key_id";
const INSERT: &str = "INSERT INTO key_checks (key_id, check_value, created_at) VALUES (?, ?, ?) \
    ON CONFLICT (key_id) DO NOTHING";
const DELETE: &str = "DELETE FROM key_checks WHERE key_id = ?";

impl SqliteStore {
    pub(crate) async fn select_key_checks(&self) -> Result<Vec<KeyCheck>> {
        let rows: Vec<(String, String)> = sqlx::query_as(SELECT)
            .fetch_all(&self.pool)
            .await
            .map_err(|e| storage("read key checks", e))?;
        Ok(rows
            .into_iter()
            .map(|(key_id, value)| KeyCheck { key_id, value })
            .collect())
    }

    pub(crate) async fn insert_key_check(&self, check: &KeyCheck) -> Result<bool> {
        let done = sqlx::query(INSERT)
            .bind(&check.key_id)
            .bind(&check.value)
            .bind(micros(time::OffsetDateTime::now_utc()))
            .execute(&self.pool)
            .await
            .map_err(|e| storage("record a key check", e))?;
        Ok(done.rows_affected() == 1)
    }

    pub(crate) async fn delete_key_check(&self, key_id: &str) -> Result<bool> {
        let done = sqlx::query(DELETE)
            .bind(key_id)
            .execute(&self.pool)
            .await
            .map_err(|e| storage("remove a key check", e))?;
        Ok(done.rows_affected() == 1)
    }
}
