//! `get_shared`, the use path's read: the same profile as `get` and
//! `get_by_name`, after every write (a store may keep indexes of its own
//! for it).

use patchbay_core::{Error, ProfileRef, ProfileRepository, TenantId};

use super::{fixture, unique};

/// By id and by name (any case), `get_shared` follows a create, a content
/// update, a rename (the old name is gone) and a delete, within its tenant.
pub async fn shared_reads_follow_writes(repo: &dyn ProfileRepository) {
    let t = TenantId::default();
    let other = TenantId::new(&unique("shared")).expect("tenant");
    let by_name = |n: &str| ProfileRef::Name(n.to_owned());
    let p = fixture(&unique("Shared"), "fake");
    repo.create(&p).await.expect("create");
    let id = ProfileRef::Id(p.id.clone());
    for r in [
        id.clone(),
        by_name(&p.name.to_uppercase()),
        by_name(&p.name),
    ] {
        assert_eq!(*repo.get_shared(&t, &r).await.expect("shared"), p, "{r:?}");
        let missing = repo.get_shared(&other, &r).await;
        assert!(matches!(missing, Err(Error::NotFound(_))), "{r:?}");
    }
    let mut v2 = p.clone();
    v2.description = Some("second".into());
    v2.version = 2;
    repo.update(&v2, 1).await.expect("update");
    assert_eq!(*repo.get_shared(&t, &id).await.expect("by id"), v2);
    let renamed = by_name(&p.name.to_lowercase());
    assert_eq!(*repo.get_shared(&t, &renamed).await.expect("by name"), v2);
    let mut v3 = v2.clone();
    v3.name = unique("shared-renamed");
    v3.version = 3;
    repo.update(&v3, 2).await.expect("rename");
    let gone = repo.get_shared(&t, &by_name(&p.name)).await;
    assert!(matches!(gone, Err(Error::NotFound(_))), "old name");
    assert_eq!(
        *repo.get_shared(&t, &by_name(&v3.name)).await.expect("new"),
        v3
    );
    repo.delete(&t, &p.id).await.expect("delete");
    for r in [id, by_name(&v3.name)] {
        let gone = repo.get_shared(&t, &r).await;
        assert!(matches!(gone, Err(Error::NotFound(_))), "{r:?}");
    }
}
