//! The storage contract every profile store keeps.

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::audit::{AuditEvent, AuditSink};
use crate::error::Result;
use crate::key_check::KeyCheck;
use crate::profile::{Profile, ProfileId};
use crate::resolved::ProfileRef;
use crate::tenant::TenantId;

fn no_key_checks() -> crate::Error {
    crate::Error::Unsupported("this store records no key check values".to_owned())
}

fn no_named_dependents() -> crate::Error {
    crate::Error::Unsupported("this store keeps no named dependents".to_owned())
}

/// Largest page a repository returns, whatever the caller asks.
pub const MAX_PAGE_SIZE: usize = 1000;

/// Something that uses a profile, such as a connection table or pipeline.
/// While a profile has dependents it cannot be deleted.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Dependent {
    /// What kind of thing depends, such as `connection_table`.
    pub kind: String,
    /// Its id in the host application.
    pub id: String,
}

impl Dependent {
    /// A dependent of `kind` with `id`.
    pub fn new(kind: impl Into<String>, id: impl Into<String>) -> Self {
        Self {
            kind: kind.into(),
            id: id.into(),
        }
    }
}

/// A named dependent and the profile it uses (see
/// [`ProfileRepository::attach_named`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// The dependent; its `(kind, id)` is unique in its tenant.
    pub dependent: Dependent,
    /// The profile it is attached to.
    pub profile_id: ProfileId,
}

/// A list request: filters and a keyset position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    /// Only profiles of this connector kind.
    pub connector: Option<String>,
    /// Only names starting with this, compared case-insensitively.
    pub name_prefix: Option<String>,
    /// Only profiles holding every one of these labels (`key`, `value`).
    pub labels: Vec<(String, String)>,
    /// Start after this cursor (a previous page's `next_cursor`).
    pub after: Option<String>,
    /// Page size, 1..=[`MAX_PAGE_SIZE`].
    pub limit: usize,
}

impl Default for ListQuery {
    fn default() -> Self {
        Self {
            connector: None,
            name_prefix: None,
            labels: Vec::new(),
            after: None,
            limit: 100,
        }
    }
}

/// One page of a keyset-paginated list.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The items, ordered by lowercase name.
    pub items: Vec<T>,
    /// Pass as [`ListQuery::after`] for the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// Where profiles live. Implementations: `patchbay-store-memory`,
/// `patchbay-store-sqlite`, `patchbay-store-postgres`; third-party stores run
/// the same conformance suite from `patchbay-testkit`.
///
/// # Contract
///
/// Every store keeps these, atomically with respect to concurrent calls from
/// any number of tasks (and, for shared databases, processes):
///
/// * **Everything is per tenant**: every profile belongs to one
///   [`TenantId`] (`Profile::tenant`); each method works within the tenant it
///   is given (or the profile's own, for `create` and `update`). A profile of
///   another tenant is `NotFound` (never an error that reveals it exists);
///   lists, cursors, dependents and the change feed never cross tenants.
///   Key checks are store-wide.
/// * **Names are unique case-insensitively per tenant**: of two concurrent
///   creates (or a create and a rename) in one tenant to names equal ignoring
///   ASCII case, at most one wins; the other gets
///   [`Error::AlreadyExists`](crate::Error::AlreadyExists). Two tenants may
///   hold the same name.
/// * **Versions are checked atomically**: [`update`](Self::update) writes only if
///   the stored version equals `expected_version` at the moment of the write,
///   otherwise it fails with `VersionConflict` and changes nothing.
/// * **Delete versus attach is atomic**: a profile with dependents is never
///   deleted ([`Error::InUse`](crate::Error::InUse) lists them), and a dependent is
///   never attached to a deleted profile (`NotFound`). No interleaving of
///   `delete` and `attach` leaves a dependent pointing at a missing profile.
/// * **Named dependents are unique per tenant** (stores that keep them): of
///   concurrent [`attach_named`](Self::attach_named) calls claiming one
///   `(kind, id)` in a tenant, at most one wins, whichever profiles they
///   name; a losing claim leaves no attachment behind.
/// * **Pagination is keyset**: `list` orders by lowercase name; the cursor is
///   opaque, bound to its tenant (another tenant's is a `Validation` error on
///   `/cursor`), and a page's cost does not grow with the offset.
///
/// Profiles are stored exactly as given: the service has already validated
/// them and sealed their secrets. Stores never see plain secrets.
///
/// # Errors
///
/// Unless a method says otherwise: `NotFound` for a missing id, `Storage` when
/// the backend fails (with the backend error as the source).
#[async_trait]
pub trait ProfileRepository: Send + Sync + 'static {
    /// Stores a new profile in its tenant (`profile.tenant`).
    ///
    /// # Errors
    /// `AlreadyExists` if the name (case-insensitively, within the tenant) or
    /// the id (in any tenant) is taken.
    async fn create(&self, profile: &Profile) -> Result<()>;

    /// The profile with this id.
    async fn get(&self, tenant: &TenantId, id: &ProfileId) -> Result<Profile>;

    /// The profile with this name, compared case-insensitively.
    async fn get_by_name(&self, tenant: &TenantId, name: &str) -> Result<Profile>;

    /// The profile by id or by name, as [`get`](Self::get) or
    /// [`get_by_name`](Self::get_by_name) give it, shared: the use path's
    /// read. The default wraps those; a store that keeps profiles in memory
    /// hands out its own copy instead of cloning it.
    async fn get_shared(&self, tenant: &TenantId, profile: &ProfileRef) -> Result<Arc<Profile>> {
        match profile {
            ProfileRef::Id(id) => self.get(tenant, id).await.map(Arc::new),
            ProfileRef::Name(name) => self.get_by_name(tenant, name).await.map(Arc::new),
        }
    }

    /// A page of profiles ordered by lowercase name.
    ///
    /// # Errors
    /// `Validation` for a malformed cursor.
    async fn list(&self, tenant: &TenantId, query: &ListQuery) -> Result<Page<Profile>>;

    /// Replaces the stored profile with `profile` (same id, same tenant) if
    /// the stored version is `expected_version`. The caller sets
    /// `profile.version`; a profile stored under another tenant is `NotFound`
    /// and unchanged.
    ///
    /// # Errors
    /// `VersionConflict` when the stored version differs; `AlreadyExists` when
    /// a rename collides.
    async fn update(&self, profile: &Profile, expected_version: u64) -> Result<()>;

    /// Deletes the profile.
    ///
    /// # Errors
    /// `InUse` (listing every dependent) while it has dependents.
    async fn delete(&self, tenant: &TenantId, id: &ProfileId) -> Result<()>;

    /// Records that `dependent` uses the profile. Attaching twice is a no-op.
    async fn attach(&self, tenant: &TenantId, id: &ProfileId, dependent: &Dependent) -> Result<()>;

    /// Removes a dependent. Returns whether it was attached.
    async fn detach(
        &self,
        tenant: &TenantId,
        id: &ProfileId,
        dependent: &Dependent,
    ) -> Result<bool>;

    /// Attaches `dependent` like [`attach`](Self::attach) and, in the same
    /// atomic step, claims its `(kind, id)` in the tenant: while it stays
    /// attached no other `attach_named` of that kind and id succeeds, to any
    /// profile of the tenant. [`detach`](Self::detach) releases the name.
    /// With `event`, records it with the write (as `attach_audited`).
    ///
    /// This is how a host keeps its own named things (connection tables,
    /// pipelines) in the store: the name's row and the attachment that
    /// blocks the profile's deletion are one write, seen by every process.
    ///
    /// # Errors
    /// `AlreadyExists` (naming the dependent id) while the name is taken,
    /// even by the same profile; `NotFound`; `Unsupported` (the default).
    async fn attach_named(
        &self,
        tenant: &TenantId,
        id: &ProfileId,
        dependent: &Dependent,
        event: Option<&AuditEvent>,
    ) -> Result<()> {
        let _ = (tenant, id, dependent, event);
        Err(no_named_dependents())
    }

    /// The named dependents of `kind` in the tenant, ordered by id
    /// (bytewise), starting after the id `after`, at most `limit` (capped at
    /// [`MAX_PAGE_SIZE`]).
    ///
    /// # Errors
    /// `Storage`; `Unsupported` (the default).
    async fn named_dependents(
        &self,
        tenant: &TenantId,
        kind: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Attachment>> {
        let _ = (tenant, kind, after, limit);
        Err(no_named_dependents())
    }

    /// The profile holding the named dependent, if its name is claimed.
    ///
    /// # Errors
    /// `Storage`; `Unsupported` (the default).
    async fn named_dependent(
        &self,
        tenant: &TenantId,
        dependent: &Dependent,
    ) -> Result<Option<ProfileId>> {
        let _ = (tenant, dependent);
        Err(no_named_dependents())
    }

    /// Everything that depends on the profile, sorted by kind then id.
    async fn dependents(&self, tenant: &TenantId, id: &ProfileId) -> Result<Vec<Dependent>>;

    /// Every tenant holding at least one profile, sorted: for store-wide
    /// administration (key rotation), never for a tenant's caller.
    async fn tenants(&self) -> Result<Vec<TenantId>>;

    /// The [key check values](KeyCheck) recorded for the keys that sealed
    /// this store's secrets, sorted by key id. The service compares them with
    /// its keyring at startup
    /// ([`verify_keyring`](crate::ProfileService::verify_keyring)).
    ///
    /// # Errors
    /// `Storage` when the backend fails; `Unsupported` (the default) for a
    /// store that records no key checks.
    async fn key_checks(&self) -> Result<Vec<KeyCheck>> {
        Err(no_key_checks())
    }

    /// Records `check` unless a check for its key id is recorded already (the
    /// first one stays); returns whether it was recorded. Atomic: of
    /// concurrent calls for one key id, one records.
    ///
    /// # Errors
    /// `Storage` when the backend fails; `Unsupported` (the default).
    async fn add_key_check(&self, check: &KeyCheck) -> Result<bool> {
        let _ = check;
        Err(no_key_checks())
    }

    /// Forgets the check of `key_id` (the key was retired); returns whether
    /// one was recorded.
    ///
    /// # Errors
    /// `Storage` when the backend fails; `Unsupported` (the default).
    async fn remove_key_check(&self, key_id: &str) -> Result<bool> {
        let _ = key_id;
        Err(no_key_checks())
    }

    /// A counter that moves whenever anything this store holds changes
    /// (create, update, delete, attach, detach), or `None` (the default) when
    /// the store cannot know every change — another process may write.
    ///
    /// A store returns `Some` only when every write goes through this value
    /// (in memory, or a database file this process holds exclusively), and
    /// moves it only *after* the write is visible to readers. Callers may then
    /// cache what they read under the revision they loaded *before* reading,
    /// and serve it while the revision is unchanged.
    fn revision(&self) -> Option<u64> {
        None
    }

    /// The store's own audit trail, when it keeps one (`None`, the default:
    /// no events are kept). A store that returns one writes each
    /// `*_audited` write's event in the same transaction as the write.
    fn audit(&self) -> Option<&dyn AuditSink> {
        None
    }

    /// [`create`](Self::create), recording `event` (a success) with it.
    /// The default writes, then records: a store keeping a trail overrides
    /// it to do both atomically.
    ///
    /// # Errors
    /// As `create`; `Storage` when the event cannot be recorded.
    async fn create_audited(&self, profile: &Profile, event: &AuditEvent) -> Result<()> {
        self.create(profile).await?;
        record_after(self.audit(), event).await
    }

    /// [`update`](Self::update) with its event (see
    /// [`create_audited`](Self::create_audited)).
    ///
    /// # Errors
    /// As `update`; `Storage`.
    async fn update_audited(
        &self,
        profile: &Profile,
        expected_version: u64,
        event: &AuditEvent,
    ) -> Result<()> {
        self.update(profile, expected_version).await?;
        record_after(self.audit(), event).await
    }

    /// [`delete`](Self::delete) with its event.
    ///
    /// # Errors
    /// As `delete`; `Storage`.
    async fn delete_audited(
        &self,
        tenant: &TenantId,
        id: &ProfileId,
        event: &AuditEvent,
    ) -> Result<()> {
        self.delete(tenant, id).await?;
        record_after(self.audit(), event).await
    }

    /// [`attach`](Self::attach) with its event.
    ///
    /// # Errors
    /// As `attach`; `Storage`.
    async fn attach_audited(
        &self,
        tenant: &TenantId,
        id: &ProfileId,
        dependent: &Dependent,
        event: &AuditEvent,
    ) -> Result<()> {
        self.attach(tenant, id, dependent).await?;
        record_after(self.audit(), event).await
    }

    /// [`detach`](Self::detach) with its event.
    ///
    /// # Errors
    /// As `detach`; `Storage`.
    async fn detach_audited(
        &self,
        tenant: &TenantId,
        id: &ProfileId,
        dependent: &Dependent,
        event: &AuditEvent,
    ) -> Result<bool> {
        let detached = self.detach(tenant, id, dependent).await?;
        record_after(self.audit(), event).await?;
        Ok(detached)
    }

    /// A change feed of `tenant`: every create, content update (version
    /// moved) and delete of its profiles from now on, as [`ProfileEvent`](crate::ProfileEvent)s, in
    /// commit order per profile, and `Resync` whenever events may have been
    /// missed. The stream is complete from the moment this returns.
    /// In-process stores can use [`ChangeBroadcast`](crate::ChangeBroadcast).
    ///
    /// # Errors
    /// `UNSUPPORTED` (the default) when the store cannot see every change;
    /// `STORAGE` when the feed cannot start.
    async fn watch(&self, tenant: &TenantId) -> Result<crate::watch::ProfileEvents> {
        let _ = tenant;
        Err(crate::Error::Unsupported(
            "this profile store offers no change feed".to_owned(),
        ))
    }
}

async fn record_after(audit: Option<&dyn AuditSink>, event: &AuditEvent) -> Result<()> {
    match audit {
        Some(a) => a.record(event).await,
        None => Ok(()),
    }
}

/// Encodes a keyset cursor from the last name key of a page, bound to the
/// tenant listed. Stores may use these helpers so that cursors look alike
/// across backends.
pub fn encode_cursor(tenant: &TenantId, name_key: &str) -> String {
    use base64::Engine;
    // Name keys never contain '/', tenant ids neither.
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{tenant}/{name_key}"))
}

/// Decodes a cursor made by [`encode_cursor`] for `tenant`, giving the name
/// key to start after.
///
/// # Errors
/// `Validation` on `/cursor` when it is not one of ours, or was made for
/// another tenant (the same message: it reveals nothing about that tenant).
pub fn decode_cursor(tenant: &TenantId, cursor: &str) -> Result<String> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|text| {
            let (t, key) = text.split_once('/')?;
            (t == tenant.as_str()).then(|| key.to_owned())
        })
        // Ours hold a profile name key, never a control character (a NUL
        // would reach the store's query).
        .filter(|key| !key.chars().any(char::is_control))
        .ok_or_else(|| crate::Error::invalid("/cursor", "is not a cursor returned by a list call"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_are_bound_to_their_tenant() {
        let (a, b) = (TenantId::new("a").unwrap(), TenantId::new("b").unwrap());
        let cursor = encode_cursor(&a, "orders");
        assert_eq!(decode_cursor(&a, &cursor).unwrap(), "orders");
        assert_eq!(
            decode_cursor(&b, &cursor).unwrap_err().code(),
            "VALIDATION_FAILED"
        );
        assert!(
            decode_cursor(&a, "b3JkZXJz").is_err(),
            "no tenant: not ours"
        );
    }
}
