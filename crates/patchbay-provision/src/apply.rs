//! Applying a provisioning source idempotently: create what is missing,
//! update what differs, leave what matches, and with `prune` delete what the
//! source manages but no longer lists (never one in use).

use std::borrow::Cow;
use std::collections::HashMap;

use patchbay_core::profile::name_key;
use patchbay_core::{
    CheckedProfile, Error, NoProgress, Profile, ProfileService, Progress, MANAGED_BY_LABEL,
};

use serde_json::Value;

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
    // First what each entry is up against; entries that may be unchanged are
    // compared together (one batch of audited openings), in place.
    let mut rest = Vec::new();
    let mut maybe = Vec::new();
    for (i, entry) in file.profiles.iter().enumerate() {
        at.name(i);
        let current = existing.remove(&name_key(&entry.name));
        let taken = current.as_ref().and_then(|p| taken(p, &options.source));
        if let Some(why) = &taken {
            at.push(i, "/name", why.clone());
        }
        match (current, taken) {
            (Some(p), None) => match comparable(&svc, &p, entry, &options.source) {
                Some((connector, config)) => maybe.push((i, p, connector, config)),
                None => rest.push((i, Some(p), None)),
            },
            (current, taken) => rest.push((i, current, taken)),
        }
    }
    let items: Vec<(&Profile, &str, &Value)> = maybe
        .iter()
        .map(|(_, p, connector, config)| (p, connector.as_str(), config.as_ref()))
        .collect();
    let same = svc
        .matches_configs(&items, &options.source)
        .await
        .unwrap_or_else(|_| vec![false; items.len()]);
    drop(items);
    for ((i, p, _, _), same) in maybe.into_iter().zip(same) {
        if same {
            report.unchanged.push(file.profiles[i].name.clone());
        } else {
            rest.push((i, Some(p), None));
        }
    }
    rest.sort_by_key(|(i, _, _)| *i);
    for (i, current, taken) in rest {
        let mut new = match plan::desired(&svc, &file.profiles[i]) {
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

/// The connector and config to compare with `current` when its labels and
/// description already are what `entry` describes (managed by `source`);
/// `None` when they differ. A URI entry's config is parsed here.
fn comparable<'a>(
    svc: &ProfileService,
    current: &Profile,
    entry: &'a Entry,
    source: &str,
) -> Option<(String, Cow<'a, Value>)> {
    // The entry's labels plus the source's own.
    let labels_match = current.labels.get(MANAGED_BY_LABEL).map(String::as_str) == Some(source)
        && current.labels.len()
            == entry.labels.len() + usize::from(!entry.labels.contains_key(MANAGED_BY_LABEL))
        && entry
            .labels
            .iter()
            .all(|(k, v)| k == MANAGED_BY_LABEL || current.labels.get(k) == Some(v));
    if !labels_match || current.description != entry.description {
        return None;
    }
    match (&entry.uri, &entry.connector, &entry.config) {
        (None, Some(connector), Some(config)) => Some((connector.clone(), Cow::Borrowed(config))),
        (Some(uri), connector, None) => {
            let (kind, config) = svc.config_from_uri(uri).ok()?;
            connector
                .as_ref()
                .is_none_or(|c| *c == kind)
                .then_some((kind, Cow::Owned(config)))
        }
        _ => None,
    }
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
