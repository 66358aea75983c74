//! The audit trail in `audit_events` (migration 5): written inside each
//! write's transaction ([`insert_event`]), and on its own for openings of
//! secrets and failures ([`AuditSink::record`]); read per tenant, oldest
//! first, keyset on `seq`.

use async_trait::async_trait;
use patchbay_core::audit::{decode_audit_cursor, encode_audit_cursor};
use patchbay_core::repository::MAX_PAGE_SIZE;
use patchbay_core::{
    AuditAction, AuditEvent, AuditOutcome, AuditQuery, AuditSink, Page, ProfileId, Result, TenantId,
};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};

use crate::error::{corrupt, storage};
use crate::queries::{from_micros, micros};
use crate::store::SqliteStore;

const INSERT: &str = "INSERT INTO audit_events \
    (at, tenant, principal, action, profile_id, version, outcome, error_code) \
    VALUES (?, ?, ?, ?, ?, ?, ?, ?)";

/// Records `event` on `conn` (inside the caller's transaction).
pub(crate) async fn insert_event(conn: &mut SqliteConnection, e: &AuditEvent) -> Result<()> {
    sqlx::query(INSERT)
        .bind(micros(e.at))
        .bind(e.tenant.as_str())
        .bind(e.principal.as_deref())
        .bind(e.action.as_str())
        .bind(e.profile_id.as_ref().map(ProfileId::as_str))
        .bind(e.version.map(|v| v as i64))
        .bind(e.outcome.as_str())
        .bind(e.error_code.as_deref())
        .execute(conn)
        .await
        .map_err(|err| storage("record an audit event", err))?;
    Ok(())
}

fn event(row: &SqliteRow, tenant: &TenantId) -> Result<AuditEvent> {
    let bad = |col: &str, e: sqlx::Error| corrupt("audit", col, e);
    let seq: i64 = row.try_get("seq").map_err(|e| bad("seq", e))?;
    let action: String = row.try_get("action").map_err(|e| bad("action", e))?;
    let outcome: String = row.try_get("outcome").map_err(|e| bad("outcome", e))?;
    let profile: Option<String> = row
        .try_get("profile_id")
        .map_err(|e| bad("profile_id", e))?;
    let version: Option<i64> = row.try_get("version").map_err(|e| bad("version", e))?;
    Ok(AuditEvent {
        seq: seq as u64,
        at: from_micros("audit", row.try_get("at").map_err(|e| bad("at", e))?)?,
        tenant: tenant.clone(),
        principal: row.try_get("principal").map_err(|e| bad("principal", e))?,
        action: action
            .parse::<AuditAction>()
            .map_err(|()| corrupt("audit", "action", "not an action"))?,
        profile_id: profile.as_deref().and_then(ProfileId::parse),
        version: version.map(|v| v as u64),
        outcome: AuditOutcome::parse(&outcome)
            .ok_or_else(|| corrupt("audit", "outcome", "not an outcome"))?,
        error_code: row
            .try_get("error_code")
            .map_err(|e| bad("error_code", e))?,
    })
}

#[async_trait]
impl AuditSink for SqliteStore {
    async fn record(&self, e: &AuditEvent) -> Result<()> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(|err| storage("record an audit event", err))?;
        insert_event(&mut conn, e).await
    }

    async fn record_all(&self, events: &[AuditEvent]) -> Result<()> {
        // One synced transaction, not one per event.
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(|err| storage("record audit events", err))?;
        for e in events {
            insert_event(&mut tx, e).await?;
        }
        tx.commit()
            .await
            .map_err(|err| storage("record audit events", err))
    }

    async fn events(&self, tenant: &TenantId, q: &AuditQuery) -> Result<Page<AuditEvent>> {
        let after = match &q.after {
            Some(c) => decode_audit_cursor(tenant, c)?,
            None => 0,
        };
        let limit = q.limit.clamp(1, MAX_PAGE_SIZE);
        let mut sql =
            "SELECT seq, at, principal, action, profile_id, version, outcome, error_code \
            FROM audit_events WHERE tenant = ? AND seq > ?"
                .to_owned();
        if q.profile_id.is_some() {
            sql.push_str(" AND profile_id = ?");
        }
        if q.action.is_some() {
            sql.push_str(" AND action = ?");
        }
        sql.push_str(" ORDER BY seq LIMIT ?");
        let mut stmt = sqlx::query(&sql).bind(tenant.as_str()).bind(after as i64);
        if let Some(id) = &q.profile_id {
            stmt = stmt.bind(id.as_str());
        }
        if let Some(a) = q.action {
            stmt = stmt.bind(a.as_str());
        }
        let rows = stmt
            .bind(limit as i64 + 1)
            .fetch_all(&self.pool)
            .await
            .map_err(|e| storage("read the audit trail", e))?;
        let more = rows.len() > limit;
        let items = rows
            .iter()
            .take(limit)
            .map(|r| event(r, tenant))
            .collect::<Result<Vec<_>>>()?;
        let next_cursor = more
            .then(|| items.last().map(|e| encode_audit_cursor(tenant, e.seq)))
            .flatten();
        Ok(Page { items, next_cursor })
    }
}
