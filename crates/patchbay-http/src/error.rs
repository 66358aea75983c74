//! The error envelope `{"error": {"code", "message", "details"}}` and the one
//! mapping from error codes to HTTP statuses.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use patchbay_core::{Error, FieldError, ValidationErrors};
use serde::Serialize;
use serde_json::{json, Value};

/// Codes the adapter adds to the core's [`Error::code`] set, for problems
/// found before the service is called.
pub mod codes {
    /// The body is not JSON (syntax error, bad UTF-8, nesting too deep).
    pub const MALFORMED_JSON: &str = "MALFORMED_JSON";
    /// The body is not `application/json`.
    pub const UNSUPPORTED_MEDIA_TYPE: &str = "UNSUPPORTED_MEDIA_TYPE";
    /// The body is over the configured limit.
    pub const PAYLOAD_TOO_LARGE: &str = "PAYLOAD_TOO_LARGE";
    /// The route exists but not for this method.
    pub const METHOD_NOT_ALLOWED: &str = "METHOD_NOT_ALLOWED";
    /// The request could not be read or understood.
    pub const BAD_REQUEST: &str = "BAD_REQUEST";
    /// No principal: a missing or wrong credential (see [`crate::Principal`]).
    pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
    /// The principal's roles do not cover the route, or the request's
    /// `Host`/`Origin` does not name the server.
    pub const FORBIDDEN: &str = "FORBIDDEN";
    /// Something failed inside the server; nothing more is said.
    pub const INTERNAL: &str = "INTERNAL";

    /// The adapter's own codes.
    pub const ADAPTER: &[&str] = &[
        MALFORMED_JSON,
        UNSUPPORTED_MEDIA_TYPE,
        PAYLOAD_TOO_LARGE,
        METHOD_NOT_ALLOWED,
        BAD_REQUEST,
        INTERNAL,
    ];

    /// Every code a response can carry: the core's codes that have a
    /// client status (a server-side one, such as `STORAGE`, is sent as
    /// `INTERNAL`), then the adapter's. The OpenAPI `code` enum.
    pub fn documented() -> Vec<&'static str> {
        let core = patchbay_core::Error::CODES
            .iter()
            .copied()
            .filter(|c| !super::status_for(c).is_server_error());
        let mut all: Vec<&'static str> = core.chain(ADAPTER.iter().copied()).collect();
        all.dedup();
        all
    }
}

/// The HTTP status for an error code. The one place codes meet statuses.
pub fn status_for(code: &str) -> StatusCode {
    match code {
        "VALIDATION_FAILED" | "UNKNOWN_CONNECTOR" | "UNSUPPORTED" => StatusCode::BAD_REQUEST,
        codes::MALFORMED_JSON | codes::BAD_REQUEST => StatusCode::BAD_REQUEST,
        codes::UNAUTHENTICATED => StatusCode::UNAUTHORIZED,
        "TARGET_FORBIDDEN" | codes::FORBIDDEN => StatusCode::FORBIDDEN,
        "NOT_FOUND" => StatusCode::NOT_FOUND,
        codes::METHOD_NOT_ALLOWED => StatusCode::METHOD_NOT_ALLOWED,
        "ALREADY_EXISTS" | "VERSION_CONFLICT" | "PROFILE_IN_USE" | "PROFILE_MANAGED" => {
            StatusCode::CONFLICT
        }
        codes::PAYLOAD_TOO_LARGE => StatusCode::PAYLOAD_TOO_LARGE,
        codes::UNSUPPORTED_MEDIA_TYPE => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "CONNECTION_FAILED" | "SECRET_UNAVAILABLE" => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// An error on its way to the client: a code, a message and details.
#[derive(Debug)]
pub struct ApiError {
    code: &'static str,
    message: String,
    details: Value,
}

#[derive(Serialize)]
struct Envelope<'a> {
    error: Body<'a>,
}

#[derive(Serialize)]
struct Body<'a> {
    code: &'a str,
    message: &'a str,
    details: &'a Value,
}

impl ApiError {
    /// An error with an adapter code (see [`codes`]).
    pub fn new(code: &'static str, message: impl Into<String>, details: Value) -> Self {
        Self {
            code,
            message: message.into(),
            details,
        }
    }

    /// `VALIDATION_FAILED` listing every field problem.
    pub fn fields(errors: Vec<FieldError>) -> Self {
        Error::Validation(ValidationErrors(errors)).into()
    }

    /// `NOT_FOUND` for an id that cannot name a profile.
    pub fn not_found(id: &str) -> Self {
        Error::NotFound(id.to_owned()).into()
    }

    /// `INTERNAL`: the cause goes to the log, never to the client.
    pub fn internal() -> Self {
        Self::new(codes::INTERNAL, "internal server error", json!({}))
    }

    /// The machine code.
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        status_for(self.code)
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        let code = e.code();
        if status_for(code).is_server_error() {
            // Storage failures (and any code this adapter does not know yet)
            // are logged with their cause and shown as a bare 500.
            tracing::error!(code, error = %e, source = ?std::error::Error::source(&e), "request failed");
            return Self::internal();
        }
        let message = match &e {
            Error::ConnectionFailed(f) => f.reason_text(),
            other => upper_first(&other.to_string()),
        };
        Self {
            code,
            message,
            details: e.details(),
        }
    }
}

fn upper_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let envelope = Envelope {
            error: Body {
                code: self.code,
                message: &self.message,
                details: &self.details,
            },
        };
        let bytes = serde_json::to_vec(&envelope).unwrap_or_else(|_| {
            br#"{"error":{"code":"INTERNAL","message":"internal server error","details":{}}}"#
                .to_vec()
        });
        let mut response = (self.status(), bytes).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use patchbay_core::FailureReason;

    #[test]
    fn every_core_code_has_its_status() {
        let cases = [
            (Error::invalid("/name", "bad"), 400),
            (Error::NotFound("prof_x".into()), 404),
            (Error::AlreadyExists { name: "a".into() }, 409),
            (
                Error::InUse {
                    id: "p".into(),
                    dependents: vec![],
                },
                409,
            ),
            (
                Error::Managed {
                    name: "p".into(),
                    managed_by: "env".into(),
                },
                409,
            ),
            (Error::UnknownConnector("x".into()), 400),
            (Error::connection_failed(FailureReason::Auth, "no"), 422),
            (
                Error::TargetForbidden {
                    target: "a:1".into(),
                    address: "127.0.0.1".into(),
                },
                403,
            ),
            (Error::Unsupported("no".into()), 400),
            (
                Error::SecretUnavailable {
                    field: "/config/password".into(),
                    kind: "env".into(),
                    message: "unset".into(),
                },
                422,
            ),
            (
                Error::VersionConflict {
                    id: "p".into(),
                    expected: 1,
                    actual: 2,
                },
                409,
            ),
            (Error::storage("x", std::io::Error::other("y")), 500),
        ];
        let documented = codes::documented();
        for (e, status) in cases {
            let e = ApiError::from(e);
            assert_eq!(e.status().as_u16(), status);
            assert!(documented.contains(&e.code()), "{} is documented", e.code());
        }
    }

    #[test]
    fn documented_codes_are_every_code_a_response_carries() {
        let documented = codes::documented();
        for code in patchbay_core::Error::CODES {
            let sent = if status_for(code).is_server_error() {
                codes::INTERNAL
            } else {
                code
            };
            assert!(documented.contains(&sent), "{code}");
        }
        for code in codes::ADAPTER {
            assert!(documented.contains(code), "{code}");
        }
        assert!(!documented.contains(&"STORAGE"));
        assert!(documented.contains(&"SECRET_UNAVAILABLE"));
    }

    #[test]
    fn storage_errors_leak_nothing() {
        let e = ApiError::from(Error::storage(
            "disk /var/db full",
            std::io::Error::other("EIO"),
        ));
        assert_eq!(e.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(e.code(), codes::INTERNAL);
        assert!(!e.message.contains("disk"));
        assert_eq!(e.details, json!({}));
    }
}
