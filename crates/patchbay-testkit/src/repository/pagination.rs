//! Pagination cases beyond the happy path: writes between pages, pages that
//! end exactly at a page boundary, and a limit above the maximum.

use std::collections::BTreeSet;

use patchbay_core::repository::MAX_PAGE_SIZE;
use patchbay_core::{Error, ListQuery, Page, Profile, ProfileId, ProfileRepository, TenantId};

use super::{fixture, unique};

/// Every page of `prefix` at `limit`, with the names of each page.
async fn all_pages(repo: &dyn ProfileRepository, prefix: &str, limit: usize) -> Vec<Vec<String>> {
    let mut query = ListQuery {
        name_prefix: Some(prefix.to_owned()),
        limit,
        ..ListQuery::default()
    };
    let mut pages = Vec::new();
    loop {
        let page = repo.list(&TenantId::default(), &query).await.expect("list");
        pages.push(names(&page));
        match page.next_cursor {
            Some(c) => query.after = Some(c),
            None => return pages,
        }
        assert!(pages.len() <= 1000, "pagination does not end");
    }
}

fn names(page: &Page<Profile>) -> Vec<String> {
    page.items.iter().map(|p| p.name.clone()).collect()
}

async fn id_of(repo: &dyn ProfileRepository, name: &str) -> ProfileId {
    repo.get_by_name(&TenantId::default(), name)
        .await
        .expect("get by name")
        .id
}

async fn create_all(repo: &dyn ProfileRepository, names: &[String]) {
    for n in names {
        repo.create(&fixture(n, "fake")).await.expect("create");
    }
}

/// Keyset pagination under writes: deleting a row already seen, or inserting
/// one before the cursor, between two pages neither skips nor repeats a
/// row (an offset-based store does both); rows inserted ahead of the cursor
/// appear, rows deleted ahead of it do not.
pub async fn list_keyset_survives_writes_between_pages(repo: &dyn ProfileRepository) {
    let prefix = unique("ks");
    let name = |i: usize| format!("{prefix}-{i:03}");
    let original: Vec<String> = (0..30).map(|i| name(i * 10)).collect();
    create_all(repo, &original).await;
    let mut query = ListQuery {
        name_prefix: Some(prefix.clone()),
        limit: 7,
        ..ListQuery::default()
    };
    let mut seen: Vec<String> = Vec::new();
    let mut expected_new: BTreeSet<String> = BTreeSet::new();
    let mut gone: BTreeSet<String> = BTreeSet::new();
    let mut round = 0;
    loop {
        let page = repo.list(&TenantId::default(), &query).await.expect("list");
        seen.extend(names(&page));
        let Some(cursor) = page.next_cursor else {
            break;
        };
        query.after = Some(cursor);
        let last = seen.last().expect("a page with a cursor has items").clone();
        let last_i: usize = last[prefix.len() + 1..].parse().expect("index");
        match round {
            // Delete two rows already seen: an offset store skips two.
            0 => {
                for n in [&seen[0], &seen[1]] {
                    repo.delete(&TenantId::default(), &id_of(repo, n).await)
                        .await
                        .expect("delete");
                }
            }
            // Insert two rows before the cursor: an offset store repeats two.
            1 => {
                for i in [1, last_i - 1] {
                    repo.create(&fixture(&name(i), "fake"))
                        .await
                        .expect("create");
                }
            }
            // Insert right after the cursor and delete an unseen row.
            2 => {
                repo.create(&fixture(&name(last_i + 1), "fake"))
                    .await
                    .expect("create");
                expected_new.insert(name(last_i + 1));
                let victim = name(last_i + 20);
                repo.delete(&TenantId::default(), &id_of(repo, &victim).await)
                    .await
                    .expect("delete");
                gone.insert(victim);
            }
            _ => {}
        }
        round += 1;
        assert!(round < 100, "pagination does not end");
    }
    let unique_seen: BTreeSet<&String> = seen.iter().collect();
    assert_eq!(
        unique_seen.len(),
        seen.len(),
        "a row was listed twice: {seen:?}"
    );
    let mut expected: Vec<String> = original
        .iter()
        .filter(|n| !gone.contains(*n))
        .cloned()
        .chain(expected_new)
        .collect();
    expected.sort_by_key(|n| n.to_lowercase());
    assert_eq!(seen, expected, "rows skipped or listed out of order");
}

/// Pages that end exactly at a page boundary: `n` rows at limit `n / k`
/// give exactly `k` full pages and no empty page after them.
pub async fn list_exact_multiple_pages(repo: &dyn ProfileRepository) {
    let prefix = unique("exact");
    let all: Vec<String> = (0..12).map(|i| format!("{prefix}-{i:02}")).collect();
    create_all(repo, &all).await;
    for (limit, count) in [(1, 12), (3, 4), (4, 3), (6, 2), (12, 1), (13, 1), (1000, 1)] {
        let pages = all_pages(repo, &prefix, limit).await;
        assert_eq!(pages.len(), count, "limit {limit}: {pages:?}");
        assert!(
            pages.iter().all(|p| !p.is_empty()),
            "limit {limit}: an empty page: {pages:?}"
        );
        assert_eq!(pages.concat(), all, "limit {limit}");
    }
    // And an empty result is one empty page without a cursor.
    assert_eq!(
        all_pages(repo, &unique("none"), 5).await,
        [Vec::<String>::new()]
    );
}

/// A limit above [`MAX_PAGE_SIZE`] (up to `usize::MAX`) is capped at the
/// store, and a limit of 0 still returns a page; nothing panics or
/// overflows.
pub async fn list_caps_limit_at_max_page_size(repo: &dyn ProfileRepository) {
    let prefix = unique("cap");
    let all: Vec<String> = (0..MAX_PAGE_SIZE + 3)
        .map(|i| format!("{prefix}-{i:05}"))
        .collect();
    create_all(repo, &all).await;
    for limit in [MAX_PAGE_SIZE + 1, 5_000, i64::MAX as usize, usize::MAX] {
        let page = repo
            .list(
                &TenantId::default(),
                &ListQuery {
                    name_prefix: Some(prefix.clone()),
                    limit,
                    ..ListQuery::default()
                },
            )
            .await
            .expect("list");
        assert_eq!(page.items.len(), MAX_PAGE_SIZE, "limit {limit}");
        assert_eq!(names(&page), all[..MAX_PAGE_SIZE], "limit {limit}");
        let rest = repo
            .list(
                &TenantId::default(),
                &ListQuery {
                    name_prefix: Some(prefix.clone()),
                    limit,
                    after: Some(page.next_cursor.expect("more rows follow")),
                    ..ListQuery::default()
                },
            )
            .await
            .expect("list");
        assert_eq!(names(&rest), all[MAX_PAGE_SIZE..], "limit {limit}");
        assert_eq!(rest.next_cursor, None);
    }
    let zero = repo
        .list(
            &TenantId::default(),
            &ListQuery {
                name_prefix: Some(prefix.clone()),
                limit: 0,
                ..ListQuery::default()
            },
        )
        .await;
    match zero {
        Ok(page) => assert!(
            page.items.len() <= 1,
            "limit 0 returned {}",
            page.items.len()
        ),
        Err(Error::Validation(_)) => {}
        Err(e) => panic!("limit 0: {e:?}"),
    }
}
