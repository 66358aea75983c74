//! Profiles a provisioning source manages (a file, the environment) carry
//! the label [`MANAGED_BY_LABEL`]; they change through that source, not the
//! API, unless the host allows drift. Labels under `patchbay.io/` are the
//! library's own: only a provisioner sets or clears them.

use super::ProfileService;
use crate::error::{Error, FieldError, Result};
use crate::labels::Labels;
use crate::profile::Profile;

/// The label naming the source that manages a profile (`file:profiles.yaml`, `env`).
pub const MANAGED_BY_LABEL: &str = "patchbay.io/managed-by";

/// Label keys reserved for the library.
pub const RESERVED_LABEL_PREFIX: &str = "patchbay.io/";

impl ProfileService {
    /// The same service acting as a provisioning source: it may write
    /// managed profiles and the reserved labels. For declarative tools
    /// (`patchbay-provision`), never for API callers.
    pub fn provisioner(&self) -> Self {
        let mut svc = self.clone();
        svc.provisioning = true;
        svc
    }

    /// `Managed` when `current` is managed and this caller may not change it.
    pub(super) fn check_managed(&self, current: &Profile) -> Result<()> {
        if self.provisioning || self.inner.allow_drift {
            return Ok(());
        }
        match current.labels.get(MANAGED_BY_LABEL) {
            Some(source) => Err(Error::Managed {
                name: current.name.clone(),
                managed_by: source.clone(),
            }),
            None => Ok(()),
        }
    }

    /// An error per reserved label this caller would set, change or clear.
    pub(super) fn reserved_label_errors(
        &self,
        before: &Labels,
        after: &Labels,
        errors: &mut Vec<FieldError>,
    ) {
        if self.provisioning {
            return;
        }
        let keys = before.keys().chain(after.keys());
        let mut touched: Vec<&String> = keys
            .filter(|k| k.starts_with(RESERVED_LABEL_PREFIX) && before.get(*k) != after.get(*k))
            .collect();
        touched.dedup();
        for key in touched {
            errors.push(FieldError::new(
                format!("/labels/{}", key.replace('~', "~0").replace('/', "~1")),
                "labels under `patchbay.io/` are set by provisioning only",
            ));
        }
    }
}
