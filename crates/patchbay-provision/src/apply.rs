//! Applying a provisioning source idempotently: create what is missing,
//! update what differs, leave what matches, and with `prune` delete what the
//! source manages but no longer lists (never one in use).

use std::collections::BTreeSet;

use patchbay_core::{Error, ProfileService, MANAGED_BY_LABEL};

use crate::export::all_profiles;
use crate::file::ProvisionFile;
use crate::plan;
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

/// Applies `file` as `options.source`. Every entry is validated first, and
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
    let svc = service.provisioner();
    let mut profiles = plan::profiles(&svc, file)?;
    let mut current = Vec::with_capacity(profiles.len());
    let mut problems = Vec::new();
    for (i, new) in profiles.iter_mut().enumerate() {
        new.labels
            .insert(MANAGED_BY_LABEL.to_owned(), options.source.clone());
        match svc.get_by_name(&new.name).await {
            Ok(p) if p.labels.get(MANAGED_BY_LABEL) != Some(&options.source) => {
                problems.push(Problem {
                    path: format!("/profiles/{i}/name"),
                    line: file.lines.get(i).copied().flatten(),
                    message: match p.labels.get(MANAGED_BY_LABEL) {
                        Some(other) => format!("a profile of this name is managed by `{other}`"),
                        None => {
                            "a profile of this name exists and is not managed by this source".into()
                        }
                    },
                })
            }
            Ok(p) => current.push(Some(p)),
            Err(Error::NotFound(_)) => current.push(None),
            Err(e) => problems.push(Problem {
                path: format!("/profiles/{i}"),
                line: None,
                message: e.to_string(),
            }),
        }
    }
    if !problems.is_empty() {
        return Err(Problems(problems));
    }
    let mut report = Report::default();
    for (new, current) in profiles.into_iter().zip(current) {
        let name = new.name.clone();
        let result = match current {
            None => svc.create(new).await.map(|_| &mut report.created),
            Some(p) => match svc.matches(&p, &new, &options.source).await {
                Ok(true) => Ok(&mut report.unchanged),
                Ok(false) => svc
                    .update(&p.id, plan::update_to(&p, new))
                    .await
                    .map(|_| &mut report.updated),
                Err(e) => Err(e),
            },
        };
        match result {
            Ok(list) => list.push(name),
            Err(e) => report.failed.push((name, e.to_string())),
        }
    }
    if options.prune {
        prune(&svc, file, &options.source, &mut report)
            .await
            .map_err(|e| {
                Problems(vec![Problem {
                    path: String::new(),
                    line: None,
                    message: e.to_string(),
                }])
            })?;
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

async fn prune(
    svc: &ProfileService,
    file: &ProvisionFile,
    source: &str,
    report: &mut Report,
) -> Result<(), Error> {
    let listed: BTreeSet<String> = file
        .profiles
        .iter()
        .map(|e| e.name.to_lowercase())
        .collect();
    for p in all_profiles(svc, None).await? {
        if p.labels.get(MANAGED_BY_LABEL).map(String::as_str) != Some(source)
            || listed.contains(&p.name.to_lowercase())
        {
            continue;
        }
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
    Ok(())
}
