//! Subcommands over the same database as `serve`: apply, export, import,
//! list, test. Output is for people on a terminal and `--json` for scripts
//! (long runs show progress on stderr: `progress.rs`);
//! exit codes: 0 done, 1 failed (store, I/O, a probe that failed), 2 the
//! input is invalid (nothing was changed).

use std::path::PathBuf;

use clap::{Args as ClapArgs, Subcommand};
use patchbay::provision::{self, ApplyOptions, Format, ProvisionFile, Report, Selection};
use patchbay::{Error, ProfileService};
use serde_json::json;

use crate::progress::Shown;

/// Subcommands that work on profiles.
#[derive(Subcommand, Debug)]
pub enum ProfileCommand {
    /// Apply a provisioning file (YAML, JSON or TOML): create, update, and
    /// with --prune delete what it manages. Exit 2 when any entry is invalid.
    Apply {
        file: PathBuf,
        /// Delete profiles this file manages that it no longer lists.
        #[arg(long)]
        prune: bool,
        #[command(flatten)]
        out: Output,
    },
    /// Export profiles, secrets as references to fill (never values).
    Export {
        /// Only these profiles (repeatable).
        #[arg(long)]
        name: Vec<String>,
        /// Only this connector.
        #[arg(long)]
        connector: Option<String>,
        /// yaml (default), json or toml.
        #[arg(long, default_value = "yaml")]
        format: String,
    },
    /// Import profiles exported earlier; existing names are skipped unless --overwrite.
    Import {
        file: PathBuf,
        #[arg(long)]
        overwrite: bool,
        #[command(flatten)]
        out: Output,
    },
    /// List profiles.
    List {
        #[command(flatten)]
        out: Output,
    },
    /// Test a saved profile against its system. Exit 1 when it fails.
    Test {
        name: String,
        #[command(flatten)]
        out: Output,
    },
}

#[derive(ClapArgs, Debug, Clone, Copy)]
pub struct Output {
    /// One JSON document on stdout.
    #[arg(long)]
    json: bool,
}

/// What a file's profiles are managed by: its file name (a label value is
/// at most 63 characters; the directory differs between machines anyway).
pub fn source_name(path: &std::path::Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    name.chars().take(57).collect()
}

/// Runs `command`; returns the exit code.
pub async fn run(service: &ProfileService, command: ProfileCommand) -> i32 {
    match command {
        ProfileCommand::Apply { file, prune, out } => {
            let source = format!("file:{}", source_name(&file));
            let parsed = match ProvisionFile::read(&file) {
                Ok(f) => f,
                Err(problems) => return invalid(out, &problems),
            };
            let progress = Shown::new("applying", out.json);
            let options = ApplyOptions { source, prune };
            let result =
                provision::apply_with_progress(service, &parsed, &options, &progress).await;
            progress.finish();
            match result {
                Ok(report) => reported(out, &report),
                Err(problems) => invalid(out, &problems),
            }
        }
        ProfileCommand::Export {
            name,
            connector,
            format,
        } => {
            let format = match format.as_str() {
                "yaml" => Format::Yaml,
                "json" => Format::Json,
                "toml" => Format::Toml,
                other => {
                    eprintln!("error: --format {other:?}: yaml, json or toml");
                    return 2;
                }
            };
            match provision::export(
                service,
                &Selection {
                    names: name,
                    connector,
                },
            )
            .await
            {
                Ok(file) => {
                    print!("{}", file.render(format));
                    0
                }
                Err(e) => failed(&e),
            }
        }
        ProfileCommand::Import {
            file,
            overwrite,
            out,
        } => {
            let parsed = match ProvisionFile::read(&file) {
                Ok(f) => f,
                Err(problems) => return invalid(out, &problems),
            };
            let progress = Shown::new("importing", out.json);
            let result =
                provision::import_with_progress(service, &parsed, overwrite, &progress).await;
            progress.finish();
            match result {
                Ok(report) => reported(out, &report),
                Err(problems) => invalid(out, &problems),
            }
        }
        ProfileCommand::List { out } => list(service, out).await,
        ProfileCommand::Test { name, out } => test(service, &name, out).await,
    }
}

async fn list(service: &ProfileService, out: Output) -> i32 {
    let profiles = match provision::all_profiles(service, None).await {
        Ok(p) => p,
        Err(e) => return failed(&e),
    };
    if out.json {
        println!("{}", json!({ "profiles": profiles }));
    } else {
        for p in &profiles {
            println!("{}\t{}\tv{}\t{}", p.name, p.connector, p.version, p.id);
        }
    }
    0
}

async fn test(service: &ProfileService, name: &str, out: Output) -> i32 {
    let profile = match service.get_by_name(name).await {
        Ok(p) => p,
        Err(e) => return failed(&e),
    };
    match service.test_profile(&profile.id, None).await {
        Ok(report) => {
            if out.json {
                println!("{}", json!({ "name": profile.name, "result": report }));
            } else {
                println!(
                    "ok\t{}\t{} ms\t{}",
                    profile.name,
                    report.details.latency_ms,
                    report.details.version.as_deref().unwrap_or("-")
                );
            }
            0
        }
        Err(Error::ConnectionFailed(f)) => {
            if out.json {
                println!(
                    "{}",
                    json!({ "name": profile.name, "error": { "reason": f.reason, "message": f.message } })
                );
            } else {
                println!(
                    "failed\t{}\t{}\t{}",
                    profile.name,
                    f.reason.as_str(),
                    f.message
                );
            }
            1
        }
        Err(e) => failed(&e),
    }
}

fn reported(out: Output, report: &Report) -> i32 {
    if out.json {
        println!("{}", json!({ "report": report }));
    } else {
        for (what, names) in [
            ("created", &report.created),
            ("updated", &report.updated),
            ("unchanged", &report.unchanged),
            ("deleted", &report.deleted),
            ("skipped", &report.skipped),
        ] {
            for n in names {
                println!("{what}\t{n}");
            }
        }
        for (n, deps) in &report.kept_in_use {
            println!("kept (in use)\t{n}\t{deps}");
        }
        for (n, why) in &report.failed {
            println!("failed\t{n}\t{why}");
        }
    }
    if report.failed.is_empty() {
        0
    } else {
        1
    }
}

fn invalid(out: Output, problems: &provision::Problems) -> i32 {
    if out.json {
        let list: Vec<_> = problems
            .0
            .iter()
            .map(|p| json!({ "path": p.path, "line": p.line, "message": p.message }))
            .collect();
        println!("{}", json!({ "problems": list }));
    } else {
        for p in &problems.0 {
            eprintln!("invalid: {p}");
        }
        eprintln!("nothing was changed");
    }
    2
}

fn failed(e: &Error) -> i32 {
    eprintln!("error: {} ({})", e, e.code());
    1
}
