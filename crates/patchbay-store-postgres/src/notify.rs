//! The change feed over `LISTEN/NOTIFY`: the trigger of migration 2
//! announces every committed write; each watcher holds one listening
//! connection (taken from the store's pool) for as long as it reads.
//!
//! A listener that loses its connection reconnects and then says `Resync`:
//! notifications sent while it was away are gone, so the watcher reloads.
//! The `Resync` comes only once it listens again, so a reload started on it
//! misses nothing.

use std::time::Duration;

use futures_util::stream;
use patchbay_core::{ProfileEvent, ProfileEvents, ProfileId, Result};
use serde::Deserialize;
use sqlx::postgres::PgListener;
use sqlx::PgPool;

use crate::error::storage;
use crate::store::PostgresStore;

/// Backoff between reconnection attempts while the server is unreachable.
const FIRST_RETRY: Duration = Duration::from_millis(50);
const MAX_RETRY: Duration = Duration::from_secs(5);

/// The channel the trigger notifies for `schema` (see migration 2).
pub(crate) fn channel(schema: &str) -> String {
    // Schema names are ASCII, so any byte index is a char boundary.
    format!("patchbay_{}", &schema[..schema.len().min(54)])
}

#[derive(Deserialize)]
struct Payload {
    schema: String,
    op: String,
    id: String,
    version: i64,
}

/// What one watcher's stream carries between polls.
struct Listening {
    listener: PgListener,
    pool: PgPool,
    channel: String,
    schema: String,
}

impl PostgresStore {
    /// A stream of this schema's changes, listening before it returns.
    pub(crate) async fn listen(&self) -> Result<ProfileEvents> {
        let channel = channel(self.schema());
        let listener = connect(self.pool(), &channel).await?;
        let state = Listening {
            listener,
            pool: self.pool().clone(),
            channel,
            schema: self.schema().to_owned(),
        };
        Ok(ProfileEvents::new(stream::unfold(state, next)))
    }
}

async fn connect(pool: &PgPool, channel: &str) -> Result<PgListener> {
    let mut listener = PgListener::connect_with(pool)
        .await
        .map_err(|e| storage("start the change feed listener", e))?;
    listener
        .listen(channel)
        .await
        .map_err(|e| storage("listen for profile changes", e))?;
    Ok(listener)
}

async fn next(mut st: Listening) -> Option<(ProfileEvent, Listening)> {
    loop {
        match st.listener.try_recv().await {
            Ok(Some(n)) => {
                if let Some(event) = decode(n.payload(), &st.schema) {
                    return Some((event, st));
                }
            }
            // sqlx already reconnected and listens again.
            Ok(None) => {
                tracing::warn!(schema = %st.schema, "postgres store: change feed reconnected; watchers resync");
                return Some((ProfileEvent::Resync, st));
            }
            Err(sqlx::Error::PoolClosed) => return None,
            Err(e) => {
                tracing::warn!(schema = %st.schema, error = %e, "postgres store: change feed listener failed; reconnecting");
                let mut delay = FIRST_RETRY;
                st.listener = loop {
                    match connect(&st.pool, &st.channel).await {
                        Ok(l) => break l,
                        Err(_) if st.pool.is_closed() => return None,
                        Err(e) => {
                            tracing::debug!(error = %e, "postgres store: change feed still down");
                            tokio::time::sleep(delay).await;
                            delay = (delay * 2).min(MAX_RETRY);
                        }
                    }
                };
                return Some((ProfileEvent::Resync, st));
            }
        }
    }
}

/// An event of this schema; anything else on the channel is ignored.
fn decode(payload: &str, schema: &str) -> Option<ProfileEvent> {
    let p: Payload = serde_json::from_str(payload).ok()?;
    if p.schema != schema {
        return None;
    }
    let id = ProfileId::parse(&p.id)?;
    let version = u64::try_from(p.version).ok()?;
    Some(match p.op.as_str() {
        "created" => ProfileEvent::Created { id, version },
        "updated" => ProfileEvent::Updated { id, version },
        "deleted" => ProfileEvent::Deleted { id, version },
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_fit_and_payloads_decode() {
        assert_eq!(channel("patchbay"), "patchbay_patchbay");
        assert_eq!(channel(&"a".repeat(63)).len(), 63);
        let id = ProfileId::generate();
        let ok = format!(r#"{{"schema":"s","op":"updated","id":"{id}","version":3}}"#);
        assert_eq!(
            decode(&ok, "s"),
            Some(ProfileEvent::Updated { id, version: 3 })
        );
        assert_eq!(decode(&ok, "other"), None);
        assert_eq!(decode("not json", "s"), None);
    }
}
