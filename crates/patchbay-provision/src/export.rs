//! Export without secret values, and import (create, then skip or overwrite
//! what exists).

use patchbay_core::profile::name_key;
use patchbay_core::{Error, ListQuery, NoProgress, Profile, ProfileService, Progress};
use serde_json::{json, Value};

use crate::file::{Entry, ProvisionFile};
use crate::plan::{self, Locator};
use crate::problem::Problems;
use crate::report::Report;

/// The reference an exported secret becomes: `{{ env:PATCHBAY_SECRET_<NAME>_<FIELD> }}`,
/// to fill in the importing environment.
pub fn placeholder(profile: &str, field: &str) -> String {
    let var: String = format!("PATCHBAY_SECRET_{profile}_{field}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("{{{{ env:{var} }}}}")
}

/// Which profiles to export.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Only these names (any case); all when empty.
    pub names: Vec<String>,
    /// Only this connector.
    pub connector: Option<String>,
}

/// Every selected profile as a file entry; secret fields become
/// [`placeholder`] references, never values.
///
/// # Errors
/// Store errors.
pub async fn export(
    service: &ProfileService,
    selection: &Selection,
) -> Result<ProvisionFile, Error> {
    let mut file = ProvisionFile::default();
    for p in all_profiles(service, selection.connector.clone()).await? {
        let wanted = selection.names.is_empty()
            || selection
                .names
                .iter()
                .any(|n| n.eq_ignore_ascii_case(&p.name));
        if wanted {
            file.profiles.push(entry(&p));
            file.lines.push(None);
        }
    }
    Ok(file)
}

fn entry(p: &Profile) -> Entry {
    let mut config = p.config.clone();
    for field in p.secret_fields() {
        config.insert(field.clone(), json!(placeholder(&p.name, &field)));
    }
    Entry {
        name: p.name.clone(),
        connector: Some(p.connector.clone()),
        description: p.description.clone(),
        config: Some(Value::Object(config)),
        // The library's own labels (who manages it) stay with the source.
        labels: p
            .labels
            .iter()
            .filter(|(k, _)| !k.starts_with(patchbay_core::RESERVED_LABEL_PREFIX))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        ..Entry::default()
    }
}

/// Every profile (of `connector`), all pages, in name order.
pub async fn all_profiles(
    service: &ProfileService,
    connector: Option<String>,
) -> Result<Vec<Profile>, Error> {
    let mut out = Vec::new();
    let mut query = ListQuery {
        connector,
        limit: patchbay_core::repository::MAX_PAGE_SIZE,
        ..ListQuery::default()
    };
    loop {
        let page = service.list(&query).await?;
        out.extend(page.items);
        match page.next_cursor {
            Some(c) => query.after = Some(c),
            None => return Ok(out),
        }
    }
}

/// Imports `file`: creates what is missing; what exists is overwritten when
/// `overwrite`, else skipped. Nothing changes when any entry is invalid.
///
/// # Errors
/// Every problem of every entry, before anything is written.
pub async fn import(
    service: &ProfileService,
    file: &ProvisionFile,
    overwrite: bool,
) -> Result<Report, Problems> {
    import_with_progress(service, file, overwrite, &NoProgress).await
}

/// [`import`], telling `progress` how many of the entries are done.
///
/// # Errors
/// As [`import`].
pub async fn import_with_progress(
    service: &ProfileService,
    file: &ProvisionFile,
    overwrite: bool,
    progress: &dyn Progress,
) -> Result<Report, Problems> {
    let mut existing = crate::apply::existing(service).await?;
    let mut at = Locator::new(file);
    let mut checked = Vec::new();
    for (i, entry) in file.profiles.iter().enumerate() {
        at.name(i);
        let result = plan::desired(service, entry)
            .and_then(|new| service.check(new).map_err(plan::field_errors));
        match result {
            Ok(c) => checked.push(c),
            Err(errors) => at.extend(i, errors),
        }
    }
    at.finish()?;
    let mut report = Report::default();
    let total = checked.len();
    progress.update(0, total);
    for (done, new) in checked.into_iter().enumerate() {
        let name = new.get().name.clone();
        match existing.remove(&name_key(&name)) {
            None => match service.create_checked(new).await {
                Ok(_) => report.created.push(name),
                Err(e) => report.failed.push((name, e.to_string())),
            },
            Some(_) if !overwrite => report.skipped.push(name),
            Some(current)
                if service
                    .matches(&current, new.get(), "import")
                    .await
                    .unwrap_or(false) =>
            {
                report.unchanged.push(name)
            }
            Some(current) => {
                let update = plan::update_to(&current, new.into_inner());
                match service.update(&current.id, update).await {
                    Ok(_) => report.updated.push(name),
                    Err(e) => report.failed.push((name, e.to_string())),
                }
            }
        }
        progress.update(done + 1, total);
    }
    Ok(report)
}
