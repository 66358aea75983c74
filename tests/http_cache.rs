//! End to end over HTTP: rendered reads are reused while nothing is written
//! (the store is held exclusively, as the server example holds it), and
//! every write through patchbay is seen by the very next read.

#[path = "http_support.rs"]
mod support;

use std::sync::Arc;

use serde_json::json;
use support::{database_file, new_body, ok_config, start, start_shared, Server};

/// Rewrites a description behind patchbay's back, as only a tool that
/// ignores the lock could.
async fn write_behind(s: &Server, id: &str, description: &str) {
    let url = format!("sqlite://{}", database_file(s).display());
    let pool = sqlx::SqlitePool::connect(&url).await.expect("raw pool");
    let done = sqlx::query("UPDATE profiles SET description = ? WHERE id = ?")
        .bind(description)
        .bind(id)
        .execute(&pool)
        .await
        .expect("raw update");
    assert_eq!(done.rows_affected(), 1);
    pool.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn reads_are_reused_until_a_write_through_patchbay() {
    let s = start().await;
    let p = s.create("cached").await;
    let id = p["id"].as_str().unwrap();
    let one = format!("/connection_profiles/{id}");
    let list = "/connection_profiles?prefix=cach&limit=5";
    let (first, first_list) = (s.get(&one).await, s.get(list).await);
    assert_eq!(first.json["data"]["description"], "e2e");

    write_behind(&s, id, "changed behind").await;
    let (again, again_list) = (s.get(&one).await, s.get(list).await);
    assert_eq!(again.text, first.text, "served from the cache");
    assert_eq!(again.headers["etag"], "\"1\"");
    assert_eq!(again.headers["content-type"], "application/json");
    assert_eq!(again_list.text, first_list.text);

    // Any write through patchbay retires every rendered read.
    s.create("other").await;
    let fresh = s.get(&one).await;
    assert_eq!(fresh.json["data"]["description"], "changed behind");
    assert_eq!(
        s.get(list).await.json["data"][0]["description"],
        "changed behind"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_shared_database_is_never_cached() {
    let s = start_shared().await;
    let p = s.create("uncached").await;
    let id = p["id"].as_str().unwrap();
    let one = format!("/connection_profiles/{id}");
    assert_eq!(s.get(&one).await.json["data"]["description"], "e2e");
    write_behind(&s, id, "changed behind").await;
    assert_eq!(
        s.get(&one).await.json["data"]["description"],
        "changed behind"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn every_write_is_seen_by_the_next_read() {
    let s = start().await;
    let p = s.create("seen").await;
    let id = p["id"].as_str().unwrap().to_owned();
    let one = format!("/connection_profiles/{id}");
    let list = "/connection_profiles?prefix=seen".to_owned();

    // Readers keep rendering (and caching) while the writer works, so stale
    // entries would be made if the revision were loaded after the read.
    let s = Arc::new(s);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let (s, stop, one, list) = (s.clone(), stop.clone(), one.clone(), list.clone());
            tokio::spawn(async move {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    s.get(&one).await;
                    s.get(&list).await;
                }
            })
        })
        .collect();
    for v in 1..=40u64 {
        let r = s
            .patch(&one, json!({ "description": format!("round {v}") }))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let got = s.get(&one).await;
        assert_eq!(got.json["data"]["version"], v + 1);
        assert_eq!(got.json["data"]["description"], format!("round {v}"));
        assert_eq!(got.headers["etag"], format!("\"{}\"", v + 1));
        let page = s.get(&list).await;
        assert_eq!(page.json["data"][0]["version"], v + 1, "{}", page.text);
    }
    let created = s
        .post("/connection_profiles", new_body("seen-2", ok_config()))
        .await;
    let id2 = created.json["data"]["id"].as_str().unwrap().to_owned();
    assert_eq!(s.get(&list).await.json["data"].as_array().unwrap().len(), 2);
    assert_eq!(
        s.delete(&format!("/connection_profiles/{id2}"))
            .await
            .status,
        200
    );
    assert_eq!(s.get(&list).await.json["data"].as_array().unwrap().len(), 1);
    s.get(&format!("/connection_profiles/{id2}"))
        .await
        .error(404, "NOT_FOUND");
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for r in readers {
        r.await.expect("reader");
    }
}
