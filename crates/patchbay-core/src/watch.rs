//! The change feed: what stores publish when a profile changes, and the
//! stream hosts read it from ([`ProfileService::watch`](crate::ProfileService::watch)).
//!
//! Events carry only an id and a version, never a config: a watcher that
//! cares re-reads (or re-resolves) the profile. [`ProfileEvent::Resync`]
//! says the feed may have missed events (a slow reader fell behind, a
//! database listener reconnected); the watcher then reloads what it holds.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::stream::{self, BoxStream, Stream, StreamExt};
use tokio::sync::broadcast;

use crate::profile::ProfileId;
use crate::tenant::TenantId;

/// Events a [`ChangeBroadcast`] buffers per receiver before the slowest
/// receiver is told to resync.
pub const DEFAULT_FEED_CAPACITY: usize = 4096;

/// One change of one profile, or a gap in the feed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProfileEvent {
    /// A profile was stored, at `version` (1).
    Created {
        /// The profile.
        id: ProfileId,
        /// Its version.
        version: u64,
    },
    /// A profile's content changed; `version` is the new version.
    Updated {
        /// The profile.
        id: ProfileId,
        /// Its new version.
        version: u64,
    },
    /// A profile was deleted; `version` is the last version it had.
    Deleted {
        /// The profile.
        id: ProfileId,
        /// Its last version.
        version: u64,
    },
    /// Events may have been missed: reload everything derived from profiles.
    /// Sent once the feed is complete again (for Postgres: after the listener
    /// is listening again), so a reload started on it misses nothing.
    Resync,
}

impl ProfileEvent {
    /// The profile concerned (`None` for `Resync`).
    pub fn id(&self) -> Option<&ProfileId> {
        match self {
            Self::Created { id, .. } | Self::Updated { id, .. } | Self::Deleted { id, .. } => {
                Some(id)
            }
            Self::Resync => None,
        }
    }

    /// The version concerned (`None` for `Resync`).
    pub fn version(&self) -> Option<u64> {
        match self {
            Self::Created { version, .. }
            | Self::Updated { version, .. }
            | Self::Deleted { version, .. } => Some(*version),
            Self::Resync => None,
        }
    }
}

/// A stream of [`ProfileEvent`]s. Implements [`Stream`]; [`next`](Self::next)
/// reads without importing a stream extension trait. Dropping it stops the
/// feed's work for this watcher (for Postgres: closes its listener).
pub struct ProfileEvents {
    inner: BoxStream<'static, ProfileEvent>,
}

impl ProfileEvents {
    /// Wraps any stream of events (for stores with their own transport).
    pub fn new(stream: impl Stream<Item = ProfileEvent> + Send + 'static) -> Self {
        Self {
            inner: stream.boxed(),
        }
    }

    /// The next event; `None` when the feed has ended (the store was closed).
    pub async fn next(&mut self) -> Option<ProfileEvent> {
        self.inner.next().await
    }
}

impl Stream for ProfileEvents {
    type Item = ProfileEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<ProfileEvent>> {
        self.inner.as_mut().poll_next(cx)
    }
}

impl fmt::Debug for ProfileEvents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ProfileEvents")
    }
}

/// An in-process change feed for stores that see every write themselves
/// (memory, an exclusive SQLite file): writers [`send`](Self::send) after
/// the write is visible, tagged with the profile's tenant; each watcher
/// [`subscribe`](Self::subscribe)s to one tenant and sees only its events.
/// A watcher that falls more than the capacity behind gets one `Resync`
/// instead of the events it missed.
#[derive(Clone)]
pub struct ChangeBroadcast {
    tx: broadcast::Sender<(TenantId, ProfileEvent)>,
}

impl ChangeBroadcast {
    /// A feed buffering `capacity` events per watcher.
    pub fn new(capacity: usize) -> Self {
        Self {
            tx: broadcast::channel(capacity.max(1)).0,
        }
    }

    /// Publishes an event of a profile of `tenant`; never blocks (no
    /// watcher is fine).
    pub fn send(&self, tenant: &TenantId, event: ProfileEvent) {
        let _ = self.tx.send((tenant.clone(), event));
    }

    /// A stream of every event of `tenant` sent from now on (and `Resync`
    /// whenever this watcher fell behind, whoever's events it missed).
    pub fn subscribe(&self, tenant: &TenantId) -> ProfileEvents {
        let state = (self.tx.subscribe(), tenant.clone());
        ProfileEvents::new(stream::unfold(state, |(mut rx, tenant)| async move {
            loop {
                match rx.recv().await {
                    Ok((t, event)) if t == tenant => return Some((event, (rx, tenant))),
                    Ok(_) => continue,
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        return Some((ProfileEvent::Resync, (rx, tenant)))
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        }))
    }
}

impl Default for ChangeBroadcast {
    fn default() -> Self {
        Self::new(DEFAULT_FEED_CAPACITY)
    }
}

impl fmt::Debug for ChangeBroadcast {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChangeBroadcast")
            .field("watchers", &self.tx.receiver_count())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_lagging_watcher_gets_resync_then_events() {
        let feed = ChangeBroadcast::new(2);
        let tenant = TenantId::default();
        let mut events = feed.subscribe(&tenant);
        let id = ProfileId::generate();
        for version in 1..=5 {
            feed.send(
                &tenant,
                ProfileEvent::Updated {
                    id: id.clone(),
                    version,
                },
            );
        }
        assert_eq!(events.next().await, Some(ProfileEvent::Resync));
        assert_eq!(events.next().await.and_then(|e| e.version()), Some(4));
        assert_eq!(events.next().await.and_then(|e| e.version()), Some(5));
        drop(feed);
        assert_eq!(events.next().await, None);
    }

    #[tokio::test]
    async fn a_watcher_sees_only_its_tenant() {
        let feed = ChangeBroadcast::default();
        let (a, b) = (TenantId::new("a").unwrap(), TenantId::new("b").unwrap());
        let mut events = feed.subscribe(&a);
        let (ia, ib) = (ProfileId::generate(), ProfileId::generate());
        let created = |id: &ProfileId| ProfileEvent::Created {
            id: id.clone(),
            version: 1,
        };
        feed.send(&b, created(&ib));
        feed.send(&a, created(&ia));
        assert_eq!(events.next().await, Some(created(&ia)));
    }
}
