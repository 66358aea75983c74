//! The audit trail of the caller's tenant.

use axum::response::Response;
use patchbay_core::repository::MAX_PAGE_SIZE;
use patchbay_core::{AuditAction, AuditQuery, FieldError, ProfileId};

use crate::error::ApiError;
use crate::extract::{Params, Scoped};
use crate::openapi::schemas::{AuditListResponse, ErrorResponse};
use crate::render::{self, ListData};

/// The audit trail
///
/// Every write (create, update, delete, attach, detach, reseal) and every
/// opening of secrets (test, autocomplete, resolve) of the caller's tenant,
/// oldest first: who, what, which profile and version, how it went. Never a
/// config value or a secret. Pass `next_cursor` back as `after`.
#[utoipa::path(
    get, path = "/audit", tag = "audit",
    params(
        ("profile_id" = Option<String>, Query, description = "Only events of this profile",
            pattern = "^prof_[A-Za-z0-9_-]{1,64}$"),
        ("action" = Option<String>, Query, description = "Only events of this action: create, update, delete, attach, detach, reseal, test, autocomplete or resolve"),
        ("after" = Option<String>, Query, description = "`next_cursor` of the previous page"),
        ("limit" = Option<u32>, Query, description = "Page size (default 100)", minimum = 1, maximum = 1000),
    ),
    responses(
        (status = 200, description = "A page of events", body = AuditListResponse),
        (status = 400, description = "Invalid parameter (details list each), or a store without a trail", body = ErrorResponse),
        (status = 500, description = "Internal error", body = ErrorResponse),
    )
)]
pub(crate) async fn list(Scoped(service): Scoped, params: Params) -> Result<Response, ApiError> {
    let mut errors = Vec::new();
    let profile_id = params.get("profile_id", &mut errors).and_then(|raw| {
        let id = ProfileId::parse(&raw);
        if id.is_none() {
            errors.push(FieldError::new("/profile_id", "is not a profile id"));
        }
        id
    });
    let action = params.get("action", &mut errors).and_then(|raw| {
        let action = raw.parse::<AuditAction>().ok();
        if action.is_none() {
            errors.push(FieldError::new("/action", "is not an audit action"));
        }
        action
    });
    let query = AuditQuery {
        profile_id,
        action,
        after: params.get("after", &mut errors),
        limit: params.limit(MAX_PAGE_SIZE, AuditQuery::default().limit, &mut errors),
    };
    if !errors.is_empty() {
        return Err(ApiError::fields(errors));
    }
    let page = service.audit_events(&query).await?;
    Ok(render::json(
        axum::http::StatusCode::OK,
        &ListData {
            data: page.items,
            next_cursor: page.next_cursor,
        },
    ))
}
