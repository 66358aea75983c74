//! Opens the store and the sealing keys named by the command line.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use patchbay::memory::MemoryStore;
use patchbay::{Key, Keyring, ProfileRepository};
use patchbay_store_postgres::PostgresStore;
use patchbay_store_sqlite::{key_file, SqliteConfig, SqliteStore};

type Error = Box<dyn std::error::Error>;

/// Environment variable that may hold the sealing key itself (base64).
pub const KEY_ENV: &str = "PATCHBAY_SEAL_KEY";

/// Where the sealing keys come from.
pub struct KeySources<'a> {
    /// The key that seals (`--key-file`).
    pub key_file: Option<&'a Path>,
    /// Keys that only open (`--old-key-file`).
    pub old_key_files: &'a [PathBuf],
}

/// The repository and its keys, the sealing one first, for `url`
/// (`sqlite://…`, `postgres://…`, or `memory:` for a throwaway store).
pub async fn open(
    url: &str,
    keys: &KeySources<'_>,
    pg_schema: &str,
) -> Result<(Arc<dyn ProfileRepository>, Vec<Key>), Error> {
    if url == "memory:" {
        tracing::warn!("memory store: every profile is lost when the server stops");
        return Ok((Arc::new(MemoryStore::new()), vec![Key::generate()]));
    }
    let (repo, active): (Arc<dyn ProfileRepository>, Key) = if url.starts_with("sqlite:") {
        // This server owns the file: a second one on it refuses to start, and
        // the store can report a revision, so rendered reads are reused.
        let config = SqliteConfig {
            exclusive: true,
            ..SqliteConfig::new(url)
        };
        let store = SqliteStore::open_with(config).await?;
        // One process on one file: creating the key beside it is safe.
        let key = match keys.key_file.map(Path::to_owned).or(store.key_file_path()) {
            Some(path) => blocking(move || Ok(key_file::load_or_create(&path)?)).await?,
            None => {
                tracing::warn!(
                    "in-memory SQLite: secrets are sealed with a key that dies with this process"
                );
                Key::generate()
            }
        };
        (Arc::new(store), key)
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        // Never created here: replicas would each make their own key.
        let key = explicit_key(keys.key_file).await?;
        (Arc::new(PostgresStore::connect(url, pg_schema).await?), key)
    } else {
        return Err(format!(
            "unsupported database URL {:?}: use sqlite://FILE, postgres://… or memory:",
            redacted(url)
        )
        .into());
    };
    let mut all = vec![active];
    for path in keys.old_key_files {
        all.push(read_key(path.clone()).await?);
    }
    Ok((repo, all))
}

/// A keyring sealing with the first key, opening with all.
pub fn keyring(keys: Vec<Key>) -> Keyring {
    let mut keys = keys.into_iter();
    let active = keys.next().expect("at least one key");
    keys.fold(Keyring::new(active), Keyring::with_older)
}

/// The key from `--key-file`, else from `PATCHBAY_SEAL_KEY`; else an error
/// saying how to make one.
async fn explicit_key(key_file: Option<&Path>) -> Result<Key, Error> {
    if let Some(path) = key_file {
        return read_key(path.to_owned()).await;
    }
    if std::env::var_os(KEY_ENV).is_some() {
        return Ok(Key::from_env(KEY_ENV)?);
    }
    Err(format!(
        "a Postgres store needs an explicit sealing key, shared by every replica: pass --key-file FILE \
         (PATCHBAY_KEY_FILE) or set {KEY_ENV} to a base64 key. Create one with `server key new --out FILE`."
    )
    .into())
}

/// An existing key file (never created).
pub async fn read_key(path: PathBuf) -> Result<Key, Error> {
    blocking(move || {
        if !path.is_file() {
            return Err(format!("key file {} does not exist", path.display()).into());
        }
        Ok(Key::from_file(&path)?)
    })
    .await
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Box<dyn std::error::Error + Send + Sync>> + Send + 'static,
) -> Result<T, Error> {
    tokio::task::spawn_blocking(f)
        .await?
        .map_err(|e| e as Error)
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
