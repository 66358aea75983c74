//! Conformance cases for a store's audit trail
//! ([`ProfileRepository::audit`]). A store without one (the default, `None`)
//! passes them trivially; a store with one must hold exactly one success
//! event per acknowledged `*_audited` write, and none for a refused one.

use std::sync::{Arc, Mutex};

use patchbay_core::{
    AuditAction, AuditEvent, AuditOutcome, AuditQuery, Error, Profile, ProfileId,
    ProfileRepository, TenantId,
};
use time::OffsetDateTime;

use crate::repository::tenants::{fixture_in, unique_tenant};
use crate::repository::unique;

type Acked = Arc<Mutex<Vec<(AuditAction, ProfileId, u64)>>>;

fn event(
    tenant: &TenantId,
    who: &str,
    action: AuditAction,
    id: &ProfileId,
    version: u64,
) -> AuditEvent {
    AuditEvent {
        seq: 0,
        at: OffsetDateTime::now_utc(),
        tenant: tenant.clone(),
        principal: Some(who.to_owned()),
        action,
        profile_id: Some(id.clone()),
        version: Some(version),
        outcome: AuditOutcome::Success,
        error_code: None,
    }
}

/// One task's writes: every fourth a create (names collide across tasks:
/// some are refused), the others updates of four shared profiles from the
/// version just read (concurrent: some conflict).
async fn writer(
    repo: Arc<dyn ProfileRepository>,
    tenant: TenantId,
    prefix: String,
    shared: Vec<ProfileId>,
    task: usize,
    acked: Acked,
) {
    let who = format!("task-{task}");
    for i in 0..63 {
        if i % 4 == 0 {
            let p = fixture_in(
                &tenant,
                &format!("{prefix}-{}", (task * 63 + i) % 150),
                "fake",
            );
            let e = event(&tenant, &who, AuditAction::Create, &p.id, 1);
            match repo.create_audited(&p, &e).await {
                Ok(()) => acked.lock().unwrap().push((AuditAction::Create, p.id, 1)),
                Err(Error::AlreadyExists { .. }) => {}
                Err(e) => panic!("create: {e:?}"),
            }
        } else {
            let id = &shared[(task + i) % shared.len()];
            let current = repo.get(&tenant, id).await.expect("get");
            let mut next = current.clone();
            next.version += 1;
            next.description = Some(format!("{who} write {i}"));
            let e = event(&tenant, &who, AuditAction::Update, id, next.version);
            match repo.update_audited(&next, current.version, &e).await {
                Ok(()) => {
                    acked
                        .lock()
                        .unwrap()
                        .push((AuditAction::Update, id.clone(), next.version))
                }
                Err(Error::VersionConflict { .. }) => {}
                Err(e) => panic!("update: {e:?}"),
            }
        }
    }
}

/// 1,008 writes from 16 concurrent tasks: the trail holds exactly one
/// success event per acknowledged write (same action, profile, version),
/// and nothing for the refused ones.
pub async fn audit_one_event_per_acknowledged_write(repo: Arc<dyn ProfileRepository>) {
    let Some(trail) = repo.audit() else {
        return;
    };
    let tenant = unique_tenant("audit");
    let prefix = unique("aud");
    let acked: Acked = Arc::default();
    let mut shared = Vec::new();
    for k in 0..4 {
        let p: Profile = fixture_in(&tenant, &format!("{prefix}-shared-{k}"), "fake");
        let e = event(&tenant, "setup", AuditAction::Create, &p.id, 1);
        repo.create_audited(&p, &e).await.expect("create shared");
        acked
            .lock()
            .unwrap()
            .push((AuditAction::Create, p.id.clone(), 1));
        shared.push(p.id);
    }
    let tasks: Vec<_> = (0..16)
        .map(|t| {
            let (repo, tenant, prefix, shared, acked) = (
                repo.clone(),
                tenant.clone(),
                prefix.clone(),
                shared.clone(),
                acked.clone(),
            );
            tokio::spawn(writer(repo, tenant, prefix, shared, t, acked))
        })
        .collect();
    for t in tasks {
        t.await.expect("writer");
    }

    let mut recorded = Vec::new();
    let mut query = AuditQuery {
        limit: 1000,
        ..AuditQuery::default()
    };
    loop {
        let page = trail.events(&tenant, &query).await.expect("read the trail");
        for e in &page.items {
            assert_eq!(e.outcome, AuditOutcome::Success, "{e:?}");
            assert!(e.principal.is_some(), "the principal was lost: {e:?}");
            let id = e.profile_id.clone().expect("a profile id");
            recorded.push((e.action, id, e.version.expect("a version")));
        }
        match page.next_cursor {
            Some(c) => query.after = Some(c),
            None => break,
        }
    }
    let mut expected = acked.lock().unwrap().clone();
    let key = |x: &(AuditAction, ProfileId, u64)| (x.0.as_str(), x.1.to_string(), x.2);
    expected.sort_by_key(key);
    recorded.sort_by_key(key);
    assert!(
        expected.len() > 100,
        "too few writes succeeded: {}",
        expected.len()
    );
    assert_eq!(
        recorded.len(),
        expected.len(),
        "events vs acknowledged writes"
    );
    assert_eq!(recorded, expected);
    // Filters: one profile's updates, in order.
    let one = AuditQuery {
        profile_id: Some(shared[0].clone()),
        action: Some(AuditAction::Update),
        limit: 1000,
        ..AuditQuery::default()
    };
    let page = trail.events(&tenant, &one).await.expect("filtered");
    let versions: Vec<u64> = page.items.iter().filter_map(|e| e.version).collect();
    let mut sorted = versions.clone();
    sorted.sort_unstable();
    assert_eq!(versions, sorted, "one profile's updates out of order");
    assert!(page
        .items
        .iter()
        .all(|e| e.profile_id.as_ref() == Some(&shared[0])));
    // Another tenant sees none of it.
    let none = trail
        .events(&unique_tenant("audit-other"), &AuditQuery::default())
        .await
        .expect("other tenant");
    assert!(none.items.is_empty());
}
