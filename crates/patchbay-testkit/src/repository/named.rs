//! Named dependents: a name per kind is claimed by one profile of a tenant
//! at a time, with its attachment, atomically. A store without them answers
//! `Unsupported` and these cases pass without checking anything.

use std::sync::Arc;

use patchbay_core::{Dependent, Error, ProfileRepository, TenantId};

use super::tenants::{fixture_in, unique_tenant};
use super::{fixture, unique};

fn unsupported<T>(r: &patchbay_core::Result<T>) -> bool {
    matches!(r, Err(Error::Unsupported(_)))
}

/// Claims, refusals, lookups, pages, tenants, delete and detach.
pub async fn named_dependents_claim_names(repo: &dyn ProfileRepository) {
    let t = TenantId::default();
    let kind = unique("kind");
    let (p, q) = (
        fixture(&unique("np"), "fake"),
        fixture(&unique("nq"), "fake"),
    );
    repo.create(&p).await.expect("create p");
    repo.create(&q).await.expect("create q");
    let x = Dependent::new(&kind, "x");
    let first = repo.attach_named(&t, &p.id, &x, None).await;
    if unsupported(&first) {
        return;
    }
    first.expect("claim x for p");
    for (who, id) in [("another profile", &q.id), ("the same profile", &p.id)] {
        let again = repo.attach_named(&t, id, &x, None).await;
        assert!(
            matches!(&again, Err(Error::AlreadyExists { name }) if name == "x"),
            "x claimed again by {who}: {again:?}"
        );
    }
    assert_eq!(repo.dependents(&t, &q.id).await.expect("q's"), vec![]);
    assert_eq!(
        repo.dependents(&t, &p.id).await.expect("p's"),
        vec![x.clone()]
    );
    assert_eq!(
        repo.named_dependent(&t, &x).await.expect("x"),
        Some(p.id.clone())
    );
    assert!(matches!(
        repo.delete(&t, &p.id).await,
        Err(Error::InUse { .. })
    ));

    // Another tenant has its own names.
    let other = unique_tenant("named");
    let r = fixture_in(&other, &unique("nr"), "fake");
    repo.create(&r).await.expect("create r");
    repo.attach_named(&other, &r.id, &x, None)
        .await
        .expect("x in another tenant");
    assert!(matches!(
        repo.attach_named(&other, &p.id, &Dependent::new(&kind, "y"), None)
            .await,
        Err(Error::NotFound(_))
    ));
    assert_eq!(
        repo.named_dependent(&other, &Dependent::new(&kind, "y"))
            .await
            .expect("y"),
        None
    );

    // Pages in id order.
    for name in ["b", "a"] {
        repo.attach_named(&t, &q.id, &Dependent::new(&kind, name), None)
            .await
            .expect("claim");
    }
    let names = |page: Vec<patchbay_core::Attachment>| -> Vec<String> {
        page.into_iter().map(|a| a.dependent.id).collect()
    };
    let first = repo
        .named_dependents(&t, &kind, None, 2)
        .await
        .expect("page");
    assert_eq!(names(first), ["a", "b"]);
    let rest = repo
        .named_dependents(&t, &kind, Some("b"), 2)
        .await
        .expect("page");
    assert_eq!(rest[0].profile_id, p.id);
    assert_eq!(names(rest), ["x"]);

    // Detaching releases the name.
    assert!(repo.detach(&t, &p.id, &x).await.expect("detach"));
    assert_eq!(repo.named_dependent(&t, &x).await.expect("x"), None);
    repo.delete(&t, &p.id).await.expect("p is free");
    repo.attach_named(&t, &q.id, &x, None)
        .await
        .expect("x is free again");
}

/// 16 concurrent claims of one name, each for its own profile: exactly one
/// wins, and no loser is left attached.
pub async fn concurrent_named_claims_one_wins(repo: Arc<dyn ProfileRepository>) {
    let t = TenantId::default();
    let d = Dependent::new(unique("kind"), "orders");
    let mut profiles = Vec::new();
    for _ in 0..16 {
        let p = fixture(&unique("claim"), "fake");
        repo.create(&p).await.expect("create");
        profiles.push(p.id);
    }
    let tasks: Vec<_> = profiles
        .iter()
        .map(|id| {
            let (repo, t, id, d) = (repo.clone(), t.clone(), id.clone(), d.clone());
            tokio::spawn(async move { repo.attach_named(&t, &id, &d, None).await })
        })
        .collect();
    let mut winners = Vec::new();
    for (task, id) in tasks.into_iter().zip(&profiles) {
        match task.await.expect("task") {
            Ok(()) => winners.push(id.clone()),
            Err(Error::AlreadyExists { .. }) => {}
            Err(Error::Unsupported(_)) => return,
            Err(e) => panic!("unexpected error: {e:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one claim wins");
    assert_eq!(
        repo.named_dependent(&t, &d).await.expect("lookup"),
        Some(winners[0].clone())
    );
    for id in &profiles {
        let deps = repo.dependents(&t, id).await.expect("dependents");
        assert_eq!(deps.len(), usize::from(*id == winners[0]), "{id}");
    }
}
