//! Labels: stored and read back as given, and list filters (every one must
//! match) that page like any list and follow updates and deletes.

use patchbay_core::{Labels, ListQuery, Profile, ProfileRepository, TenantId};

use super::tenants::{fixture_in, unique_tenant};
use super::unique;

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn filter(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    labels(pairs).into_iter().collect()
}

/// Every page of `query` in `tenant`, by name.
async fn all_names(
    repo: &dyn ProfileRepository,
    tenant: &TenantId,
    mut query: ListQuery,
) -> Vec<String> {
    let mut names = Vec::new();
    loop {
        let page = repo.list(tenant, &query).await.expect("list");
        names.extend(page.items.iter().map(|p| p.name.clone()));
        match page.next_cursor {
            Some(c) => query.after = Some(c),
            None => return names,
        }
    }
}

/// Labels round-trip; `labels` filters AND together, page with a cursor,
/// combine with the prefix and connector filters, stay in their tenant, and
/// follow an update (labels changed), a rename and a delete.
pub async fn labels_filter_lists(repo: &dyn ProfileRepository) {
    let (t, other) = (unique_tenant("lab"), unique_tenant("lab-other"));
    let prefix = unique("lbl");
    let mut made: Vec<Profile> = Vec::new();
    for i in 0..7 {
        let env = if i % 2 == 0 { "prod" } else { "dev" };
        let team = if i < 4 { "payments" } else { "search" };
        let mut p = fixture_in(&t, &format!("{prefix}-{i}"), "fake");
        p.labels = labels(&[("env", env), ("team/owner", team)]);
        repo.create(&p).await.expect("create");
        made.push(p);
    }
    let mut foreign = fixture_in(&other, &format!("{prefix}-x"), "fake");
    foreign.labels = labels(&[("env", "prod")]);
    repo.create(&foreign)
        .await
        .expect("create in another tenant");
    assert_eq!(repo.get(&t, &made[0].id).await.expect("get"), made[0]);

    let q = |pairs: &[(&str, &str)], limit| ListQuery {
        name_prefix: Some(prefix.clone()),
        labels: filter(pairs),
        limit,
        ..ListQuery::default()
    };
    let names =
        |idx: &[usize]| -> Vec<String> { idx.iter().map(|i| made[*i].name.clone()).collect() };
    assert_eq!(
        all_names(repo, &t, q(&[("env", "prod")], 2)).await,
        names(&[0, 2, 4, 6])
    );
    assert_eq!(
        all_names(
            repo,
            &t,
            q(&[("env", "prod"), ("team/owner", "payments")], 1)
        )
        .await,
        names(&[0, 2])
    );
    assert!(all_names(repo, &t, q(&[("env", "staging")], 10))
        .await
        .is_empty());
    let wrong_connector = ListQuery {
        connector: Some("other".into()),
        ..q(&[("env", "prod")], 10)
    };
    assert!(all_names(repo, &t, wrong_connector).await.is_empty());
    assert_eq!(
        all_names(repo, &other, q(&[("env", "prod")], 10)).await,
        [foreign.name.clone()]
    );

    // An update moves a profile in and out of a filter; a delete removes it.
    let mut moved = made[1].clone();
    moved.labels = labels(&[("env", "prod")]);
    moved.version = 2;
    repo.update(&moved, 1).await.expect("update labels");
    repo.delete(&t, &made[0].id).await.expect("delete");
    assert_eq!(
        all_names(repo, &t, q(&[("env", "prod")], 3)).await,
        names(&[1, 2, 4, 6])
    );
    assert_eq!(
        all_names(repo, &t, q(&[("team/owner", "payments")], 3)).await,
        names(&[2, 3])
    );
    assert_eq!(
        repo.get(&t, &moved.id).await.expect("get").labels,
        moved.labels
    );
    // A rename moves a profile within a filter's name order.
    let mut renamed = made[6].clone();
    renamed.name = format!("{prefix}-10");
    renamed.version = 2;
    repo.update(&renamed, 1).await.expect("rename");
    let mut expected = names(&[1]);
    expected.push(renamed.name.clone());
    expected.extend(names(&[2, 4]));
    assert_eq!(
        all_names(repo, &t, q(&[("env", "prod")], 3)).await,
        expected
    );
}
