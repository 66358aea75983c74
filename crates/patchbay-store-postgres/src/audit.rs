//! The audit trail in `audit_events` (migration 6): written inside each
//! write's transaction ([`AuditSql::insert`]), on its own for openings of
//! secrets and failures ([`AuditSink::record`]); read per tenant, oldest
//! first, keyset on `seq`.

use async_trait::async_trait;
use patchbay_core::audit::{decode_audit_cursor, encode_audit_cursor};
use patchbay_core::repository::MAX_PAGE_SIZE;
use patchbay_core::{
    AuditAction, AuditEvent, AuditOutcome, AuditQuery, AuditSink, Page, ProfileId, Result, TenantId,
};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};

use crate::error::{corrupt, storage};
use crate::store::PostgresStore;

/// The statements, with the schema spliced in (a checked identifier).
#[derive(Debug)]
pub(crate) struct AuditSql {
    insert: String,
    select: String,
}

impl AuditSql {
    pub(crate) fn new(schema: &str) -> Self {
        let t = format!("\"{schema}\".audit_events");
        Self {
            insert: format!(
                "INSERT INTO {t} (at, tenant, principal, action, profile_id, version, outcome, error_code) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
            ),
            select: format!(
                "SELECT seq, at, principal, action, profile_id, version, outcome, error_code \
                 FROM {t} WHERE tenant = $1 AND seq > $2 \
                 AND ($3::text IS NULL OR profile_id = $3) AND ($4::text IS NULL OR action = $4) \
                 ORDER BY seq LIMIT $5"
            ),
        }
    }

    /// Records `e` on `conn` (inside the caller's transaction).
    pub(crate) async fn insert(&self, conn: &mut PgConnection, e: &AuditEvent) -> Result<()> {
        sqlx::query(&self.insert)
            .bind(e.at)
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
}

fn event(row: &PgRow, tenant: &TenantId) -> Result<AuditEvent> {
    let bad = |col: &str, e: sqlx::Error| corrupt("audit", col, e);
    let decode =
        |col: &str, m: &str| corrupt("audit", col, sqlx::Error::Decode(m.to_owned().into()));
    let seq: i64 = row.try_get("seq").map_err(|e| bad("seq", e))?;
    let action: String = row.try_get("action").map_err(|e| bad("action", e))?;
    let outcome: String = row.try_get("outcome").map_err(|e| bad("outcome", e))?;
    let profile: Option<String> = row
        .try_get("profile_id")
        .map_err(|e| bad("profile_id", e))?;
    let version: Option<i64> = row.try_get("version").map_err(|e| bad("version", e))?;
    Ok(AuditEvent {
        seq: seq as u64,
        at: row.try_get("at").map_err(|e| bad("at", e))?,
        tenant: tenant.clone(),
        principal: row.try_get("principal").map_err(|e| bad("principal", e))?,
        action: action
            .parse::<AuditAction>()
            .map_err(|()| decode("action", "not an action"))?,
        profile_id: profile.as_deref().and_then(ProfileId::parse),
        version: version.map(|v| v as u64),
        outcome: AuditOutcome::parse(&outcome)
            .ok_or_else(|| decode("outcome", "not an outcome"))?,
        error_code: row
            .try_get("error_code")
            .map_err(|e| bad("error_code", e))?,
    })
}

#[async_trait]
impl AuditSink for PostgresStore {
    async fn record(&self, e: &AuditEvent) -> Result<()> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(|err| storage("record an audit event", err))?;
        self.audit_sql.insert(&mut conn, e).await
    }

    async fn record_all(&self, events: &[AuditEvent]) -> Result<()> {
        // One commit (one WAL flush), not one per event.
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(|err| storage("record audit events", err))?;
        for e in events {
            self.audit_sql.insert(&mut tx, e).await?;
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
        let rows = sqlx::query(&self.audit_sql.select)
            .bind(tenant.as_str())
            .bind(after as i64)
            .bind(q.profile_id.as_ref().map(ProfileId::as_str))
            .bind(q.action.map(AuditAction::as_str))
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
