//! Connection tests and autocomplete: the routes that reach live systems.

use axum::response::Response;
use patchbay_core::{AutocompleteQuery, FieldError, NewProfile};
use serde_json::json;

use crate::error::ApiError;
use crate::extract::{JsonBody, Params, ProfilePath, Scoped};
use crate::openapi::schemas::{
    ErrorResponse, SuggestionsResponse, TestProfileRequest, TestResponse,
};
use crate::render;

/// Test an unsaved configuration
///
/// Same body as create (the name may be empty); nothing is stored. A test that ran and failed is a
/// 422 `CONNECTION_FAILED` whose details carry the classified reason.
#[utoipa::path(
    post, path = "/connection_profiles/test", tag = "connection_profiles",
    request_body(content = TestProfileRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The connection works", body = TestResponse),
        (status = 400, description = "Malformed JSON or invalid fields (details list each)", body = ErrorResponse),
        (status = 403, description = "The network policy forbids this target", body = ErrorResponse),
        (status = 413, description = "The body is over the limit", body = ErrorResponse),
        (status = 415, description = "The body is not JSON", body = ErrorResponse),
        (status = 422, description = "The test ran and failed", body = ErrorResponse),
        (status = 500, description = "Internal error", body = ErrorResponse),
    )
)]
pub(crate) async fn test_config(
    Scoped(service): Scoped,
    JsonBody(new): JsonBody<NewProfile>,
) -> Result<Response, ApiError> {
    let report = service.test_config(&new, None).await?;
    Ok(render::ok(report))
}

/// Test a saved profile
#[utoipa::path(
    post, path = "/connection_profiles/{id}/test", tag = "connection_profiles",
    params(("id" = String, Path, description = "Profile id")),
    responses(
        (status = 200, description = "The connection works", body = TestResponse),
        (status = 400, description = "The stored config cannot be used", body = ErrorResponse),
        (status = 403, description = "The network policy forbids this target", body = ErrorResponse),
        (status = 404, description = "No such profile", body = ErrorResponse),
        (status = 422, description = "The test ran and failed", body = ErrorResponse),
        (status = 500, description = "Internal error", body = ErrorResponse),
    )
)]
pub(crate) async fn test_profile(
    Scoped(service): Scoped,
    ProfilePath(id): ProfilePath,
) -> Result<Response, ApiError> {
    let report = service.test_profile(&id, None).await?;
    Ok(render::ok(report))
}

/// Autocomplete suggestions
///
/// Schemas, tables, topics… from the profile's live system.
#[utoipa::path(
    get, path = "/connection_profiles/{id}/autocomplete", tag = "connection_profiles",
    params(
        ("id" = String, Path, description = "Profile id"),
        ("type" = String, Query, description = "What to suggest (schemas, tables, topics…; see /connectors)"),
        ("parent" = Option<String>, Query, description = "Parent context, such as the schema for tables"),
        ("prefix" = Option<String>, Query, description = "Only names starting with this"),
        ("limit" = Option<u32>, Query, description = "At most this many (default 100)", minimum = 1, maximum = 1000),
    ),
    responses(
        (status = 200, description = "Suggestions", body = SuggestionsResponse),
        (status = 400, description = "Invalid parameter or unsupported type", body = ErrorResponse),
        (status = 403, description = "The network policy forbids this target", body = ErrorResponse),
        (status = 404, description = "No such profile", body = ErrorResponse),
        (status = 422, description = "The system could not be reached", body = ErrorResponse),
        (status = 500, description = "Internal error", body = ErrorResponse),
    )
)]
pub(crate) async fn autocomplete(
    Scoped(service): Scoped,
    ProfilePath(id): ProfilePath,
    params: Params,
) -> Result<Response, ApiError> {
    let mut errors = Vec::new();
    let kind = params.get("type", &mut errors);
    if kind.is_none() && errors.is_empty() {
        errors.push(FieldError::new("/type", "is required"));
    }
    let query = AutocompleteQuery {
        kind: kind.unwrap_or_default(),
        parent: params.get("parent", &mut errors),
        prefix: params.get("prefix", &mut errors),
        limit: params.limit(
            patchbay_core::connector::MAX_SUGGESTION_LIMIT,
            patchbay_core::connector::DEFAULT_SUGGESTION_LIMIT,
            &mut errors,
        ),
    };
    if !errors.is_empty() {
        return Err(ApiError::fields(errors));
    }
    let suggestions = service.autocomplete(&id, &query).await?;
    Ok(render::ok(json!({ "suggestions": suggestions })))
}
