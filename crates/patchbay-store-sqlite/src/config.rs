//! How to open a [`SqliteStore`](crate::SqliteStore).

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use patchbay_core::{Error, Result};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};

/// Options for [`SqliteStore::open_with`](crate::SqliteStore::open_with).
#[derive(Debug, Clone)]
pub struct SqliteConfig {
    /// `sqlite://path/to/profiles.db`, `sqlite::memory:`, or a plain file path.
    /// The file is created when missing.
    pub url: String,
    /// Pooled connections (default 4). Writers are serialized by SQLite;
    /// readers run in parallel thanks to WAL.
    pub max_connections: u32,
    /// How long a writer waits for another writer's lock before failing with
    /// `STORAGE` (default 5 s).
    pub busy_timeout: Duration,
    /// How long a call waits for a free pooled connection (default 10 s).
    pub acquire_timeout: Duration,
    /// `synchronous = FULL` when true (default): every commit is on disk
    /// before `Ok` returns, so it survives a crash or power loss. False means
    /// `NORMAL`: still safe against the process being killed, faster, but a
    /// power loss may drop the last commits.
    pub full_sync: bool,
    /// Run the embedded migrations when opening (default true).
    pub migrate_on_open: bool,
    /// Hold the database for this store alone (default false). Every store
    /// locks `<database file>.lock`: shared by default, exclusively with this
    /// set, so opening fails with `STORAGE` while another store (in this or
    /// another process) has the file. Knowing it is the only writer, the
    /// store then reports a [revision](patchbay_core::ProfileRepository::revision)
    /// and adapters may reuse what they rendered from it. Tools that bypass
    /// patchbay (the `sqlite3` shell) are not stopped by the lock.
    pub exclusive: bool,
}

impl SqliteConfig {
    /// Defaults for `url`.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            max_connections: 4,
            busy_timeout: Duration::from_secs(5),
            acquire_timeout: Duration::from_secs(10),
            full_sync: true,
            migrate_on_open: true,
            exclusive: false,
        }
    }

    pub(crate) fn connect_options(&self) -> Result<SqliteConnectOptions> {
        let base = if self.url.starts_with("sqlite:") {
            SqliteConnectOptions::from_str(&self.url)
                .map_err(|e| Error::storage(format!("invalid SQLite URL {:?}", self.url), e))?
        } else {
            SqliteConnectOptions::new().filename(&self.url)
        };
        Ok(base
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(self.busy_timeout)
            .synchronous(if self.full_sync {
                SqliteSynchronous::Full
            } else {
                SqliteSynchronous::Normal
            }))
    }

    /// The database file, or `None` for an in-memory database.
    pub(crate) fn file(&self) -> Result<Option<PathBuf>> {
        let opts = self.connect_options()?;
        let path = opts.get_filename();
        let s = path.to_string_lossy();
        // sqlx names in-memory databases `file:sqlx-in-memory-N`.
        let in_memory = s.is_empty() || s == ":memory:" || s.starts_with("file:");
        Ok((!in_memory).then(|| path.to_path_buf()))
    }
}
