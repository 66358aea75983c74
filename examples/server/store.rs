//! Opens the store and the sealing keyring named by the command line.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use patchbay::memory::MemoryStore;
use patchbay::{Keyring, ProfileRepository};
use patchbay_store_postgres::PostgresStore;
use patchbay_store_sqlite::{key_file, SqliteConfig, SqliteStore};

type Error = Box<dyn std::error::Error>;

/// The repository and keyring for `url` (`sqlite://…`, `postgres://…`, or
/// `memory:` for a throwaway in-process store).
pub async fn open(
    url: &str,
    key_file: Option<&Path>,
    pg_schema: &str,
) -> Result<(Arc<dyn ProfileRepository>, Keyring), Error> {
    if url == "memory:" {
        tracing::warn!("memory store: every profile is lost when the server stops");
        return Ok((Arc::new(MemoryStore::new()), Keyring::ephemeral()));
    }
    if url.starts_with("sqlite:") {
        // This server owns the file: a second one on it refuses to start, and
        // the store can report a revision, so rendered reads are reused.
        let config = SqliteConfig {
            exclusive: true,
            ..SqliteConfig::new(url)
        };
        return Ok(match key_file {
            None => {
                let (store, keyring) = SqliteStore::open_default_with(config).await?;
                (Arc::new(store), keyring)
            }
            Some(path) => (
                Arc::new(SqliteStore::open_with(config).await?),
                load_key(path.to_owned()).await?,
            ),
        });
    }
    if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        let path = key_file.map_or_else(|| PathBuf::from("patchbay.key"), Path::to_owned);
        let keyring = load_key(path).await?;
        return Ok((
            Arc::new(PostgresStore::connect(url, pg_schema).await?),
            keyring,
        ));
    }
    Err(format!(
        "unsupported database URL {:?}: use sqlite://FILE, postgres://… or memory:",
        redacted(url)
    )
    .into())
}

async fn load_key(path: PathBuf) -> Result<Keyring, Error> {
    let key = tokio::task::spawn_blocking(move || key_file::load_or_create(&path)).await??;
    Ok(Keyring::new(key))
}

/// The URL without its password, for logs.
pub fn redacted(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let userinfo = &url[s + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{user}:****{}", &url[..s + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}
