//! A key file beside the database, for hosts that give no key of their own.

use std::io::Write;
use std::path::Path;

use patchbay_core::{Error, Key, Result};

/// Loads the key in `path`, or creates the file with a fresh random key.
///
/// Creation is atomic: the key is written to a temporary file (mode 0600 on
/// Unix) in the same directory, synced, then linked into place only if no
/// file is there yet, so two processes starting at once end up with the
/// same key. Creating a key file is logged at `warn` level with its path,
/// because losing that file makes every stored secret unreadable.
///
/// Blocking: call it from `spawn_blocking` in async code.
///
/// # Errors
/// `STORAGE` when the file cannot be read or written; `VALIDATION` when it
/// exists but does not hold base64 of 32 bytes.
pub fn load_or_create(path: &Path) -> Result<Key> {
    if path.exists() {
        warn_if_readable_by_others(path);
        return Key::from_file(path);
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let key = Key::generate();
    let fail = |what: &str, e: std::io::Error| {
        Error::storage(format!("cannot {what} key file {}", path.display()), e)
    };
    // tempfile creates the file with mode 0600 on Unix.
    let mut tmp = tempfile::Builder::new()
        .prefix(".patchbay-key-")
        .tempfile_in(dir)
        .map_err(|e| fail("create a temporary", e))?;
    tmp.write_all(key.to_base64().as_bytes())
        .and_then(|()| tmp.write_all(b"\n"))
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|e| fail("write", e))?;
    match tmp.persist_noclobber(path) {
        Ok(_) => {
            tracing::warn!(
                path = %path.display(),
                key_id = key.id(),
                "created a new secret-sealing key file; back it up: without it the stored secrets cannot be read"
            );
            Ok(key)
        }
        // Another process won the race: use its key.
        Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => Key::from_file(path),
        Err(e) => Err(fail("create", e.error)),
    }
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path) {
        if meta.permissions().mode() & 0o077 != 0 {
            tracing::warn!(path = %path.display(), "the key file is accessible to other users; chmod 600 it");
        }
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_: &Path) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_once_then_loads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite.key");
        let created = load_or_create(&path).unwrap();
        let loaded = load_or_create(&path).unwrap();
        assert_eq!(created.id(), loaded.id());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");
        }
        // No temporary file is left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn malformed_file_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.key");
        std::fs::write(&path, "not a key").unwrap();
        let err = load_or_create(&path).unwrap_err();
        assert_eq!(err.code(), "VALIDATION_FAILED");
        assert!(err.to_string().contains("bad.key"), "{err}");
    }
}
