//! Conformance cases for [`ProfileRepository`] implementations.
//!
//! Each case is a plain `async fn(&dyn ProfileRepository)` that panics on a
//! contract violation. Run them all with [`repository_suite!`](crate::repository_suite),
//! or call them one by one from your own tests. Every case uses fresh random
//! names, so cases may share a store.

mod labels;
mod named;
mod pagination;
mod shared;
pub mod tenants;
mod writes;

pub use labels::labels_filter_lists;
pub use named::{concurrent_named_claims_one_wins, named_dependents_claim_names};
pub use pagination::{
    list_caps_limit_at_max_page_size, list_exact_multiple_pages,
    list_keyset_survives_writes_between_pages,
};
pub use shared::shared_reads_follow_writes;
pub use tenants::{
    lists_and_cursors_stay_in_their_tenant, other_tenants_profiles_are_not_found,
    same_name_in_two_tenants,
};
pub use writes::{create_races_rename, duplicate_id_is_refused, same_version_write};

use std::collections::BTreeMap;
use std::sync::Arc;

use patchbay_core::{
    Dependent, Error, ListQuery, Profile, ProfileId, ProfileRepository, SealedSecrets, TenantId,
};
use serde_json::json;
use time::OffsetDateTime;

/// A valid profile as the service would hand it to a store: in the default
/// tenant, config without secrets, one sealed secret (an opaque string to
/// the store), version 1.
pub fn fixture(name: &str, connector: &str) -> Profile {
    let now = OffsetDateTime::now_utc();
    let now = now.replace_microsecond(now.microsecond()).expect("valid");
    Profile {
        id: ProfileId::generate(),
        tenant: TenantId::default(),
        name: name.to_owned(),
        connector: connector.to_owned(),
        description: Some("fixture — ünïcødé".to_owned()),
        config: json!({"host": "db.internal", "port": 5432, "nested": {"a": [1, 2]}})
            .as_object()
            .cloned()
            .expect("object"),
        labels: Default::default(),
        secrets: SealedSecrets(BTreeMap::from([(
            "password".to_owned(),
            "pbs1.test.c2VhbGVk".to_owned(),
        )])),
        created_at: now,
        updated_at: now,
        version: 1,
    }
}

/// A random name prefix so cases never collide.
pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    )
}

/// Created profiles read back exactly, by id and by name in any case.
pub async fn create_then_get(repo: &dyn ProfileRepository) {
    let p = fixture(&unique("Create"), "fake");
    repo.create(&p).await.expect("create");
    assert_eq!(repo.get(&TenantId::default(), &p.id).await.expect("get"), p);
    assert_eq!(
        repo.get_by_name(&TenantId::default(), &p.name.to_uppercase())
            .await
            .expect("by name"),
        p
    );
    assert_eq!(
        repo.get_by_name(&TenantId::default(), &p.name.to_lowercase())
            .await
            .expect("by name"),
        p
    );
}

/// A profile without description and with an empty config round-trips too.
pub async fn minimal_profile_round_trips(repo: &dyn ProfileRepository) {
    let mut p = fixture(&unique("min"), "fake");
    p.description = None;
    p.config.clear();
    p.secrets = SealedSecrets::default();
    repo.create(&p).await.expect("create");
    assert_eq!(repo.get(&TenantId::default(), &p.id).await.expect("get"), p);
}

/// Missing ids and names are `NotFound`.
pub async fn missing_is_not_found(repo: &dyn ProfileRepository) {
    let id = ProfileId::generate();
    assert!(matches!(
        repo.get(&TenantId::default(), &id).await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        repo.get_by_name(&TenantId::default(), &unique("nobody"))
            .await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        repo.delete(&TenantId::default(), &id).await,
        Err(Error::NotFound(_))
    ));
    let p = fixture("x", "fake");
    assert!(matches!(
        repo.update(&Profile { id, ..p }, 1).await,
        Err(Error::NotFound(_))
    ));
}

/// Names are unique ignoring ASCII case; the loser stores nothing.
pub async fn duplicate_names_in_any_case(repo: &dyn ProfileRepository) {
    let name = unique("Dup");
    repo.create(&fixture(&name, "fake")).await.expect("first");
    for variant in [name.clone(), name.to_uppercase(), name.to_lowercase()] {
        let p = fixture(&variant, "fake");
        assert!(
            matches!(repo.create(&p).await, Err(Error::AlreadyExists { .. })),
            "{variant}"
        );
        assert!(matches!(
            repo.get(&TenantId::default(), &p.id).await,
            Err(Error::NotFound(_))
        ));
    }
}

/// Pages are ordered by lowercase name, never repeat or skip, and end with
/// `next_cursor: None`.
pub async fn list_paginates_in_name_order(repo: &dyn ProfileRepository) {
    let prefix = unique("page");
    let mut names: Vec<String> = (0..25).map(|i| format!("{prefix}-{i:02}")).collect();
    names[3] = names[3].to_uppercase();
    for n in &names {
        repo.create(&fixture(n, "fake")).await.expect("create");
    }
    let mut seen = Vec::new();
    let mut query = ListQuery {
        name_prefix: Some(prefix.clone()),
        limit: 10,
        ..ListQuery::default()
    };
    let mut pages = 0;
    loop {
        let page = repo.list(&TenantId::default(), &query).await.expect("list");
        pages += 1;
        assert!(page.items.len() <= 10);
        seen.extend(page.items.iter().map(|p| p.name.clone()));
        match page.next_cursor {
            Some(c) => query.after = Some(c),
            None => break,
        }
        assert!(pages < 10, "pagination does not end");
    }
    let mut expected = names.clone();
    expected.sort_by_key(|n| n.to_lowercase());
    assert_eq!(seen, expected);
    assert_eq!(pages, 3);
}

/// `connector` and case-insensitive `name_prefix` filters combine.
pub async fn list_filters(repo: &dyn ProfileRepository) {
    let prefix = unique("filt");
    for (i, c) in ["kafka", "postgres", "kafka"].iter().enumerate() {
        repo.create(&fixture(&format!("{prefix}-{i}"), c))
            .await
            .expect("create");
    }
    let page = repo
        .list(
            &TenantId::default(),
            &ListQuery {
                connector: Some("kafka".into()),
                name_prefix: Some(prefix.to_uppercase()),
                ..ListQuery::default()
            },
        )
        .await
        .expect("list");
    let names: Vec<_> = page.items.iter().map(|p| p.name.clone()).collect();
    assert_eq!(names, [format!("{prefix}-0"), format!("{prefix}-2")]);
    assert_eq!(page.next_cursor, None);
    let none = repo
        .list(
            &TenantId::default(),
            &ListQuery {
                name_prefix: Some(unique("zzz-none")),
                ..ListQuery::default()
            },
        )
        .await
        .expect("list");
    assert!(none.items.is_empty() && none.next_cursor.is_none());
}

/// A cursor that no list call made is a `Validation` error.
pub async fn list_rejects_bad_cursor(repo: &dyn ProfileRepository) {
    let q = ListQuery {
        after: Some("not a cursor!".into()),
        ..ListQuery::default()
    };
    assert!(matches!(
        repo.list(&TenantId::default(), &q).await,
        Err(Error::Validation(_))
    ));
}

/// Updates need the stored version; a stale one changes nothing.
pub async fn update_checks_version(repo: &dyn ProfileRepository) {
    let p = fixture(&unique("upd"), "fake");
    repo.create(&p).await.expect("create");
    let mut next = p.clone();
    next.description = Some("changed".into());
    next.config.insert("port".into(), json!(6543));
    next.version = 2;
    repo.update(&next, 1).await.expect("update");
    assert_eq!(
        repo.get(&TenantId::default(), &p.id).await.expect("get"),
        next
    );
    let mut stale = next.clone();
    stale.description = Some("lost update".into());
    stale.version = 2;
    match repo.update(&stale, 1).await {
        Err(Error::VersionConflict {
            expected: 1,
            actual: 2,
            ..
        }) => {}
        other => panic!("expected VersionConflict, got {other:?}"),
    }
    assert_eq!(
        repo.get(&TenantId::default(), &p.id).await.expect("get"),
        next
    );
}

/// Renames keep uniqueness and free the old name.
pub async fn rename_keeps_names_unique(repo: &dyn ProfileRepository) {
    let (a, b) = (
        fixture(&unique("ren-a"), "fake"),
        fixture(&unique("ren-b"), "fake"),
    );
    repo.create(&a).await.expect("a");
    repo.create(&b).await.expect("b");
    let mut clash = a.clone();
    clash.name = b.name.to_uppercase();
    clash.version = 2;
    assert!(matches!(
        repo.update(&clash, 1).await,
        Err(Error::AlreadyExists { .. })
    ));
    let mut renamed = a.clone();
    renamed.name = unique("ren-c");
    renamed.version = 2;
    repo.update(&renamed, 1).await.expect("rename");
    assert!(matches!(
        repo.get_by_name(&TenantId::default(), &a.name).await,
        Err(Error::NotFound(_))
    ));
    repo.create(&fixture(&a.name, "fake"))
        .await
        .expect("old name is free");
    // A case-only rename of oneself is allowed.
    let mut recase = renamed.clone();
    recase.name = renamed.name.to_uppercase();
    recase.version = 3;
    repo.update(&recase, 2).await.expect("case-only rename");
}

/// A store that reports a revision moves it with every write, before the
/// write returns; one that reports none never starts to.
pub async fn revision_follows_writes(repo: &dyn ProfileRepository) {
    let claims = repo.revision().is_some();
    let mut last = repo.revision();
    let mut moved = |what: &str, now: Option<u64>| {
        assert_eq!(
            now.is_some(),
            claims,
            "{what}: revision appeared or vanished"
        );
        if claims {
            assert_ne!(now, last, "{what} did not move the revision");
        }
        last = now;
    };
    let mut p = fixture(&unique("rev"), "fake");
    repo.create(&p).await.expect("create");
    moved("create", repo.revision());
    p.version = 2;
    p.description = None;
    repo.update(&p, 1).await.expect("update");
    moved("update", repo.revision());
    let d = Dependent::new("connection_table", "rev-t1");
    repo.attach(&TenantId::default(), &p.id, &d)
        .await
        .expect("attach");
    moved("attach", repo.revision());
    assert!(repo
        .detach(&TenantId::default(), &p.id, &d)
        .await
        .expect("detach"));
    moved("detach", repo.revision());
    repo.delete(&TenantId::default(), &p.id)
        .await
        .expect("delete");
    moved("delete", repo.revision());
    let before = repo.revision();
    let _ = repo.get(&TenantId::default(), &p.id).await;
    let _ = repo
        .list(&TenantId::default(), &ListQuery::default())
        .await
        .expect("list");
    assert_eq!(repo.revision(), before, "reads moved the revision");
}

/// Delete removes the profile and its name.
pub async fn delete_removes(repo: &dyn ProfileRepository) {
    let p = fixture(&unique("del"), "fake");
    repo.create(&p).await.expect("create");
    repo.delete(&TenantId::default(), &p.id)
        .await
        .expect("delete");
    assert!(matches!(
        repo.get(&TenantId::default(), &p.id).await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        repo.delete(&TenantId::default(), &p.id).await,
        Err(Error::NotFound(_))
    ));
    repo.create(&fixture(&p.name, "fake"))
        .await
        .expect("name reusable");
}

/// Attach is idempotent, detach reports whether it removed, dependents are
/// sorted, and delete is refused while any remain.
pub async fn dependents_block_delete(repo: &dyn ProfileRepository) {
    let p = fixture(&unique("deps"), "fake");
    repo.create(&p).await.expect("create");
    let (t2, t1) = (
        Dependent::new("connection_table", "t2"),
        Dependent::new("connection_table", "t1"),
    );
    let pipe = Dependent::new("pipeline", "p1");
    for d in [&t2, &t1, &pipe, &t1] {
        repo.attach(&TenantId::default(), &p.id, d)
            .await
            .expect("attach");
    }
    assert_eq!(
        repo.dependents(&TenantId::default(), &p.id)
            .await
            .expect("deps"),
        [t1.clone(), t2.clone(), pipe.clone()]
    );
    match repo.delete(&TenantId::default(), &p.id).await {
        Err(Error::InUse { dependents, .. }) => {
            assert_eq!(dependents, [t1.clone(), t2.clone(), pipe.clone()])
        }
        other => panic!("expected InUse, got {other:?}"),
    }
    assert!(
        repo.get(&TenantId::default(), &p.id).await.is_ok(),
        "an in-use profile was deleted"
    );
    assert!(repo
        .detach(&TenantId::default(), &p.id, &t1)
        .await
        .expect("detach"));
    assert!(!repo
        .detach(&TenantId::default(), &p.id, &t1)
        .await
        .expect("detach twice"));
    assert!(repo
        .detach(&TenantId::default(), &p.id, &t2)
        .await
        .expect("detach"));
    assert!(repo
        .detach(&TenantId::default(), &p.id, &pipe)
        .await
        .expect("detach"));
    repo.delete(&TenantId::default(), &p.id)
        .await
        .expect("delete once free");
    let missing = ProfileId::generate();
    assert!(matches!(
        repo.attach(&TenantId::default(), &missing, &t1).await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        repo.dependents(&TenantId::default(), &missing).await,
        Err(Error::NotFound(_))
    ));
}

/// 50 concurrent creates of one name in different cases: exactly one wins.
pub async fn concurrent_creates_one_wins(repo: Arc<dyn ProfileRepository>) {
    let name = unique("race");
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let repo = repo.clone();
            let n = if i % 2 == 0 {
                name.to_uppercase()
            } else {
                name.clone()
            };
            tokio::spawn(async move { repo.create(&fixture(&n, "fake")).await })
        })
        .collect();
    let mut wins = 0;
    for t in tasks {
        match t.await.expect("task") {
            Ok(()) => wins += 1,
            Err(Error::AlreadyExists { .. }) => {}
            Err(e) => panic!("unexpected error: {e:?}"),
        }
    }
    assert_eq!(wins, 1);
}

/// 20 concurrent updates from the same version: exactly one wins.
pub async fn concurrent_updates_one_wins(repo: Arc<dyn ProfileRepository>) {
    let p = fixture(&unique("cupd"), "fake");
    repo.create(&p).await.expect("create");
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let (repo, mut next) = (repo.clone(), p.clone());
            next.description = Some(format!("writer {i}"));
            next.version = 2;
            tokio::spawn(async move { repo.update(&next, 1).await })
        })
        .collect();
    let mut wins = 0;
    for t in tasks {
        match t.await.expect("task") {
            Ok(()) => wins += 1,
            Err(Error::VersionConflict { .. }) => {}
            Err(e) => panic!("unexpected error: {e:?}"),
        }
    }
    assert_eq!(wins, 1);
    assert_eq!(
        repo.get(&TenantId::default(), &p.id)
            .await
            .expect("get")
            .version,
        2
    );
}

/// `rounds` rounds of delete racing attach: never both succeed, and a
/// dependent never points at a deleted profile.
pub async fn delete_races_attach(repo: Arc<dyn ProfileRepository>, rounds: usize) {
    let prefix = unique("dvsa");
    for round in 0..rounds {
        let p = fixture(&format!("{prefix}-{round}"), "fake");
        repo.create(&p).await.expect("create");
        let dep = Dependent::new("connection_table", format!("t{round}"));
        let (r1, r2, id1, id2, d) = (
            repo.clone(),
            repo.clone(),
            p.id.clone(),
            p.id.clone(),
            dep.clone(),
        );
        let del = tokio::spawn(async move { r1.delete(&TenantId::default(), &id1).await });
        let att = tokio::spawn(async move { r2.attach(&TenantId::default(), &id2, &d).await });
        let (del, att) = (del.await.expect("task"), att.await.expect("task"));
        match (&del, &att) {
            (Ok(()), Err(Error::NotFound(_))) => {
                assert!(matches!(
                    repo.dependents(&TenantId::default(), &p.id).await,
                    Err(Error::NotFound(_))
                ));
            }
            (Err(Error::InUse { dependents, .. }), Ok(())) => {
                assert_eq!(dependents, std::slice::from_ref(&dep));
                assert_eq!(
                    repo.dependents(&TenantId::default(), &p.id)
                        .await
                        .expect("deps"),
                    std::slice::from_ref(&dep)
                );
            }
            other => panic!("round {round}: impossible outcome {other:?}"),
        }
    }
}
