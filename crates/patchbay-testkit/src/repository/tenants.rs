//! Tenant isolation: names are unique per tenant, and nothing of another
//! tenant can be read, changed, attached to, listed or paged into.

use patchbay_core::{Dependent, Error, ListQuery, Profile, ProfileRepository, TenantId};

use super::{fixture, unique};

/// A fresh tenant id, so cases may share a store.
pub fn unique_tenant(prefix: &str) -> TenantId {
    TenantId::new(&unique(prefix)).expect("a valid tenant id")
}

/// [`fixture`] in `tenant`.
pub fn fixture_in(tenant: &TenantId, name: &str, connector: &str) -> Profile {
    Profile {
        tenant: tenant.clone(),
        ..fixture(name, connector)
    }
}

fn not_found<T: std::fmt::Debug>(what: &str, r: patchbay_core::Result<T>) {
    assert!(
        matches!(r, Err(Error::NotFound(_))),
        "{what} across tenants: expected NotFound, got {r:?}"
    );
}

/// One name in two tenants: both are stored, each tenant reads its own, and
/// within a tenant the name stays unique in any case.
pub async fn same_name_in_two_tenants(repo: &dyn ProfileRepository) {
    let (a, b) = (unique_tenant("ta"), unique_tenant("tb"));
    let name = unique("Shared");
    let pa = fixture_in(&a, &name, "fake");
    let pb = fixture_in(&b, &name.to_uppercase(), "fake");
    repo.create(&pa).await.expect("create in a");
    repo.create(&pb).await.expect("the same name in b");
    assert_eq!(repo.get_by_name(&a, &name).await.expect("a's"), pa);
    assert_eq!(repo.get_by_name(&b, &name).await.expect("b's"), pb);
    assert_eq!(repo.get(&b, &pb.id).await.expect("b's by id").tenant, b);
    let again = fixture_in(&a, &name.to_lowercase(), "fake");
    assert!(matches!(
        repo.create(&again).await,
        Err(Error::AlreadyExists { .. })
    ));
    // A rename in b to a name only a holds is fine too.
    let other = unique("other");
    repo.create(&fixture_in(&a, &other, "fake"))
        .await
        .expect("create");
    let mut renamed = pb.clone();
    renamed.name = other;
    renamed.version = 2;
    repo.update(&renamed, 1).await.expect("rename in b");
    let tenants = repo.tenants().await.expect("tenants");
    assert!(tenants.contains(&a) && tenants.contains(&b), "{tenants:?}");
}

/// Another tenant's profile is `NotFound` to get, get by name, update,
/// delete, attach, detach and dependents, and stays untouched.
pub async fn other_tenants_profiles_are_not_found(repo: &dyn ProfileRepository) {
    let (a, b) = (unique_tenant("own"), unique_tenant("foreign"));
    let p = fixture_in(&a, &unique("private"), "fake");
    repo.create(&p).await.expect("create");
    let dep = Dependent::new("connection_table", "t1");
    repo.attach(&a, &p.id, &dep).await.expect("attach");

    not_found("get", repo.get(&b, &p.id).await);
    not_found("get_by_name", repo.get_by_name(&b, &p.name).await);
    not_found("dependents", repo.dependents(&b, &p.id).await);
    not_found("detach", repo.detach(&b, &p.id, &dep).await);
    let other = Dependent::new("connection_table", "t2");
    not_found("attach", repo.attach(&b, &p.id, &other).await);
    let mut hijack = p.clone();
    hijack.tenant = b.clone();
    hijack.description = Some("hijacked".into());
    hijack.version = 2;
    not_found("update", repo.update(&hijack, 1).await);
    repo.detach(&a, &p.id, &dep).await.expect("detach");
    not_found("delete", repo.delete(&b, &p.id).await);

    assert_eq!(repo.get(&a, &p.id).await.expect("still there"), p);
    assert!(repo.dependents(&a, &p.id).await.expect("deps").is_empty());
    repo.delete(&a, &p.id).await.expect("the owner deletes");
}

/// Lists hold only the tenant's profiles, and a cursor made for one tenant
/// is a `Validation` error in another.
pub async fn lists_and_cursors_stay_in_their_tenant(repo: &dyn ProfileRepository) {
    let (a, b) = (unique_tenant("la"), unique_tenant("lb"));
    let prefix = unique("lst");
    for i in 0..5 {
        for t in [&a, &b] {
            repo.create(&fixture_in(t, &format!("{prefix}-{i}"), "fake"))
                .await
                .expect("create");
        }
    }
    let mut query = ListQuery {
        name_prefix: Some(prefix.clone()),
        limit: 2,
        ..ListQuery::default()
    };
    let mut seen = Vec::new();
    loop {
        let page = repo.list(&a, &query).await.expect("list a");
        assert!(
            page.items.iter().all(|p| p.tenant == a),
            "b's profile in a's list"
        );
        seen.extend(page.items.iter().map(|p| p.name.clone()));
        let Some(cursor) = page.next_cursor else {
            break;
        };
        let foreign = ListQuery {
            after: Some(cursor.clone()),
            ..query.clone()
        };
        match repo.list(&b, &foreign).await {
            Err(Error::Validation(e)) => assert_eq!(e.0[0].path, "/cursor"),
            other => panic!("a's cursor in b: expected Validation, got {other:?}"),
        }
        query.after = Some(cursor);
    }
    assert_eq!(seen.len(), 5);
    let none = repo
        .list(&unique_tenant("empty"), &ListQuery::default())
        .await
        .expect("list an empty tenant");
    assert!(none.items.is_empty() && none.next_cursor.is_none());
}
