//! The router a host mounts where it likes, and its builder.

use std::any::Any;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post, MethodRouter};
use axum::Router;
use patchbay_core::ProfileService;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

use crate::auth;
use crate::cache::{ResponseCache, DEFAULT_RESPONSE_CACHE_BYTES};
use crate::error::ApiError;
use crate::handlers::{audit, meta, probes, profiles};
use crate::principal::Principal;

/// Default largest request body: 64 KiB.
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;

/// What every handler shares.
#[derive(Clone)]
pub(crate) struct AppState {
    pub service: ProfileService,
    pub openapi: Bytes,
    pub body_limit: usize,
    pub cache: Arc<ResponseCache>,
}

/// Builds the connection-profiles API over a [`ProfileService`].
///
/// ```no_run
/// # fn demo(service: patchbay_core::ProfileService) {
/// let api = patchbay_http::HttpApi::new(service).mount_path("/api/v1").into_router();
/// let app: axum::Router = axum::Router::new().nest("/api/v1", api);
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct HttpApi {
    service: ProfileService,
    body_limit: usize,
    mount_path: Option<String>,
    cache_bytes: u64,
    trace_requests: bool,
    anonymous: Option<Arc<Principal>>,
}

impl HttpApi {
    /// An API over `service` with the default body limit.
    pub fn new(service: ProfileService) -> Self {
        Self {
            service,
            body_limit: DEFAULT_BODY_LIMIT,
            mount_path: None,
            cache_bytes: DEFAULT_RESPONSE_CACHE_BYTES,
            trace_requests: true,
            anonymous: None,
        }
    }

    /// Serve requests that carry no [`Principal`] as `principal`, instead of
    /// refusing them with 401 `UNAUTHENTICATED` (the default). For a
    /// single-user tool on loopback or a test: anyone who reaches the router
    /// then acts as `principal`. Requests that do carry one are checked
    /// against their own.
    pub fn allow_anonymous(mut self, principal: Principal) -> Self {
        self.anonymous = Some(Arc::new(principal));
        self
    }

    /// Wrap every request in a `tower_http` trace span (default true). A
    /// host that traces its whole app already, or whose log filter drops
    /// `tower_http` events, turns it off: the layer costs about a third of
    /// the adapter's time on a cached read (`benches/http_router.rs`).
    pub fn trace_requests(mut self, on: bool) -> Self {
        self.trace_requests = on;
        self
    }

    /// Bytes of rendered `GET` bodies (one profile, a list page) kept for
    /// reuse while the service's [revision](ProfileService::revision) is
    /// unchanged (default 8 MiB; 0 turns the cache off). Only stores that see
    /// every write report a revision — the memory store, an `exclusive`
    /// SQLite store — so with any other nothing is ever cached.
    pub fn response_cache_bytes(mut self, bytes: u64) -> Self {
        self.cache_bytes = bytes;
        self
    }

    /// Largest accepted request body, in bytes (default 64 KiB); larger ones
    /// get 413 `PAYLOAD_TOO_LARGE`.
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// Where the host mounts the router, such as `/api/v1`: the OpenAPI
    /// document lists it as its server so clients resolve paths correctly.
    pub fn mount_path(mut self, path: impl Into<String>) -> Self {
        self.mount_path = Some(path.into());
        self
    }

    /// The OpenAPI 3.1 document the router serves at `/openapi.json`.
    pub fn openapi(&self) -> serde_json::Value {
        crate::openapi::document(&self.service, self.mount_path.as_deref())
    }

    /// The router. Its paths are relative: nest it under the mount path.
    pub fn into_router<S: Clone + Send + Sync + 'static>(self) -> Router<S> {
        self.build("")
    }

    /// The router with the [mount path](Self::mount_path) already in every
    /// route, for the host to [`merge`](Router::merge) rather than nest: it
    /// saves rewriting each request's URI, worth about a tenth of the
    /// throughput of a cached read. Its fallback (a 404 envelope) becomes the
    /// host's, so a host with its own fallback nests [`into_router`](Self::into_router) instead.
    ///
    /// ```no_run
    /// # fn demo(service: patchbay_core::ProfileService) {
    /// let app: axum::Router = patchbay_http::HttpApi::new(service)
    ///     .mount_path("/api/v1")
    ///     .into_mounted_router();
    /// # }
    /// ```
    pub fn into_mounted_router<S: Clone + Send + Sync + 'static>(self) -> Router<S> {
        let prefix = self.mount_path.clone().unwrap_or_default();
        self.build(prefix.trim_end_matches('/'))
    }

    fn build<S: Clone + Send + Sync + 'static>(self, prefix: &str) -> Router<S> {
        let at = |path: &str| format!("{prefix}{path}");
        let openapi = serde_json::to_vec(&self.openapi()).unwrap_or_default();
        let state = AppState {
            service: self.service,
            openapi: Bytes::from(openapi),
            body_limit: self.body_limit,
            cache: Arc::new(ResponseCache::new(self.cache_bytes)),
        };
        // Every route answers only a principal whose roles cover it (auth.rs).
        let anonymous = self.anonymous;
        let guard = |path: &str, routes: Vec<(&str, MethodRouter<AppState>)>| {
            routes
                .into_iter()
                .map(|(method, route)| {
                    auth::guarded(auth::role_for(method, path), anonymous.clone(), route)
                })
                .reduce(MethodRouter::merge)
                .unwrap_or_else(MethodRouter::new)
        };
        let p = "/connection_profiles";
        let one = "/connection_profiles/{id}";
        let router = Router::new()
            .route(
                &at(p),
                guard(
                    p,
                    vec![
                        ("GET", get(profiles::list)),
                        ("POST", post(profiles::create)),
                    ],
                ),
            )
            .route(
                &at("/connection_profiles/test"),
                guard(
                    "/connection_profiles/test",
                    vec![("POST", post(probes::test_config))],
                ),
            )
            .route(
                &at(one),
                guard(
                    one,
                    vec![
                        ("GET", get(profiles::get)),
                        ("PATCH", patch(profiles::update)),
                        ("DELETE", axum::routing::delete(profiles::delete)),
                    ],
                ),
            )
            .route(
                &at("/connection_profiles/{id}/test"),
                guard(
                    "/connection_profiles/{id}/test",
                    vec![("POST", post(probes::test_profile))],
                ),
            )
            .route(
                &at("/connection_profiles/{id}/autocomplete"),
                guard(
                    "/connection_profiles/{id}/autocomplete",
                    vec![("GET", get(probes::autocomplete))],
                ),
            )
            .route(
                &at("/connection_profiles/{id}/dependents"),
                guard(
                    "/connection_profiles/{id}/dependents",
                    vec![("GET", get(meta::dependents))],
                ),
            )
            .route(
                &at("/connectors"),
                guard("/connectors", vec![("GET", get(meta::connectors))]),
            )
            .route(
                &at("/audit"),
                guard("/audit", vec![("GET", get(audit::list))]),
            )
            .route(
                &at("/openapi.json"),
                guard("/openapi.json", vec![("GET", get(meta::openapi))]),
            )
            .fallback(meta::not_found)
            .method_not_allowed_fallback(meta::method_not_allowed)
            .layer(DefaultBodyLimit::max(self.body_limit))
            .layer(CatchPanicLayer::custom(panic_response));
        let router = if self.trace_requests {
            router.layer(TraceLayer::new_for_http())
        } else {
            router
        };
        router.with_state(state)
    }
}

/// The API over `service` with every default, ready to nest.
pub fn router(service: ProfileService) -> Router {
    HttpApi::new(service).into_router()
}

fn panic_response(_: Box<dyn Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    ApiError::internal().into_response()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use tower::ServiceExt;

    use super::*;

    fn api(limit: usize) -> Router {
        let service = ProfileService::builder(Arc::new(patchbay_store_memory::MemoryStore::new()))
            .connector(patchbay_testkit::fake::FakeConnector::default())
            .build()
            .expect("service");
        HttpApi::new(service)
            .body_limit(limit)
            .allow_anonymous(Principal::admin())
            .into_router()
    }

    async fn post(app: Router, body: String) -> StatusCode {
        let req = Request::post("/connection_profiles")
            .header("content-type", "application/json")
            .body(Body::from(body))
            .expect("request");
        app.oneshot(req).await.expect("response").status()
    }

    #[tokio::test]
    async fn nested_and_mounted_routers_answer_alike() {
        let nested: Router = Router::new().nest("/api/v1", api(DEFAULT_BODY_LIMIT));
        let service = ProfileService::builder(Arc::new(patchbay_store_memory::MemoryStore::new()))
            .build()
            .expect("service");
        let mounted: Router = HttpApi::new(service)
            .mount_path("/api/v1/")
            .allow_anonymous(Principal::admin())
            .into_mounted_router();
        for app in [nested, mounted] {
            for (uri, status) in [
                ("/api/v1/connectors", StatusCode::OK),
                ("/api/v1/connection_profiles?limit=5", StatusCode::OK),
                ("/api/v1/connection_profiles/prof_0", StatusCode::NOT_FOUND),
                ("/api/v1/nothing", StatusCode::NOT_FOUND),
                ("/connectors", StatusCode::NOT_FOUND),
            ] {
                let req = Request::get(uri).body(Body::empty()).expect("request");
                let res = app.clone().oneshot(req).await.expect("response");
                assert_eq!(res.status(), status, "{uri}");
            }
        }
    }

    #[tokio::test]
    async fn the_body_limit_is_configurable() {
        let body = format!(
            r#"{{"name":"n","connector":"fake","description":"{}","config":{{"host":"127.0.0.1"}}}}"#,
            "d".repeat(200)
        );
        assert_eq!(
            post(api(100), body.clone()).await,
            StatusCode::PAYLOAD_TOO_LARGE
        );
        assert_eq!(
            post(api(DEFAULT_BODY_LIMIT), body).await,
            StatusCode::CREATED
        );
    }
}
