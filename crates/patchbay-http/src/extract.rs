//! Extractors whose every rejection is our error envelope: JSON bodies,
//! query parameters, profile ids in the path and `If-Match`.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use patchbay_core::{FieldError, NewProfile, ProfileId, ProfileService, ProfileUpdate};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use crate::error::{codes, ApiError};
use crate::principal::Principal;
use crate::router::AppState;

/// The JSON type a top-level body field must have.
#[derive(Clone, Copy)]
pub(crate) enum Kind {
    Str,
    NullableStr,
    Object,
    Unsigned,
    /// An object of strings (labels).
    StrMap,
    /// An object of strings or nulls (a merge patch of labels).
    StrOrNullMap,
}

/// The top-level shape of a request body, checked before deserializing so
/// that every wrong, missing or unknown field is reported at once.
pub(crate) trait Shape {
    /// `(field, type, required)`.
    const FIELDS: &'static [(&'static str, Kind, bool)];

    /// The fields that apply to `body` (a body with alternatives picks one).
    fn fields_for(_body: &Value) -> &'static [(&'static str, Kind, bool)] {
        Self::FIELDS
    }
}

/// A create body: `connector` + `config`, or a connection `uri`.
pub(crate) enum CreateBody {
    Config(NewProfile),
    Uri(UriBody),
}

/// The URI form of a create body.
#[derive(serde::Deserialize)]
pub(crate) struct UriBody {
    pub name: String,
    pub uri: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub labels: patchbay_core::labels::Labels,
}

impl Shape for CreateBody {
    const FIELDS: &'static [(&'static str, Kind, bool)] = NewProfile::FIELDS;

    fn fields_for(body: &Value) -> &'static [(&'static str, Kind, bool)] {
        if body.get("uri").is_some() {
            &[
                ("name", Kind::Str, true),
                ("uri", Kind::Str, true),
                ("description", Kind::NullableStr, false),
                ("labels", Kind::StrMap, false),
            ]
        } else {
            Self::FIELDS
        }
    }
}

impl<'de> serde::Deserialize<'de> for CreateBody {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        let parsed = if value.get("uri").is_some() {
            serde_json::from_value(value).map(CreateBody::Uri)
        } else {
            serde_json::from_value(value).map(CreateBody::Config)
        };
        parsed.map_err(serde::de::Error::custom)
    }
}

impl Shape for NewProfile {
    const FIELDS: &'static [(&'static str, Kind, bool)] = &[
        ("name", Kind::Str, true),
        ("connector", Kind::Str, true),
        ("description", Kind::NullableStr, false),
        ("config", Kind::Object, true),
        ("labels", Kind::StrMap, false),
    ];
}

impl Shape for ProfileUpdate {
    const FIELDS: &'static [(&'static str, Kind, bool)] = &[
        ("name", Kind::Str, false),
        ("description", Kind::NullableStr, false),
        ("config", Kind::Object, false),
        ("labels", Kind::StrOrNullMap, false),
        ("version", Kind::Unsigned, false),
    ];
}

fn shape_errors<T: Shape>(body: &Value) -> Vec<FieldError> {
    let Some(map) = body.as_object() else {
        return vec![FieldError::new("", "the body must be a JSON object")];
    };
    let mut errors: Vec<FieldError> = map
        .keys()
        .filter(|k| !T::fields_for(body).iter().any(|(name, ..)| name == k))
        .map(|k| FieldError::new(format!("/{}", pointer_escape(k)), "unknown field"))
        .collect();
    for (name, kind, required) in T::fields_for(body) {
        let path = format!("/{name}");
        match (map.get(*name), kind) {
            (None, _) if *required => errors.push(FieldError::new(path, "is required")),
            (None, _) => {}
            (Some(Value::String(_)), Kind::Str | Kind::NullableStr) => {}
            (Some(Value::Null), Kind::NullableStr) => {}
            (Some(Value::Object(_)), Kind::Object) => {}
            (Some(v), Kind::Unsigned) if v.as_u64().is_some() => {}
            (Some(Value::Object(m)), Kind::StrMap | Kind::StrOrNullMap) => {
                for (key, value) in m {
                    let ok = value.is_string()
                        || (value.is_null() && matches!(kind, Kind::StrOrNullMap));
                    if !ok {
                        let what = match kind {
                            Kind::StrMap => "must be a string",
                            _ => "must be a string or null",
                        };
                        errors.push(FieldError::new(
                            format!("{path}/{}", pointer_escape(key)),
                            what,
                        ));
                    }
                }
            }
            (Some(_), Kind::StrMap | Kind::StrOrNullMap) => {
                errors.push(FieldError::new(path, "must be an object"))
            }
            (Some(_), Kind::Str) => errors.push(FieldError::new(path, "must be a string")),
            (Some(_), Kind::NullableStr) => {
                errors.push(FieldError::new(path, "must be a string or null"))
            }
            (Some(_), Kind::Object) => errors.push(FieldError::new(path, "must be an object")),
            (Some(_), Kind::Unsigned) => {
                errors.push(FieldError::new(path, "must be a non-negative integer"));
            }
        }
    }
    errors
}

fn pointer_escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// A JSON request body of type `T`.
pub(crate) struct JsonBody<T>(pub T);

impl<T: Shape + DeserializeOwned> FromRequest<AppState> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        if !is_json(req.headers()) {
            return Err(ApiError::new(
                codes::UNSUPPORTED_MEDIA_TYPE,
                "The body must be JSON, sent with Content-Type: application/json",
                json!({}),
            ));
        }
        let too_large = || {
            ApiError::new(
                codes::PAYLOAD_TOO_LARGE,
                format!("The body is larger than {} bytes", state.body_limit),
                json!({ "limit_bytes": state.body_limit }),
            )
        };
        // A declared length over the limit is refused before reading a byte.
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > state.body_limit as u64) {
            return Err(too_large());
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|r| {
            if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
                too_large()
            } else {
                ApiError::new(codes::BAD_REQUEST, "The body could not be read", json!({}))
            }
        })?;
        let value: Value = serde_json::from_slice(&bytes).map_err(|e| {
            ApiError::new(
                codes::MALFORMED_JSON,
                format!("The body is not valid JSON: {e}"),
                json!({ "line": e.line(), "column": e.column() }),
            )
        })?;
        let errors = shape_errors::<T>(&value);
        if !errors.is_empty() {
            return Err(ApiError::fields(errors));
        }
        serde_json::from_value(value)
            .map(JsonBody)
            .map_err(|e| ApiError::fields(vec![FieldError::new("", e.to_string())]))
    }
}

/// The service scoped to the caller's tenant: the tenant of the request's
/// [`Principal`] (put there by the host's layer, or by the guard for an
/// allowed anonymous caller). Every handler that touches profiles takes
/// this, never the unscoped service.
pub(crate) struct Scoped(pub ProfileService);

impl FromRequestParts<AppState> for Scoped {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        match parts.extensions.get::<Principal>() {
            Some(p) => {
                let scoped = state.service.tenant(p.tenant().clone());
                // The subject (a token's name, a user id) is the audit actor.
                Ok(Scoped(match p.subject() {
                    Some(who) => scoped.acting_as(who),
                    None => scoped,
                }))
            }
            // The guard lets no request through without one; fail closed.
            None => Err(crate::auth::unauthenticated()),
        }
    }
}

/// Query parameters, kept as pairs so that every problem is reported.
pub(crate) struct Params(Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        Self::parse(parts.uri.query())
    }
}

impl Params {
    /// The pairs of a raw query string (`None`: no query).
    pub(crate) fn parse(query: Option<&str>) -> Result<Self, ApiError> {
        serde_urlencoded::from_str::<Vec<(String, String)>>(query.unwrap_or_default())
            .map(Params)
            .map_err(|_| {
                ApiError::new(
                    codes::BAD_REQUEST,
                    "The query string is malformed",
                    json!({}),
                )
            })
    }

    /// The parameter's value; a repeated parameter is an error.
    pub(crate) fn get(&self, name: &str, errors: &mut Vec<FieldError>) -> Option<String> {
        let mut values = self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v);
        let first = values.next()?;
        if values.next().is_some() {
            errors.push(FieldError::new(
                format!("/{name}"),
                "must be given at most once",
            ));
            return None;
        }
        Some(first.clone())
    }

    /// Every value of a repeatable parameter, in order.
    pub(crate) fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// A count in `1..=max`, `default` when absent.
    pub(crate) fn limit(&self, max: usize, default: usize, errors: &mut Vec<FieldError>) -> usize {
        match self.get("limit", errors) {
            None => default,
            Some(v) => match v.parse::<usize>() {
                Ok(n) if (1..=max).contains(&n) => n,
                _ => {
                    errors.push(FieldError::new(
                        "/limit",
                        format!("must be an integer between 1 and {max}"),
                    ));
                    default
                }
            },
        }
    }
}

/// The `{id}` path segment as a profile id; one that cannot be an id is a 404.
pub(crate) struct ProfilePath(pub ProfileId);

impl<S: Send + Sync> FromRequestParts<S> for ProfilePath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::not_found(""))?;
        ProfileId::parse(&raw)
            .map(ProfilePath)
            .ok_or_else(|| ApiError::not_found(&raw))
    }
}

/// The version from `If-Match` (`"3"`, `3` or `W/"3"`); `*` or no header
/// means no expectation.
pub(crate) struct IfMatch(pub Option<u64>);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let Some(value) = parts.headers.get(header::IF_MATCH) else {
            return Ok(IfMatch(None));
        };
        let bad = || {
            ApiError::fields(vec![FieldError::new(
                "If-Match",
                "must be the profile's version, such as \"3\"",
            )])
        };
        let text = value.to_str().map_err(|_| bad())?.trim();
        if text == "*" {
            return Ok(IfMatch(None));
        }
        let text = text.strip_prefix("W/").unwrap_or(text);
        let text = text
            .strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .unwrap_or(text);
        text.parse::<u64>()
            .map(|v| IfMatch(Some(v)))
            .map_err(|_| bad())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_lists_every_problem() {
        let body = json!({"name": 5, "config": [], "extra": 1, "a/b": 2});
        let errors = shape_errors::<NewProfile>(&body);
        let mut paths: Vec<_> = errors.iter().map(|e| e.path.as_str()).collect();
        paths.sort_unstable();
        assert_eq!(paths, ["/a~1b", "/config", "/connector", "/extra", "/name"]);
        assert!(
            shape_errors::<ProfileUpdate>(&json!({"description": null, "version": 2})).is_empty()
        );
        assert_eq!(
            shape_errors::<ProfileUpdate>(&json!({"version": -1})).len(),
            1
        );
        assert_eq!(shape_errors::<ProfileUpdate>(&json!([1])).len(), 1);
    }
}
