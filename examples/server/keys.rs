//! `server key …`: create a sealing key, rotate to a new one, retire an old one.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Subcommand;
use patchbay::{Key, ProfileService};

use crate::progress::Shown;
use crate::store::{self, KeySources};

type Error = Box<dyn std::error::Error>;

/// Sealing keys.
#[derive(Subcommand, Debug)]
pub enum KeyCommand {
    /// Write a new random sealing key (base64) to FILE, mode 0600. Refuses
    /// to overwrite an existing file. Prints the key id, never the key.
    New {
        /// Where to write the key.
        #[arg(long)]
        out: PathBuf,
    },
    /// Reseal every stored secret under the key in FILE (each profile's
    /// version goes up by one; concurrent updates are kept). The current
    /// keys (`--key-file`, `--old-key-file`) must open the store. Profiles
    /// whose secrets cannot be opened are listed and left alone (exit code 2).
    /// Afterwards start the server with `--key-file FILE`.
    Rotate {
        /// File holding the new key (see `server key new`).
        #[arg(long)]
        new_key: PathBuf,
        /// Then retire the keys it replaced (refused while any secret still
        /// uses one).
        #[arg(long)]
        retire: bool,
        /// One JSON document on stdout (no progress on stderr).
        #[arg(long)]
        json: bool,
    },
    /// Retire a key: the store stops requiring it. Refused while any stored
    /// secret is sealed with it and for the active key (`--key-file`).
    Retire {
        /// The key id, as printed by `key new` or named by the startup error.
        #[arg(long)]
        key_id: String,
    },
}

/// Runs a key command against the store the global options name.
pub async fn run(
    command: KeyCommand,
    url: &str,
    keys: &KeySources<'_>,
    pg_schema: &str,
) -> Result<(), Error> {
    match command {
        KeyCommand::New { out } => {
            let key = tokio::task::spawn_blocking(move || write_new_key(&out))
                .await?
                .map_err(|e| e as Error)?;
            println!("created sealing key {}", key.id());
            Ok(())
        }
        KeyCommand::Rotate {
            new_key,
            retire,
            json,
        } => {
            let (repo, current) = store::open(url, keys, pg_schema).await?;
            let new = store::read_key(new_key).await?;
            let old_ids: Vec<String> = current
                .iter()
                .map(|k| k.id().to_owned())
                .filter(|id| id != new.id())
                .collect();
            let mut all = vec![new.clone()];
            all.extend(current);
            // Checked first: the current keys must open the store, and the
            // new key's check value is recorded before it seals anything.
            let service = ProfileService::builder(repo)
                .sealer(store::keyring(all))
                .build_checked()
                .await?;
            let progress = Shown::new("resealing", json);
            let report = service.reseal_with_progress(&progress).await?;
            progress.finish();
            if !json {
                println!(
                    "resealed {} profile(s) under key {}",
                    report.resealed,
                    new.id()
                );
                for skipped in &report.skipped {
                    println!(
                        "skipped {}: {} cannot be opened",
                        skipped.id,
                        skipped.fields.join(", ")
                    );
                }
            }
            let mut retired = Vec::new();
            if retire {
                for id in &old_ids {
                    let recorded = service.retire_key(id).await?;
                    if !json {
                        let note = if recorded {
                            ""
                        } else {
                            " (it sealed nothing here)"
                        };
                        println!("retired key {id}{note}");
                    }
                    retired.push(id);
                }
            }
            if json {
                let skipped: Vec<_> = report
                    .skipped
                    .iter()
                    .map(|s| serde_json::json!({ "id": s.id, "fields": s.fields }))
                    .collect();
                println!(
                    "{}",
                    serde_json::json!({
                        "key_id": new.id(),
                        "resealed": report.resealed,
                        "skipped": skipped,
                        "retired": retired,
                    })
                );
            }
            if !report.skipped.is_empty() {
                eprintln!(
                    "error: {} profile(s) could not be resealed: replace their secrets with a PATCH, \
                     or rotate again with the key that opens them as --old-key-file",
                    report.skipped.len()
                );
                std::process::exit(2);
            }
            Ok(())
        }
        KeyCommand::Retire { key_id } => {
            let (repo, keys) = store::open(url, keys, pg_schema).await?;
            // Not build_checked: the store may still record the key being retired.
            let service = ProfileService::builder(repo)
                .sealer(store::keyring(keys))
                .build()?;
            let recorded = service.retire_key(&key_id).await?;
            println!(
                "retired key {key_id}{}",
                if recorded {
                    ""
                } else {
                    " (the store did not record it)"
                }
            );
            Ok(())
        }
    }
}

/// A fresh key in a new file, mode 0600 from the start, synced.
fn write_new_key(path: &Path) -> Result<Key, Box<dyn std::error::Error + Send + Sync>> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .map_err(|e| format!("cannot create key file {}: {e}", path.display()))?;
    let key = Key::generate();
    file.write_all(key.to_base64().as_bytes())
        .and_then(|()| file.write_all(b"\n"))
        .and_then(|()| file.sync_all())
        .map_err(|e| format!("cannot write key file {}: {e}", path.display()))?;
    Ok(key)
}
