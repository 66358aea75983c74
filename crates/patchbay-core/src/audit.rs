//! The audit trail: every write (create, update, delete, attach, detach,
//! reseal) and every opening of secrets (test, autocomplete, resolve) of a
//! profile, as an [`AuditEvent`] — who, what, which profile at which
//! version, how it went. Never a config value or a secret.
//!
//! Stores that keep the trail write a write's event in the same transaction
//! as the write ([`ProfileRepository::audit`](crate::ProfileRepository::audit)
//! and the `*_audited` methods): an acknowledged write always has its
//! event, a failed one a failure event or none, never a success event.

use std::fmt;
use std::str::FromStr;

use async_trait::async_trait;
use serde::Serialize;
use time::OffsetDateTime;

use crate::error::Result;
use crate::profile::ProfileId;
use crate::repository::Page;
use crate::tenant::TenantId;

/// What was done to (or with) a profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    /// A profile was created.
    Create,
    /// A profile was updated.
    Update,
    /// A profile was deleted.
    Delete,
    /// A dependent was attached.
    Attach,
    /// A dependent was detached.
    Detach,
    /// A profile's secrets were sealed again under the active key.
    Reseal,
    /// A saved profile was tested (its secrets opened).
    Test,
    /// Autocomplete ran on a saved profile (its secrets opened).
    Autocomplete,
    /// A profile was resolved for use (its secrets opened).
    Resolve,
}

impl AuditAction {
    /// Every action.
    pub const ALL: [AuditAction; 9] = [
        Self::Create,
        Self::Update,
        Self::Delete,
        Self::Attach,
        Self::Detach,
        Self::Reseal,
        Self::Test,
        Self::Autocomplete,
        Self::Resolve,
    ];

    /// `create`, `update`, …
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Update => "update",
            Self::Delete => "delete",
            Self::Attach => "attach",
            Self::Detach => "detach",
            Self::Reseal => "reseal",
            Self::Test => "test",
            Self::Autocomplete => "autocomplete",
            Self::Resolve => "resolve",
        }
    }
}

impl FromStr for AuditAction {
    type Err = ();
    fn from_str(s: &str) -> std::result::Result<Self, ()> {
        Self::ALL.into_iter().find(|a| a.as_str() == s).ok_or(())
    }
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How it went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditOutcome {
    /// Done (for a write: committed).
    Success,
    /// Refused or failed; `error_code` says why.
    Failure,
}

impl AuditOutcome {
    /// `success` or `failure`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure",
        }
    }

    /// Parses [`as_str`](Self::as_str).
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Success, Self::Failure]
            .into_iter()
            .find(|o| o.as_str() == s)
    }
}

/// One entry of the trail.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEvent {
    /// Position in the trail, assigned by the sink when recorded (0 before).
    pub seq: u64,
    /// When (UTC).
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The tenant acted in (implied for the caller; not serialized).
    #[serde(skip)]
    pub tenant: TenantId,
    /// Who: an opaque string from the caller (the HTTP adapter passes the
    /// principal's subject), `None` when the host named nobody.
    pub principal: Option<String>,
    /// What.
    pub action: AuditAction,
    /// Which profile (`None` when the request named none that exists).
    pub profile_id: Option<ProfileId>,
    /// The profile's version after a successful write, or the version
    /// opened or refused.
    pub version: Option<u64>,
    /// How it went.
    pub outcome: AuditOutcome,
    /// The error's stable code on failure.
    pub error_code: Option<String>,
}

/// A request for a page of the trail, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditQuery {
    /// Only events of this profile.
    pub profile_id: Option<ProfileId>,
    /// Only events of this action.
    pub action: Option<AuditAction>,
    /// Start after this cursor (a previous page's `next_cursor`).
    pub after: Option<String>,
    /// Page size, 1..=[`MAX_PAGE_SIZE`](crate::repository::MAX_PAGE_SIZE).
    pub limit: usize,
}

impl Default for AuditQuery {
    fn default() -> Self {
        Self {
            profile_id: None,
            action: None,
            after: None,
            limit: 100,
        }
    }
}

/// Where audit events go and are read back from, per tenant.
#[async_trait]
pub trait AuditSink: Send + Sync + 'static {
    /// Records `event` (its `seq` is assigned here).
    ///
    /// # Errors
    /// `Storage` when the backend fails.
    async fn record(&self, event: &AuditEvent) -> Result<()>;

    /// Records `events` in order; a store with transactions records them in
    /// one (a provisioning apply compares thousands of secrets at once).
    ///
    /// # Errors
    /// `Storage` when the backend fails.
    async fn record_all(&self, events: &[AuditEvent]) -> Result<()> {
        for event in events {
            self.record(event).await?;
        }
        Ok(())
    }

    /// A page of `tenant`'s events, oldest first.
    ///
    /// # Errors
    /// `Validation` on `/after` for a cursor this sink did not make for
    /// `tenant`; `Storage`.
    async fn events(&self, tenant: &TenantId, query: &AuditQuery) -> Result<Page<AuditEvent>>;
}

/// A cursor after the event `seq` of `tenant`.
pub fn encode_audit_cursor(tenant: &TenantId, seq: u64) -> String {
    crate::repository::encode_cursor(tenant, &seq.to_string())
}

/// The `seq` of a cursor made by [`encode_audit_cursor`] for `tenant`.
///
/// # Errors
/// `Validation` on `/after`.
pub fn decode_audit_cursor(tenant: &TenantId, cursor: &str) -> Result<u64> {
    crate::repository::decode_cursor(tenant, cursor)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| crate::Error::invalid("/after", "is not a cursor returned by an audit call"))
}
