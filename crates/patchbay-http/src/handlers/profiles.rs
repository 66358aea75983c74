//! Create, read, list, update and delete profiles.

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use patchbay_core::repository::MAX_PAGE_SIZE;
use patchbay_core::{ListQuery, ProfileUpdate};
use serde_json::json;

use crate::error::ApiError;
use crate::extract::{CreateBody, IfMatch, JsonBody, Params, ProfilePath, Scoped};
use crate::openapi::schemas::{
    DeletedResponse, ErrorResponse, NewProfileRequest, ProfileListResponse, ProfileResponse,
    UpdateProfileRequest,
};
use crate::render::{self, ListData, ProfileView, Rendered};
use crate::router::AppState;

/// List connection profiles
///
/// Ordered by lowercase name; pass `next_cursor` back as `cursor` for the
/// next page (it is `null` on the last page).
#[utoipa::path(
    get, path = "/connection_profiles", tag = "connection_profiles",
    params(
        ("connector" = Option<String>, Query, description = "Only profiles of this connector kind"),
        ("prefix" = Option<String>, Query, description = "Only names starting with this (case-insensitive)"),
        ("limit" = Option<u32>, Query, description = "Page size (default 100)", minimum = 1, maximum = 1000),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page"),
        ("label" = Option<Vec<String>>, Query, explode,
            description = "Only profiles with this label, as `key:value` (repeatable, every one must match; at most 16)"),
    ),
    responses(
        (status = 200, description = "A page of profiles", body = ProfileListResponse),
        (status = 400, description = "Invalid parameter (details list each)", body = ErrorResponse),
        (status = 500, description = "Internal error", body = ErrorResponse),
    )
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    Scoped(service): Scoped,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    // Loaded before the read: see crate::cache.
    let revision = service.revision();
    // tenant + `?` + the query: never a tenant + `/` + profile id, the key
    // of a single profile (tenant ids hold neither `?` nor `/`).
    let key = format!(
        "{}?{}",
        service.tenant_id(),
        raw.as_deref().unwrap_or_default()
    );
    if let Some(hit) = state.cache.get(&key, revision) {
        return Ok(hit.response(StatusCode::OK));
    }
    let params = Params::parse(raw.as_deref())?;
    let mut errors = Vec::new();
    let mut labels = Vec::new();
    for filter in params.all("label") {
        match patchbay_core::labels::parse_filter(&filter) {
            Ok(pair) => labels.push(pair),
            Err(e) => errors.push(e),
        }
    }
    let query = ListQuery {
        connector: params.get("connector", &mut errors),
        name_prefix: params.get("prefix", &mut errors),
        labels,
        after: params.get("cursor", &mut errors),
        limit: params.limit(MAX_PAGE_SIZE, ListQuery::default().limit, &mut errors),
    };
    if !errors.is_empty() {
        return Err(ApiError::fields(errors));
    }
    let page = service.list(&query).await?;
    let data: Vec<ProfileView<'_>> = page.items.iter().map(ProfileView::from).collect();
    let rendered = Rendered {
        body: render::bytes(&ListData {
            data,
            next_cursor: page.next_cursor,
        })?,
        etag: None,
    };
    state.cache.put(key, revision, &rendered);
    Ok(rendered.response(StatusCode::OK))
}

/// Create a connection profile
///
/// Secret fields of the config are sealed and never returned.
#[utoipa::path(
    post, path = "/connection_profiles", tag = "connection_profiles",
    request_body(content = NewProfileRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "Created", body = ProfileResponse,
            headers(("ETag" = String, description = "The profile's version, quoted"))),
        (status = 400, description = "Malformed JSON or invalid fields (details list each)", body = ErrorResponse),
        (status = 409, description = "The name is taken", body = ErrorResponse),
        (status = 413, description = "The body is over the limit", body = ErrorResponse),
        (status = 415, description = "The body is not JSON", body = ErrorResponse),
        (status = 500, description = "Internal error", body = ErrorResponse),
    )
)]
pub(crate) async fn create(
    Scoped(service): Scoped,
    JsonBody(body): JsonBody<CreateBody>,
) -> Result<Response, ApiError> {
    let profile = match body {
        CreateBody::Config(new) => service.create(new).await?,
        CreateBody::Uri(u) => {
            service
                .create_from_uri(u.name, &u.uri, u.description, u.labels)
                .await?
        }
    };
    Ok(render::profile(StatusCode::CREATED, &profile))
}

/// Get a connection profile
#[utoipa::path(
    get, path = "/connection_profiles/{id}", tag = "connection_profiles",
    params(("id" = String, Path, description = "Profile id")),
    responses(
        (status = 200, description = "The profile", body = ProfileResponse,
            headers(("ETag" = String, description = "The profile's version, quoted"))),
        (status = 404, description = "No such profile", body = ErrorResponse),
        (status = 500, description = "Internal error", body = ErrorResponse),
    )
)]
pub(crate) async fn get(
    State(state): State<AppState>,
    Scoped(service): Scoped,
    ProfilePath(id): ProfilePath,
) -> Result<Response, ApiError> {
    // Loaded before the read: see crate::cache.
    let revision = service.revision();
    let key = format!("{}/{id}", service.tenant_id());
    if let Some(hit) = state.cache.get(&key, revision) {
        return Ok(hit.response(StatusCode::OK));
    }
    let rendered = render::rendered_profile(&service.get(&id).await?)?;
    state.cache.put(key, revision, &rendered);
    Ok(rendered.response(StatusCode::OK))
}

/// Update a connection profile
///
/// `config` is a JSON merge patch: given fields replace, `null` removes,
/// omitted fields (secrets included) keep their stored value. The version
/// read earlier, sent as `If-Match` or `version`, guards against lost updates.
#[utoipa::path(
    patch, path = "/connection_profiles/{id}", tag = "connection_profiles",
    params(
        ("id" = String, Path, description = "Profile id"),
        ("If-Match" = Option<String>, Header, description = "Expected version, such as \"3\"",
            pattern = r#"^[ \t]*(\*|(W/)?("[0-9]{1,19}"|[0-9]{1,19}))[ \t]*$"#),
    ),
    request_body(content = UpdateProfileRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The updated profile", body = ProfileResponse,
            headers(("ETag" = String, description = "The profile's new version, quoted"))),
        (status = 400, description = "Malformed JSON or invalid fields (details list each)", body = ErrorResponse),
        (status = 404, description = "No such profile", body = ErrorResponse),
        (status = 409, description = "Stale version or name taken", body = ErrorResponse),
        (status = 413, description = "The body is over the limit", body = ErrorResponse),
        (status = 415, description = "The body is not JSON", body = ErrorResponse),
        (status = 500, description = "Internal error", body = ErrorResponse),
    )
)]
pub(crate) async fn update(
    Scoped(service): Scoped,
    ProfilePath(id): ProfilePath,
    IfMatch(if_match): IfMatch,
    JsonBody(mut update): JsonBody<ProfileUpdate>,
) -> Result<Response, ApiError> {
    match (if_match, update.version) {
        (Some(h), Some(b)) if h != b => {
            return Err(ApiError::fields(vec![patchbay_core::FieldError::new(
                "/version",
                "differs from the If-Match header",
            )]))
        }
        (Some(h), _) => update.version = Some(h),
        _ => {}
    }
    let profile = service.update(&id, update).await?;
    Ok(render::profile(StatusCode::OK, &profile))
}

/// Delete a connection profile
///
/// Refused with 409 while anything depends on it (details list the dependents).
#[utoipa::path(
    delete, path = "/connection_profiles/{id}", tag = "connection_profiles",
    params(("id" = String, Path, description = "Profile id")),
    responses(
        (status = 200, description = "Deleted", body = DeletedResponse),
        (status = 404, description = "No such profile", body = ErrorResponse),
        (status = 409, description = "In use by connection tables or other dependents", body = ErrorResponse),
        (status = 500, description = "Internal error", body = ErrorResponse),
    )
)]
pub(crate) async fn delete(
    Scoped(service): Scoped,
    ProfilePath(id): ProfilePath,
) -> Result<Response, ApiError> {
    service.delete(&id).await?;
    Ok(render::ok(
        json!({ "message": "Connection profile deleted successfully" }),
    ))
}
