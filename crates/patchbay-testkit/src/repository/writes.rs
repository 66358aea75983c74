//! Write cases beyond the happy path: a taken id, a write at the stored
//! version, and a create racing a rename to the same name.

use std::sync::Arc;

use patchbay_core::{Error, ProfileRepository, TenantId};

use super::{fixture, unique};

/// A second profile with a taken id is `AlreadyExists`, whatever its name;
/// the first is untouched and the second's name stays free.
pub async fn duplicate_id_is_refused(repo: &dyn ProfileRepository) {
    let first = fixture(&unique("dupid-a"), "fake");
    repo.create(&first).await.expect("create");
    let mut second = fixture(&unique("dupid-b"), "postgres");
    second.id = first.id.clone();
    match repo.create(&second).await {
        Err(Error::AlreadyExists { .. }) => {}
        other => panic!("a taken id: expected AlreadyExists, got {other:?}"),
    }
    assert_eq!(
        repo.get(&TenantId::default(), &first.id)
            .await
            .expect("get"),
        first
    );
    assert!(
        matches!(
            repo.get_by_name(&TenantId::default(), &second.name).await,
            Err(Error::NotFound(_))
        ),
        "the refused profile's name was stored"
    );
    repo.create(&fixture(&second.name, "fake"))
        .await
        .expect("the refused name is free");
}

/// `update` compares only `expected_version` with the stored version and
/// stores `profile` exactly as given, its version included. A write at the
/// stored version that changes nothing is no conflict (a store that reads
/// "rows changed" as "version matched" fails here); a stale version still
/// conflicts afterwards.
pub async fn same_version_write(repo: &dyn ProfileRepository) {
    let p = fixture(&unique("samev"), "fake");
    repo.create(&p).await.expect("create");
    // Identical content, identical version.
    repo.update(&p, 1)
        .await
        .expect("an unchanged write at the stored version");
    assert_eq!(repo.get(&TenantId::default(), &p.id).await.expect("get"), p);
    // Changed content, version kept as the caller set it.
    let mut same = p.clone();
    same.description = Some("same version".into());
    repo.update(&same, 1)
        .await
        .expect("a write at the stored version");
    assert_eq!(
        repo.get(&TenantId::default(), &p.id).await.expect("get"),
        same
    );
    for stale in [0, 2, u64::MAX] {
        match repo.update(&p, stale).await {
            Err(Error::VersionConflict {
                expected, actual, ..
            }) => {
                assert_eq!((expected, actual), (stale, 1));
            }
            other => panic!("expected version {stale}: expected VersionConflict, got {other:?}"),
        }
    }
    assert_eq!(
        repo.get(&TenantId::default(), &p.id).await.expect("get"),
        same,
        "a refused write changed the profile"
    );
}

/// `rounds` rounds of a create racing a rename to the same name (in another
/// case): exactly one wins, the other is `AlreadyExists`, and the name then
/// leads to the winner alone.
pub async fn create_races_rename(repo: Arc<dyn ProfileRepository>, rounds: usize) {
    let prefix = unique("cvr");
    for round in 0..rounds {
        let target = format!("{prefix}-{round}-target");
        let existing = fixture(&format!("{prefix}-{round}-old"), "fake");
        repo.create(&existing).await.expect("create");
        let mut renamed = existing.clone();
        renamed.name = target.to_uppercase();
        renamed.version = 2;
        let created = fixture(&target, "fake");
        let (r1, r2, c) = (repo.clone(), repo.clone(), created.clone());
        let create = tokio::spawn(async move { r1.create(&c).await });
        let rename = tokio::spawn(async move { r2.update(&renamed, 1).await });
        let (create, rename) = (create.await.expect("task"), rename.await.expect("task"));
        let winner = match (&create, &rename) {
            (Ok(()), Err(Error::AlreadyExists { .. })) => &created.id,
            (Err(Error::AlreadyExists { .. }), Ok(())) => &existing.id,
            other => panic!("round {round}: create {:?}, rename {:?}", other.0, other.1),
        };
        let holder = repo
            .get_by_name(&TenantId::default(), &target)
            .await
            .expect("by name");
        assert_eq!(
            &holder.id, winner,
            "round {round}: the name leads to the loser"
        );
        let page = repo
            .list(
                &TenantId::default(),
                &patchbay_core::ListQuery {
                    name_prefix: Some(target.clone()),
                    ..Default::default()
                },
            )
            .await
            .expect("list");
        assert_eq!(page.items.len(), 1, "round {round}: {:?}", page.items);
    }
}
