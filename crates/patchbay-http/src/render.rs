//! Success bodies: `{"data": …}` and the public view of a profile.

use axum::body::Bytes;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use patchbay_core::Profile;
use serde::Serialize;
use serde_json::{Map, Value};
use time::OffsetDateTime;
use utoipa::ToSchema;

pub(crate) use crate::cache::Rendered;
use crate::error::ApiError;

/// `{"data": …}`.
#[derive(Serialize)]
pub(crate) struct Data<T> {
    pub data: T,
}

/// `{"data": [...], "next_cursor": …}`.
#[derive(Serialize)]
pub(crate) struct ListData<T> {
    pub data: T,
    pub next_cursor: Option<String>,
}

/// Serializes `body` with `status`; a serialization failure is a bare 500.
pub(crate) fn json<T: Serialize>(status: StatusCode, body: &T) -> Response {
    match bytes(body) {
        Ok(body) => Rendered { body, etag: None }.response(status),
        Err(e) => e.into_response(),
    }
}

/// `{"data": body}` with 200.
pub(crate) fn ok<T: Serialize>(data: T) -> Response {
    json(StatusCode::OK, &Data { data })
}

/// A connection profile as clients see it: secrets are never included, only
/// the names of the secret fields that hold a value.
#[derive(Serialize, ToSchema)]
#[schema(as = Profile)]
pub struct ProfileView<'a> {
    /// Unique id, `prof_…`.
    #[schema(example = "prof_3f2a9c1e8b7d4f60a1b2c3d4e5f60718")]
    pub id: &'a str,
    /// Unique name (compared case-insensitively).
    #[schema(example = "production-kafka")]
    pub name: &'a str,
    /// Connector kind.
    #[schema(example = "kafka")]
    pub connector: &'a str,
    /// Free text; absent when none was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    pub description: Option<&'a str>,
    /// Non-secret configuration.
    #[schema(value_type = Object)]
    pub config: &'a Map<String, Value>,
    /// Labels (`{"env": "prod"}`); `{}` when none.
    #[schema(schema_with = crate::openapi::schemas::labels_schema)]
    pub labels: &'a patchbay_core::Labels,
    /// Names of the secret fields that hold a value.
    pub secret_fields: Vec<&'a str>,
    /// Creation time (RFC 3339, UTC).
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    /// Last change (RFC 3339, UTC).
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
    /// Starts at 1 and grows with every change; send it back as `If-Match`
    /// (or `version`) when updating.
    #[schema(minimum = 1)]
    pub version: u64,
}

impl<'a> From<&'a Profile> for ProfileView<'a> {
    fn from(p: &'a Profile) -> Self {
        Self {
            id: p.id.as_str(),
            name: &p.name,
            connector: &p.connector,
            description: p.description.as_deref(),
            config: &p.config,
            labels: &p.labels,
            secret_fields: p.secrets.0.keys().map(String::as_str).collect(),
            created_at: p.created_at,
            updated_at: p.updated_at,
            version: p.version,
        }
    }
}

/// One profile with `status` and its version as a strong `ETag`.
pub(crate) fn profile(status: StatusCode, p: &Profile) -> Response {
    match rendered_profile(p) {
        Ok(r) => r.response(status),
        Err(e) => e.into_response(),
    }
}

/// `{"data": profile}` and its `ETag`, ready to send or to cache.
pub(crate) fn rendered_profile(p: &Profile) -> Result<Rendered, ApiError> {
    Ok(Rendered {
        body: bytes(&Data {
            data: ProfileView::from(p),
        })?,
        etag: HeaderValue::from_str(&format!("\"{}\"", p.version)).ok(),
    })
}

/// `body` as JSON bytes; a serialization failure is a bare 500.
pub(crate) fn bytes<T: Serialize>(body: &T) -> Result<Bytes, ApiError> {
    serde_json::to_vec(body).map(Bytes::from).map_err(|e| {
        tracing::error!(error = %e, "response serialization failed");
        ApiError::internal()
    })
}
