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
use patchbay_core::{ProfileEvent, ProfileEvents, ProfileId, Result, TenantId};
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
    /// Absent in payloads of the trigger before migration 4: the default.
    #[serde(default)]
    tenant: Option<String>,
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
    tenant: TenantId,
}

impl PostgresStore {
    /// A stream of this schema's changes to `tenant`'s profiles, listening
    /// before it returns.
    pub(crate) async fn listen(&self, tenant: &TenantId) -> Result<ProfileEvents> {
        let channel = channel(self.schema());
        let listener = connect(self.pool(), &channel).await?;
        let state = Listening {
            listener,
            pool: self.pool().clone(),
            channel,
            schema: self.schema().to_owned(),
            tenant: tenant.clone(),
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
                if let Some(event) = decode(n.payload(), &st.schema, &st.tenant) {
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

/// An event of this schema and tenant; anything else on the channel is
/// ignored.
fn decode(payload: &str, schema: &str, tenant: &TenantId) -> Option<ProfileEvent> {
    let p: Payload = serde_json::from_str(payload).ok()?;
    let of = p.tenant.as_deref().unwrap_or(TenantId::DEFAULT);
    if p.schema != schema || of != tenant.as_str() {
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
        let (dflt, acme) = (TenantId::default(), TenantId::new("acme").unwrap());
        let old = format!(r#"{{"schema":"s","op":"updated","id":"{id}","version":3}}"#);
        let updated = ProfileEvent::Updated {
            id: id.clone(),
            version: 3,
        };
        assert_eq!(decode(&old, "s", &dflt), Some(updated.clone()));
        assert_eq!(decode(&old, "other", &dflt), None);
        assert_eq!(decode(&old, "s", &acme), None);
        let new =
            format!(r#"{{"schema":"s","tenant":"acme","op":"updated","id":"{id}","version":3}}"#);
        assert_eq!(decode(&new, "s", &acme), Some(updated));
        assert_eq!(decode(&new, "s", &dflt), None);
        assert_eq!(decode("not json", "s", &dflt), None);
    }
}
