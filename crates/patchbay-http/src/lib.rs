//! HTTP adapter for patchbay: the connection-profiles REST API as an axum
//! [`Router`](axum::Router) that a host mounts where it likes, with its
//! OpenAPI 3.1 document at `/openapi.json`.
//!
//! The adapter is thin: it parses, makes one call into
//! [`ProfileService`](patchbay_core::ProfileService) and renders. Successes
//! are `{"data": …}`; every error is `{"error": {"code", "message",
//! "details"}}` with the core's stable codes (see [`status_for`]).
//!
//! Every route needs a role (`read` < `test` < `write` < `admin`): the host's
//! authentication layer puts a [`Principal`] into the request extensions, and
//! a request without one is refused (401) unless the API
//! [allows anonymous](HttpApi::allow_anonymous) requests.
//!
//! ```no_run
//! # async fn demo(service: patchbay_core::ProfileService) -> std::io::Result<()> {
//! let app = axum::Router::new().nest(
//!     "/api/v1",
//!     patchbay_http::HttpApi::new(service)
//!         .mount_path("/api/v1")
//!         // A single-user tool on loopback; a shared service authenticates.
//!         .allow_anonymous(patchbay_http::Principal::admin())
//!         .into_router(),
//! );
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! axum::serve(listener, app).await
//! # }
//! ```
#![warn(missing_docs)]

mod auth;
mod cache;
mod error;
mod extract;
mod handlers;
mod host_check;
mod openapi;
mod principal;
mod render;
mod router;
mod shutdown;
mod tokens;

pub use auth::{require_role, unauthenticated};
pub use cache::DEFAULT_RESPONSE_CACHE_BYTES;
pub use error::{codes, status_for, ApiError};
pub use host_check::{check_host, HostCheck};
pub use principal::{InvalidRole, InvalidTenant, Principal, Role, TenantId, MAX_TENANT_LEN};
pub use render::ProfileView;
pub use router::{router, HttpApi, DEFAULT_BODY_LIMIT};
pub use shutdown::shutdown_signal;
pub use tokens::{authenticate_bearer, BearerTokens, MintedToken, TokenFileError, TOKEN_PREFIX};
