//! Rendered bodies of `GET` reads, reused while the service's
//! [revision](patchbay_core::ProfileService::revision) is unchanged.
//!
//! Only a store that sees every write reports a revision (the memory store, an
//! `exclusive` SQLite store); with any other the cache never holds anything.
//! The revision is loaded *before* the read it tags, so an entry can only be
//! older than its tag says, never newer, and any write retires every entry.

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use quick_cache::sync::Cache;
use quick_cache::Weighter;

/// Default size of the cache: 8 MiB of rendered bodies.
pub const DEFAULT_RESPONSE_CACHE_BYTES: u64 = 8 << 20;

/// A rendered 200 response: its JSON body and, for one profile, its `ETag`.
#[derive(Clone)]
pub(crate) struct Rendered {
    pub body: Bytes,
    pub etag: Option<HeaderValue>,
}

impl Rendered {
    pub(crate) fn response(self, status: StatusCode) -> Response {
        let mut response = Response::new(Body::from(self.body));
        *response.status_mut() = status;
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if let Some(etag) = self.etag {
            headers.insert(header::ETAG, etag);
        }
        response
    }
}

#[derive(Clone)]
struct Entry {
    revision: u64,
    rendered: Rendered,
}

/// Weighs an entry by the bytes it holds, plus a fixed overhead.
#[derive(Clone)]
struct ByteWeighter;

impl Weighter<String, Entry> for ByteWeighter {
    fn weight(&self, key: &String, entry: &Entry) -> u64 {
        (key.len() + entry.rendered.body.len() + 64) as u64
    }
}

/// Bounded by bytes; `None` when disabled.
pub(crate) struct ResponseCache(Option<Cache<String, Entry, ByteWeighter>>);

impl ResponseCache {
    /// A cache of at most `bytes` (0 disables it).
    pub(crate) fn new(bytes: u64) -> Self {
        // quick_cache sizes its tables by an item estimate: ~1 KiB per body.
        let items = (bytes / 1024).max(16) as usize;
        Self((bytes > 0).then(|| Cache::with_weighter(items, bytes, ByteWeighter)))
    }

    /// The body rendered for `key` at `revision`, if any.
    pub(crate) fn get(&self, key: &str, revision: Option<u64>) -> Option<Rendered> {
        let (cache, revision) = (self.0.as_ref()?, revision?);
        cache
            .get(key)
            .filter(|e| e.revision == revision)
            .map(|e| e.rendered)
    }

    /// Keeps `rendered` for `key`, tagged with the revision loaded before the
    /// read that produced it.
    pub(crate) fn put(&self, key: String, revision: Option<u64>, rendered: &Rendered) {
        if let (Some(cache), Some(revision)) = (&self.0, revision) {
            cache.insert(
                key,
                Entry {
                    revision,
                    rendered: rendered.clone(),
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(s: &'static str) -> Rendered {
        Rendered {
            body: Bytes::from_static(s.as_bytes()),
            etag: None,
        }
    }

    #[test]
    fn serves_only_the_revision_it_was_rendered_at() {
        let cache = ResponseCache::new(1 << 20);
        cache.put("k".into(), Some(7), &rendered("a"));
        assert_eq!(cache.get("k", Some(7)).map(|r| r.body), Some("a".into()));
        assert!(cache.get("k", Some(8)).is_none());
        assert!(cache.get("k", None).is_none());
        assert!(cache.get("other", Some(7)).is_none());
    }

    #[test]
    fn keeps_nothing_without_a_revision_or_when_disabled() {
        let cache = ResponseCache::new(1 << 20);
        cache.put("k".into(), None, &rendered("a"));
        assert!(cache.get("k", Some(0)).is_none());
        let off = ResponseCache::new(0);
        off.put("k".into(), Some(1), &rendered("a"));
        assert!(off.get("k", Some(1)).is_none());
    }

    #[test]
    fn stays_within_its_byte_budget() {
        let cache = ResponseCache::new(64 * 1024);
        let body: &'static str = Box::leak("x".repeat(1000).into_boxed_str());
        for i in 0..1000 {
            cache.put(format!("k{i}"), Some(1), &rendered(body));
        }
        let held = (0..1000)
            .filter(|i| cache.get(&format!("k{i}"), Some(1)).is_some())
            .count();
        assert!(
            held > 0 && held <= 64,
            "held {held} bodies of 1 KiB in 64 KiB"
        );
    }
}
