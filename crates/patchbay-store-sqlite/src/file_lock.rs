//! The advisory lock on `<database file>.lock` that tells an exclusive store
//! it is the only patchbay writer of the file.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

use patchbay_core::{Error, Result};

/// Locks `path` (shared, or exclusive), creating it when missing.
/// Never waits: a conflicting holder is an immediate `STORAGE` error.
pub(crate) async fn acquire(path: PathBuf, exclusive: bool) -> Result<File> {
    tokio::task::spawn_blocking(move || lock(&path, exclusive))
        .await
        .map_err(|e| Error::storage("sqlite store: the lock task failed", e))?
}

fn lock(path: &Path, exclusive: bool) -> Result<File> {
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|e| Error::storage(format!("sqlite store: open {}", path.display()), e))?;
    let locked = if exclusive {
        file.try_lock()
    } else {
        file.try_lock_shared()
    };
    match locked {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => Err(Error::Storage {
            message: format!(
                "sqlite store: {} is held {}by another store; {}",
                path.display(),
                if exclusive { "" } else { "exclusively " },
                "close it first, or open without `exclusive` everywhere"
            ),
            source: None,
        }),
        Err(TryLockError::Error(e)) => Err(Error::storage(
            format!("sqlite store: lock {}", path.display()),
            e,
        )),
    }
}
