//! Named dependents: a host's own things (connection tables, pipelines)
//! kept in the store, each name unique per kind in its tenant and attached
//! to its profile in the same write.

use super::crud::check_dependent;
use super::ProfileService;
use crate::audit::AuditAction;
use crate::error::{FieldError, Result, ValidationErrors};
use crate::input::check_line;
use crate::profile::ProfileId;
use crate::repository::{Attachment, Dependent, MAX_PAGE_SIZE};

impl ProfileService {
    /// Attaches `dependent` to the profile and claims its `(kind, id)` in
    /// this tenant, in one write (audited as an attach). `detach` releases
    /// the name.
    ///
    /// # Errors
    /// `AlreadyExists` while the name is taken; `NotFound`; `Validation` for
    /// an empty or over-long kind or id; `Unsupported` for a store without
    /// named dependents.
    pub async fn attach_named(&self, id: &ProfileId, dependent: &Dependent) -> Result<()> {
        let event = self.audit_event(AuditAction::Attach, Some(id), None, None);
        let result = match check_dependent(dependent) {
            Ok(()) => {
                self.inner
                    .repo
                    .attach_named(&self.tenant, id, dependent, Some(&event))
                    .await
            }
            Err(e) => Err(e),
        };
        if let Err(e) = &result {
            self.audit_failure(AuditAction::Attach, Some(id), None, e)
                .await;
        }
        result
    }

    /// A page of this tenant's named dependents of `kind`, ordered by id,
    /// after the id `after`.
    ///
    /// # Errors
    /// `Validation` for a limit outside 1..=1000 or a bad `after`;
    /// `Unsupported`.
    pub async fn named_dependents(
        &self,
        kind: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Attachment>> {
        let mut errors = Vec::new();
        if limit == 0 || limit > MAX_PAGE_SIZE {
            errors.push(FieldError::new("/limit", "must be between 1 and 1000"));
        }
        errors.extend(check_line("/kind", kind).err());
        if let Some(after) = after {
            errors.extend(check_line("/after", after).err());
        }
        ValidationErrors(errors).into_result()?;
        self.inner
            .repo
            .named_dependents(&self.tenant, kind, after, limit)
            .await
    }

    /// The profile holding the named dependent in this tenant, if any.
    ///
    /// # Errors
    /// `Validation` for a bad kind or id; `Unsupported`.
    pub async fn named_dependent(&self, dependent: &Dependent) -> Result<Option<ProfileId>> {
        check_dependent(dependent)?;
        self.inner
            .repo
            .named_dependent(&self.tenant, dependent)
            .await
    }
}
