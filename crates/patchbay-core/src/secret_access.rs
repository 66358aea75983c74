//! Which `{{ env:… }}` / `{{ file:… }}` references the host allows, and the
//! resolver that reads them within those limits.
//!
//! A reference makes this process read its own environment or files and hand
//! the value to a host the profile names, so resolving one is a privilege the
//! host grants, never something an API caller can ask for. The default grants
//! nothing.

use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use secrecy::SecretString;

use crate::secret::{ResolveError, SecretRef, SecretResolver};

/// Largest secret file read by default.
pub const DEFAULT_MAX_SECRET_FILE_BYTES: u64 = 64 * 1024;

/// One message for every file that cannot be used — missing, outside the
/// allowed directories, forbidden, not a regular file — so a caller cannot
/// probe what exists on the server.
const FILE_UNAVAILABLE: &str = "is not a readable file in an allowed secret directory";
const ENV_UNAVAILABLE: &str = "is not an allowed environment variable that is set";

/// What references [`EnvFileResolver`] may resolve. The default allows none.
///
/// ```
/// use patchbay_core::SecretAccess;
/// let access = SecretAccess::none()
///     .allow_env_prefix("PATCHBAY_SECRET_")
///     .allow_dir("/run/secrets")
///     .forbid_path("/var/lib/patchbay/patchbay.key");
/// ```
#[derive(Debug, Clone)]
pub struct SecretAccess {
    env_prefixes: Vec<String>,
    env_names: Vec<String>,
    env_forbidden: Vec<String>,
    dirs: Vec<PathBuf>,
    forbidden: Vec<PathBuf>,
    max_file_bytes: u64,
}

impl Default for SecretAccess {
    fn default() -> Self {
        Self::none()
    }
}

impl SecretAccess {
    /// Allows no reference at all.
    pub fn none() -> Self {
        Self {
            env_prefixes: Vec::new(),
            env_names: Vec::new(),
            env_forbidden: Vec::new(),
            dirs: Vec::new(),
            forbidden: Vec::new(),
            max_file_bytes: DEFAULT_MAX_SECRET_FILE_BYTES,
        }
    }

    /// Allows environment variables whose name starts with `prefix`
    /// (case-sensitive). An empty prefix allows every variable.
    pub fn allow_env_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.env_prefixes.push(prefix.into());
        self
    }

    /// Allows one environment variable.
    pub fn allow_env(mut self, name: impl Into<String>) -> Self {
        self.env_names.push(name.into());
        self
    }

    /// Refuses one environment variable even if a prefix allows it (such as
    /// the one holding the sealing key).
    pub fn forbid_env(mut self, name: impl Into<String>) -> Self {
        self.env_forbidden.push(name.into());
        self
    }

    /// Allows regular files under `dir` (after resolving symlinks).
    pub fn allow_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.dirs.push(dir.into());
        self
    }

    /// Refuses a file (or everything under a directory) even inside an
    /// allowed directory: the sealing key file, the database and its side
    /// files.
    pub fn forbid_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.forbidden.push(path.into());
        self
    }

    /// Largest file read (default [`DEFAULT_MAX_SECRET_FILE_BYTES`]).
    pub fn max_file_bytes(mut self, bytes: u64) -> Self {
        self.max_file_bytes = bytes;
        self
    }

    /// Whether any environment variable may be referenced.
    pub fn allows_env(&self) -> bool {
        !self.env_prefixes.is_empty() || !self.env_names.is_empty()
    }

    /// Whether any file may be referenced.
    pub fn allows_files(&self) -> bool {
        !self.dirs.is_empty()
    }

    /// Judges a reference by its text alone (no file system access): the
    /// check made when a profile is saved, and again before resolving.
    ///
    /// # Errors
    /// Why it is refused.
    pub fn check(&self, reference: &SecretRef) -> Result<(), ResolveError> {
        match reference.scheme.as_str() {
            "env" => self.check_env(&reference.argument),
            "file" => self.check_path(Path::new(&reference.argument)),
            other => Err(ResolveError(format!(
                "unknown secret reference scheme {other:?}"
            ))),
        }
    }

    fn check_env(&self, name: &str) -> Result<(), ResolveError> {
        if !self.allows_env() {
            return Err(ResolveError(
                "environment references are not enabled on this server".into(),
            ));
        }
        // std::env::var panics on '=' and NUL; names are [A-Za-z0-9_] anyway.
        let well_formed =
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        let allowed = well_formed
            && !self.env_forbidden.iter().any(|f| f == name)
            && (self.env_names.iter().any(|n| n == name)
                || self
                    .env_prefixes
                    .iter()
                    .any(|p| name.starts_with(p.as_str())));
        if allowed {
            Ok(())
        } else {
            Err(ResolveError(
                "this environment variable is not one the server allows".into(),
            ))
        }
    }

    fn check_path(&self, path: &Path) -> Result<(), ResolveError> {
        if !self.allows_files() {
            return Err(ResolveError(
                "file references are not enabled on this server".into(),
            ));
        }
        let plain = path.is_absolute()
            && path
                .components()
                .all(|c| matches!(c, Component::RootDir | Component::Normal(_)));
        if !plain {
            return Err(ResolveError(
                "a file reference must be an absolute path without '..'".into(),
            ));
        }
        if !self.dirs.iter().any(|d| path.starts_with(d)) {
            return Err(ResolveError(
                "this file is not in a directory the server allows".into(),
            ));
        }
        Ok(())
    }

    /// Reads the file behind `path` (blocking: call off the async workers).
    fn read_file(&self, path: &Path) -> Result<String, ResolveError> {
        let unavailable = || ResolveError(FILE_UNAVAILABLE.into());
        self.check_path(path).map_err(|_| unavailable())?;
        // Symlinks resolved, then judged where they really lead.
        let real = path.canonicalize().map_err(|_| unavailable())?;
        let inside = self
            .dirs
            .iter()
            .filter_map(|d| d.canonicalize().ok())
            .any(|d| real.starts_with(d));
        let forbidden = self
            .forbidden
            .iter()
            .any(|f| real.starts_with(f) || f.canonicalize().is_ok_and(|f| real.starts_with(f)));
        if !inside || forbidden {
            return Err(unavailable());
        }
        // Stat before open: a FIFO or device is never opened.
        if !std::fs::metadata(&real).is_ok_and(|m| m.is_file()) {
            return Err(unavailable());
        }
        let file = open_nonblocking(&real).map_err(|_| unavailable())?;
        // The path may have been swapped since the stat: judge what was opened.
        if !file.metadata().is_ok_and(|m| m.is_file()) {
            return Err(unavailable());
        }
        let mut bytes = Vec::new();
        file.take(self.max_file_bytes + 1)
            .read_to_end(&mut bytes)
            .map_err(|_| unavailable())?;
        if bytes.len() as u64 > self.max_file_bytes {
            return Err(ResolveError(format!(
                "is larger than {} bytes",
                self.max_file_bytes
            )));
        }
        let mut text =
            String::from_utf8(bytes).map_err(|_| ResolveError("is not UTF-8 text".into()))?;
        let trimmed = text.trim_end_matches(['\n', '\r']).len();
        text.truncate(trimmed);
        Ok(text)
    }
}

/// Opens read-only, non-blocking (a FIFO swapped in after the stat cannot
/// block the thread) and without following a final symlink.
fn open_nonblocking(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW | libc::O_NOCTTY);
    }
    options.open(path)
}

/// Resolves `env:NAME` from the process environment and `file:/path` from a
/// file (trailing newline removed), each only as far as its [`SecretAccess`]
/// allows. `EnvFileResolver::default()` allows nothing.
#[derive(Debug, Clone, Default)]
pub struct EnvFileResolver {
    access: Arc<SecretAccess>,
}

impl EnvFileResolver {
    /// A resolver limited to `access`.
    pub fn new(access: SecretAccess) -> Self {
        Self {
            access: Arc::new(access),
        }
    }
}

#[async_trait]
impl SecretResolver for EnvFileResolver {
    fn supports(&self, scheme: &str) -> bool {
        matches!(scheme, "env" | "file")
    }

    fn permits(&self, reference: &SecretRef) -> Result<(), ResolveError> {
        self.access.check(reference)
    }

    async fn resolve(&self, reference: &SecretRef) -> Result<SecretString, ResolveError> {
        match reference.scheme.as_str() {
            "env" => {
                self.access
                    .check_env(&reference.argument)
                    .map_err(|_| ResolveError(ENV_UNAVAILABLE.into()))?;
                std::env::var(&reference.argument)
                    .map(SecretString::from)
                    .map_err(|_| ResolveError(ENV_UNAVAILABLE.into()))
            }
            "file" => {
                let access = Arc::clone(&self.access);
                let path = PathBuf::from(&reference.argument);
                tokio::task::spawn_blocking(move || access.read_file(&path))
                    .await
                    .map_err(|_| ResolveError(FILE_UNAVAILABLE.into()))?
                    .map(SecretString::from)
            }
            other => Err(ResolveError(format!("unknown secret scheme {other:?}"))),
        }
    }
}
