//! [`SqliteStore`]: opening, migrating, the key file, and the pool.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use patchbay_core::{Dependent, Error, Keyring, ProfileId, Result, TenantId};
use sqlx::sqlite::SqlitePoolOptions;
use sqlx::SqlitePool;

use crate::config::SqliteConfig;
use crate::error::storage;
use crate::queries as q;
use crate::{file_lock, key_file, migrate};

/// Profiles in a SQLite database file. Cheap to clone (the pool is shared).
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pub(crate) pool: SqlitePool,
    file: Option<PathBuf>,
    /// Held for the store's life; released when the last clone drops.
    _lock: Option<Arc<std::fs::File>>,
    /// `Some` when the database is this store's alone (`exclusive`).
    revision: Option<Arc<AtomicU64>>,
    /// The change feed, also only when `exclusive`.
    pub(crate) feed: Option<Arc<crate::feed::Feed>>,
}

impl SqliteStore {
    /// Opens (creating when missing) the database at `url` with default
    /// options, and runs the embedded migrations.
    ///
    /// # Errors
    /// `STORAGE` when the file cannot be opened or migrated.
    pub async fn open(url: &str) -> Result<Self> {
        Self::open_with(SqliteConfig::new(url)).await
    }

    /// Opens with explicit options.
    ///
    /// # Errors
    /// `STORAGE` when the file cannot be opened or migrated.
    pub async fn open_with(config: SqliteConfig) -> Result<Self> {
        let options = config.connect_options()?;
        let file = config.file()?;
        let lock = match &file {
            Some(f) => Some(Arc::new(
                file_lock::acquire(beside(f, ".lock"), config.exclusive).await?,
            )),
            None => None,
        };
        let mut pool = SqlitePoolOptions::new()
            .max_connections(config.max_connections.max(1))
            .acquire_timeout(config.acquire_timeout);
        if file.is_none() {
            // An in-memory database lives only while a connection is open.
            pool = pool
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None);
        }
        let pool = pool
            .connect_with(options)
            .await
            .map_err(|e| storage(&format!("open {}", config.url), e))?;
        let store = Self {
            pool,
            file,
            _lock: lock,
            revision: config.exclusive.then(|| Arc::new(AtomicU64::new(0))),
            feed: config.exclusive.then(Default::default),
        };
        if config.migrate_on_open {
            store.migrate().await?;
        }
        Ok(store)
    }

    /// Opens `url` and loads the sealing key from `<database file>.key`,
    /// creating a random key file (mode 0600) when there is none, and logging
    /// that it did. Meant for examples and single-host setups: production
    /// hosts usually pass their own key (see [`Key`](patchbay_core::Key)).
    /// An in-memory database gets an ephemeral key, with a warning.
    ///
    /// # Errors
    /// `STORAGE` when the database or key file cannot be opened or created;
    /// `VALIDATION` when the key file does not hold a key.
    pub async fn open_default(url: &str) -> Result<(Self, Keyring)> {
        Self::open_default_with(SqliteConfig::new(url)).await
    }

    /// [`open_default`](Self::open_default) with explicit options.
    ///
    /// # Errors
    /// As [`open_default`](Self::open_default).
    pub async fn open_default_with(config: SqliteConfig) -> Result<(Self, Keyring)> {
        let store = Self::open_with(config).await?;
        let keyring = match store.key_file_path() {
            Some(path) => {
                let key = tokio::task::spawn_blocking(move || key_file::load_or_create(&path))
                    .await
                    .map_err(|e| Error::storage("sqlite store: the key file task failed", e))??;
                Keyring::new(key)
            }
            None => {
                tracing::warn!("sqlite store: in-memory database, secrets are sealed with a key that dies with this process");
                Keyring::ephemeral()
            }
        };
        Ok((store, keyring))
    }

    /// Where [`open_default`](Self::open_default) keeps the key:
    /// `<database file>.key`; `None` for an in-memory database.
    pub fn key_file_path(&self) -> Option<PathBuf> {
        self.file.as_deref().map(|f| beside(f, ".key"))
    }

    /// The database file, `None` when in memory.
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    /// Applies the embedded migrations not yet applied; returns how many ran.
    /// Safe to call from several processes at once.
    ///
    /// # Errors
    /// `STORAGE` when a migration fails or the database comes from a newer build.
    pub async fn migrate(&self) -> Result<usize> {
        migrate::run(&self.pool).await
    }

    /// The underlying pool, for diagnostics and host-side queries.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Moves the revision after a write (no-op unless `exclusive`).
    pub(crate) fn changed(&self) {
        if let Some(r) = &self.revision {
            r.fetch_add(1, Ordering::AcqRel);
        }
    }

    pub(crate) fn current_revision(&self) -> Option<u64> {
        self.revision.as_ref().map(|r| r.load(Ordering::Acquire))
    }

    /// Closes every pooled connection (checkpointing the WAL).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub(crate) async fn exists(&self, tenant: &TenantId, id: &ProfileId) -> Result<bool> {
        let row = sqlx::query(q::EXISTS)
            .bind(id.as_str())
            .bind(tenant.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| storage("look up a profile", e))?;
        Ok(row.is_some())
    }

    pub(crate) async fn dependents_of(
        &self,
        tenant: &TenantId,
        id: &ProfileId,
    ) -> Result<Vec<Dependent>> {
        let rows: Vec<(String, String)> = sqlx::query_as(q::DEPENDENTS)
            .bind(id.as_str())
            .bind(tenant.as_str())
            .fetch_all(&self.pool)
            .await
            .map_err(|e| storage("list dependents", e))?;
        Ok(rows
            .into_iter()
            .map(|(kind, dep)| Dependent::new(kind, dep))
            .collect())
    }
}

/// `<db><suffix>`: the files kept beside the database (key, lock).
fn beside(db: &Path, suffix: &str) -> PathBuf {
    let mut s = db.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}
