//! A host application that mounts the patchbay API under `/api/v1` beside its
//! own routes, behind a bearer-token layer of its own.
//!
//! `PATCHBAY_TOKEN=s3cret cargo run --example mount`, then
//! `curl -H 'Authorization: Bearer s3cret' http://127.0.0.1:8081/api/v1/connectors`.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use patchbay::memory::MemoryStore;
use patchbay::ProfileService;
use serde_json::json;

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

    let api = patchbay_http::HttpApi::new(service)
        .mount_path("/api/v1")
        .into_router()
        // Only the API needs a token; the host's own routes stay open.
        .layer(middleware::from_fn_with_state(
            Arc::new(token),
            require_bearer,
        ));
    let app = Router::new()
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

/// 401 in the API's own error envelope unless `Authorization: Bearer <token>`.
async fn require_bearer(State(token): State<Arc<String>>, req: Request, next: Next) -> Response {
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if given.is_some_and(|g| constant_time_eq(g.as_bytes(), token.as_bytes())) {
        return next.run(req).await;
    }
    let body = json!({ "error": {
        "code": "UNAUTHORIZED",
        "message": "A valid bearer token is required",
        "details": {},
    }});
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, "Bearer")],
        Json(body),
    )
        .into_response()
}

/// Compares without returning early, so timing says nothing about the token.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
