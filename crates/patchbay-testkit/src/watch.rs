//! Conformance cases for a store's change feed
//! ([`ProfileRepository::watch`]). A store without one (the trait's default,
//! `UNSUPPORTED`) passes them trivially; a store with one must report every
//! committed create, content update and delete, nothing for failed writes
//! or reseals (same version), in order per profile.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use patchbay_core::{Error, ProfileEvent, ProfileEvents, ProfileId, ProfileRepository, TenantId};

use crate::repository::{fixture, unique};

/// Longest wait for one event before a case fails (a hang guard, not a
/// speed claim).
const PATIENCE: Duration = Duration::from_secs(30);

/// The default tenant's feed, or `None` when the store has none.
async fn feed(repo: &dyn ProfileRepository) -> Option<ProfileEvents> {
    feed_of(repo, &TenantId::default()).await
}

async fn feed_of(repo: &dyn ProfileRepository, tenant: &TenantId) -> Option<ProfileEvents> {
    match repo.watch(tenant).await {
        Ok(events) => Some(events),
        Err(Error::Unsupported(_)) => None,
        Err(e) => panic!("watch failed: {e}"),
    }
}

/// The next event about `id` (others' events are skipped: cases may share a
/// store). A `Resync` fails the case: nothing here should be missed.
pub async fn next_about(events: &mut ProfileEvents, id: &ProfileId) -> ProfileEvent {
    loop {
        let event = tokio::time::timeout(PATIENCE, events.next())
            .await
            .unwrap_or_else(|_| panic!("no event about {id} within {PATIENCE:?}"))
            .expect("the feed ended");
        match &event {
            ProfileEvent::Resync => panic!("unexpected resync"),
            e if e.id() == Some(id) => return event,
            _ => {}
        }
    }
}

/// Create, a failed update, a content update, a reseal-like update (same
/// version), a duplicate create and a delete give exactly `Created 1`,
/// `Updated 2`, `Deleted 2`.
pub async fn watch_reports_writes(repo: &dyn ProfileRepository) {
    let Some(mut events) = feed(repo).await else {
        return;
    };
    let p = fixture(&unique("watch"), "fake");
    repo.create(&p).await.expect("create");
    let mut next = p.clone();
    next.version = 2;
    assert!(repo.update(&next, 7).await.is_err(), "stale update");
    repo.update(&next, 1).await.expect("update");
    next.description = Some("resealed".into());
    repo.update(&next, 2).await.expect("same-version update");
    assert!(repo.create(&p).await.is_err(), "duplicate create");
    repo.delete(&TenantId::default(), &p.id)
        .await
        .expect("delete");
    let id = p.id.clone();
    for expected in [
        ProfileEvent::Created {
            id: id.clone(),
            version: 1,
        },
        ProfileEvent::Updated {
            id: id.clone(),
            version: 2,
        },
        ProfileEvent::Deleted {
            id: id.clone(),
            version: 2,
        },
    ] {
        assert_eq!(next_about(&mut events, &id).await, expected);
    }
    // Nothing further about it: a marker profile's event comes next.
    let marker = fixture(&unique("marker"), "fake");
    repo.create(&marker).await.expect("marker");
    loop {
        let e = tokio::time::timeout(PATIENCE, events.next())
            .await
            .expect("marker event")
            .expect("feed open");
        assert_ne!(e.id(), Some(&id), "an extra event: {e:?}");
        if e.id() == Some(&marker.id) {
            break;
        }
    }
}

/// A tenant's feed carries only its tenant's events: writes to another
/// tenant's profile (create, update, delete) never show, and the tenant's
/// own marker written after them arrives first.
pub async fn watch_is_scoped_to_its_tenant(repo: &dyn ProfileRepository) {
    use crate::repository::tenants::{fixture_in, unique_tenant};
    let (a, b) = (unique_tenant("wa"), unique_tenant("wb"));
    let Some(mut events) = feed_of(repo, &a).await else {
        return;
    };
    let theirs = fixture_in(&b, &unique("theirs"), "fake");
    repo.create(&theirs).await.expect("create in b");
    let mut next = theirs.clone();
    next.version = 2;
    repo.update(&next, 1).await.expect("update in b");
    repo.delete(&b, &theirs.id).await.expect("delete in b");
    let mine = fixture_in(&a, &unique("mine"), "fake");
    repo.create(&mine).await.expect("create in a");
    let first = tokio::time::timeout(PATIENCE, events.next())
        .await
        .expect("an event within the patience")
        .expect("the feed ended");
    assert_eq!(
        first,
        ProfileEvent::Created {
            id: mine.id.clone(),
            version: 1
        },
        "another tenant's event reached this feed"
    );
}

/// 1,000 updates from two other tasks (500 to each of two profiles) are all
/// seen, in version order per profile, with no resync.
pub async fn watch_sees_every_update_in_order(repo: Arc<dyn ProfileRepository>) {
    const PER_PROFILE: u64 = 500;
    let Some(mut events) = feed(repo.as_ref()).await else {
        return;
    };
    let mut writers = Vec::new();
    let mut last = HashMap::new();
    for _ in 0..2 {
        let p = fixture(&unique("burst"), "fake");
        repo.create(&p).await.expect("create");
        last.insert(p.id.clone(), 0u64);
        let repo = repo.clone();
        writers.push(tokio::spawn(async move {
            let mut next = p;
            for v in 2..=PER_PROFILE + 1 {
                next.version = v;
                repo.update(&next, v - 1).await.expect("update");
            }
        }));
    }
    let mut remaining = last.len();
    while remaining > 0 {
        let event = tokio::time::timeout(PATIENCE, events.next())
            .await
            .expect("events keep coming")
            .expect("the feed ended");
        assert_ne!(event, ProfileEvent::Resync, "events were missed");
        let (Some(id), Some(version)) = (event.id(), event.version()) else {
            continue;
        };
        let Some(seen) = last.get_mut(id) else {
            continue;
        };
        assert_eq!(version, *seen + 1, "out of order or missing for {id}");
        *seen = version;
        if version == PER_PROFILE + 1 {
            remaining -= 1;
        }
    }
    for w in writers {
        w.await.expect("writer");
    }
}
