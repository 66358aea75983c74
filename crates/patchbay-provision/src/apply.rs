//! Applying a provisioning source idempotently: create what is missing,
//! update what differs, leave what matches, and with `prune` delete what the
//! source manages but no longer lists (never one in use).

use std::collections::HashMap;

use patchbay_core::profile::name_key;
use patchbay_core::{
    CheckedProfile, Error, NoProgress, Profile, ProfileService, Progress, MANAGED_BY_LABEL,
};

use crate::export::all_profiles;
use crate::file::{Entry, ProvisionFile};
use crate::plan::{self, Locator};
use crate::problem::{Problem, Problems};
use crate::report::Report;

/// How to apply.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// Who manages the profiles: `file:<path>`, `env`… Stored on each
    /// profile (label `patchbay.io/managed-by`); the API refuses to edit them.
    pub source: String,
    /// Delete profiles managed by `source` that it no longer lists.
    pub prune: bool,
}

/// Applies `file` as `options.source`. Every entry is checked first, and
/// a name held by a profile another source (or nobody) manages is refused:
/// with any problem, nothing is changed.
///
/// # Errors
/// Every problem, with its path in the file (and line where known).
pub async fn apply(
    service: &ProfileService,
    file: &ProvisionFile,
    options: &ApplyOptions,
) -> Result<Report, Problems> {
    apply_with_progress(service, file, options, &NoProgress).await
}

/// [`apply`], telling `progress` how many of the creates, updates and
/// deletes are done.
///
/// # Errors
/// As [`apply`].
pub async fn apply_with_progress(
    service: &ProfileService,
    file: &ProvisionFile,
    options: &ApplyOptions,
    progress: &dyn Progress,
) -> Result<Report, Problems> {
    let svc = service.provisioner();
    // One read of what exists, compared in memory (not a read per entry).
    let mut existing = existing(&svc).await?;
    let mut report = Report::default();
    let mut at = Locator::new(file);
    let mut writes: Vec<(CheckedProfile, Option<Profile>)> = Vec::new();
    for (i, entry) in file.profiles.iter().enumerate() {
        at.name(i);
        let current = existing.remove(&name_key(&entry.name));
        let taken = current.as_ref().and_then(|p| taken(p, &options.source));
        match (&current, &taken) {
            (_, Some(why)) => at.push(i, "/name", why.clone()),
            // Equal to a stored, valid profile: nothing to build, check or write.
            (Some(p), None) => {
                if unchanged(&svc, p, entry, &options.source).await {
                    report.unchanged.push(entry.name.clone());
                    continue;
                }
            }
            (None, None) => {}
        }
        let mut new = match plan::desired(&svc, entry) {
            Ok(new) => new,
            Err(errors) => {
                at.extend(i, errors);
                continue;
            }
        };
        new.labels
            .insert(MANAGED_BY_LABEL.to_owned(), options.source.clone());
        // Checked even when the name is taken, to list every problem.
        match svc.check(new) {
            Ok(checked) if taken.is_none() => writes.push((checked, current)),
            Ok(_) => {}
            Err(e) => at.extend(i, plan::field_errors(e)),
        }
    }
    at.finish()?;
    let doomed: Vec<Profile> = if options.prune {
        // What the file no longer lists is what is left of the read.
        let mut left: Vec<Profile> = existing
            .into_values()
            .filter(|p| p.labels.get(MANAGED_BY_LABEL) == Some(&options.source))
            .collect();
        left.sort_by(|a, b| a.name.cmp(&b.name));
        left
    } else {
        Vec::new()
    };
    let total = writes.len() + doomed.len();
    progress.update(0, total);
    let mut done = 0;
    for (checked, current) in writes {
        let name = checked.get().name.clone();
        let result = match current {
            None => svc
                .create_checked(checked)
                .await
                .map(|_| &mut report.created),
            Some(p) => svc
                .update(&p.id, plan::update_to(&p, checked.into_inner()))
                .await
                .map(|_| &mut report.updated),
        };
        match result {
            Ok(list) => list.push(name),
            Err(e) => report.failed.push((name, e.to_string())),
        }
        done += 1;
        progress.update(done, total);
    }
    for p in doomed {
        prune_one(&svc, p, &mut report).await;
        done += 1;
        progress.update(done, total);
    }
    tracing::info!(
        source = %options.source,
        created = report.created.len(),
        updated = report.updated.len(),
        unchanged = report.unchanged.len(),
        deleted = report.deleted.len(),
        "provisioning applied"
    );
    Ok(report)
}

/// Whether `current` already is what `entry` describes, managed by
/// `source`: compared in place (secrets by value), nothing copied.
async fn unchanged(svc: &ProfileService, current: &Profile, entry: &Entry, source: &str) -> bool {
    // The entry's labels plus the source's own.
    let labels_match = current.labels.len()
        == entry.labels.len() + usize::from(!entry.labels.contains_key(MANAGED_BY_LABEL))
        && entry
            .labels
            .iter()
            .all(|(k, v)| k == MANAGED_BY_LABEL || current.labels.get(k) == Some(v));
    if !labels_match || current.description != entry.description {
        return false;
    }
    let result = match (&entry.uri, &entry.connector, &entry.config) {
        (None, Some(connector), Some(config)) => {
            svc.matches_config(current, connector, config, source).await
        }
        (Some(uri), connector, None) => match svc.config_from_uri(uri) {
            Ok((kind, config)) if connector.as_ref().is_none_or(|c| *c == kind) => {
                svc.matches_config(current, &kind, &config, source).await
            }
            _ => return false,
        },
        _ => return false,
    };
    result.unwrap_or(false)
}

/// Why `current` is not this source's to change, if it is not.
fn taken(current: &Profile, source: &str) -> Option<String> {
    match current.labels.get(MANAGED_BY_LABEL) {
        Some(s) if s == source => None,
        Some(other) => Some(format!("a profile of this name is managed by `{other}`")),
        None => Some("a profile of this name exists and is not managed by this source".into()),
    }
}

/// Every profile of the service's tenant by name key.
pub(crate) async fn existing(svc: &ProfileService) -> Result<HashMap<String, Profile>, Problems> {
    let all = all_profiles(svc, None).await.map_err(|e| {
        Problems(vec![Problem {
            path: String::new(),
            line: None,
            message: e.to_string(),
        }])
    })?;
    Ok(all.into_iter().map(|p| (name_key(&p.name), p)).collect())
}

async fn prune_one(svc: &ProfileService, p: Profile, report: &mut Report) {
    match svc.delete(&p.id).await {
        Ok(()) => report.deleted.push(p.name),
        Err(Error::InUse { dependents, .. }) => report.kept_in_use.push((
            p.name,
            dependents
                .iter()
                .map(|d| format!("{}:{}", d.kind, d.id))
                .collect::<Vec<_>>()
                .join(", "),
        )),
        Err(e) => report.failed.push((p.name, e.to_string())),
    }
}
