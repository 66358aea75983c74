//! Dependents, connectors, the OpenAPI document and the fallbacks.

use axum::extract::{OriginalUri, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error::{codes, ApiError};
use crate::extract::{ProfilePath, Scoped};
use crate::openapi::schemas::{ConnectorsResponse, DependentsResponse, ErrorResponse};
use crate::render;
use crate::router::AppState;

/// What depends on a profile
///
/// Connection tables, pipelines… that the host attached; while any remain
/// the profile cannot be deleted.
#[utoipa::path(
    get, path = "/connection_profiles/{id}/dependents", tag = "connection_profiles",
    params(("id" = String, Path, description = "Profile id")),
    responses(
        (status = 200, description = "Dependents, sorted by kind then id", body = DependentsResponse),
        (status = 404, description = "No such profile", body = ErrorResponse),
        (status = 500, description = "Internal error", body = ErrorResponse),
    )
)]
pub(crate) async fn dependents(
    Scoped(service): Scoped,
    ProfilePath(id): ProfilePath,
) -> Result<Response, ApiError> {
    let dependents = service.dependents(&id).await?;
    Ok(render::ok(dependents))
}

/// Available connectors
///
/// Each connector's kind, description and config JSON Schema; secret fields
/// are marked `writeOnly` and listed in `secret_fields`.
#[utoipa::path(
    get, path = "/connectors", tag = "connectors",
    responses(
        (status = 200, description = "Registered connectors", body = ConnectorsResponse),
        (status = 500, description = "Internal error", body = ErrorResponse),
    )
)]
pub(crate) async fn connectors(State(state): State<AppState>) -> Response {
    render::ok(state.service.connectors())
}

/// This document
#[utoipa::path(
    get, path = "/openapi.json", tag = "meta",
    responses((status = 200, description = "The OpenAPI 3.1 document of this API", body = Object))
)]
pub(crate) async fn openapi(State(state): State<AppState>) -> Response {
    let mut response = state.openapi.clone().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// 404 for paths the API does not have (the path as the client sent it,
/// mount point included).
pub(crate) async fn not_found(OriginalUri(uri): OriginalUri) -> ApiError {
    ApiError::new(
        "NOT_FOUND",
        format!("No route for {}", uri.path()),
        json!({ "path": uri.path() }),
    )
}

/// 405 for a known path with another method.
pub(crate) async fn method_not_allowed() -> ApiError {
    ApiError::new(
        codes::METHOD_NOT_ALLOWED,
        "This method is not allowed on this path",
        json!({}),
    )
}
