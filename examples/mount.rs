//! A host application that mounts the patchbay API under `/api/v1` beside its
//! own routes, with authentication of its own: its layer turns a credential
//! into a `patchbay_http::Principal` (tenant + roles) in the request
//! extensions, and the adapter checks each route's role against it.
//!
//! `PATCHBAY_TOKEN=s3cret cargo run --example mount`, then
//! `curl -H 'Authorization: Bearer s3cret' http://127.0.0.1:8081/api/v1/connectors`.
//! The token is a stand-in for the host's real authentication (sessions,
//! OIDC…): it is the admin of tenant `default`; `s3cret-read` is a reader.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use patchbay::memory::MemoryStore;
use patchbay::ProfileService;
use patchbay_http::{Principal, Role, TenantId};
use serde_json::json;
use subtle::ConstantTimeEq;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt().init();
    let token = std::env::var("PATCHBAY_TOKEN").unwrap_or_else(|_| {
        tracing::warn!("PATCHBAY_TOKEN is not set: using the demo token \"demo-token\"");
        "demo-token".to_owned()
    });
    let listen = std::env::var("LISTEN").unwrap_or_else(|_| "127.0.0.1:8081".to_owned());

    // The memory store keeps this example self-contained; see the server
    // example for SQLite and Postgres.
    let service = ProfileService::builder(Arc::new(MemoryStore::new()))
        .connector(patchbay_connector_redis::RedisConnector)
        .connector(patchbay_connector_postgres::PostgresConnector)
        .build()?;

    // No `allow_anonymous`: a request the layer below did not authenticate
    // gets the adapter's 401, one whose role is too weak its 403.
    let api = patchbay_http::HttpApi::new(service)
        .mount_path("/api/v1")
        .into_router()
        .layer(middleware::from_fn_with_state(
            Arc::new(token),
            authenticate,
        ));
    let app = Router::new()
        // The host's own routes stay open.
        .route("/", get(|| async { "my host application\n" }))
        .route(
            "/healthz",
            get(|| async { Json(json!({ "status": "ok" })) }),
        )
        .nest("/api/v1", api);

    let listener = tokio::net::TcpListener::bind(&listen).await?;
    println!(
        "host listening on http://{}/ (API under /api/v1)",
        listener.local_addr()?
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(patchbay_http::shutdown_signal())
        .await?;
    Ok(())
}

/// The host's authentication: `Authorization: Bearer <token>` is the admin,
/// `<token>-read` a reader; anything else adds no principal.
async fn authenticate(State(token): State<Arc<String>>, mut req: Request, next: Next) -> Response {
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
        .as_bytes();
    let reader = format!("{token}-read");
    // `ct_eq` compares without returning early (unequal lengths are unequal).
    let role = if bool::from(given.ct_eq(token.as_bytes())) {
        Some(Role::Admin)
    } else if bool::from(given.ct_eq(reader.as_bytes())) {
        Some(Role::Read)
    } else {
        None
    };
    if let Some(role) = role {
        let principal = Principal::new(TenantId::default(), [role]).with_subject("demo");
        req.extensions_mut().insert(principal);
    }
    next.run(req).await
}
