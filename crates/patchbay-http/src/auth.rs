//! The authorization hook: which role each route needs, the guard that checks
//! the request's [`Principal`] against it, and the document's security scheme.
//!
//! Authentication is the host's: its own layer puts a `Principal` into the
//! request extensions. The adapter only authorizes.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use serde_json::{json, Value};

use crate::error::{codes, ApiError};
use crate::principal::{Principal, Role};

/// The role each route of the adapter needs, by method and path (relative to
/// the mount path). The router and the OpenAPI document both read it; a
/// route missing here needs `admin`.
const ROUTE_ROLES: &[(&str, &str, Role)] = &[
    ("GET", "/connection_profiles", Role::Read),
    ("POST", "/connection_profiles", Role::Write),
    // Tests and autocomplete open secrets and connect out.
    ("POST", "/connection_profiles/test", Role::Test),
    ("GET", "/connection_profiles/{id}", Role::Read),
    ("PATCH", "/connection_profiles/{id}", Role::Write),
    ("DELETE", "/connection_profiles/{id}", Role::Write),
    ("POST", "/connection_profiles/{id}/test", Role::Test),
    ("GET", "/connection_profiles/{id}/autocomplete", Role::Test),
    ("GET", "/connection_profiles/{id}/dependents", Role::Read),
    ("GET", "/connectors", Role::Read),
    ("GET", "/openapi.json", Role::Read),
    // Who did what in the tenant: for its administrators.
    ("GET", "/audit", Role::Admin),
];

/// The role `method path` needs; `admin` for anything not listed.
pub(crate) fn role_for(method: &str, path: &str) -> Role {
    ROUTE_ROLES
        .iter()
        .find(|(m, p, _)| m.eq_ignore_ascii_case(method) && *p == path)
        .map_or(Role::Admin, |(_, _, role)| *role)
}

/// What a guard checks: the role needed, and who a request without a
/// principal stands for (none: it is refused).
#[derive(Clone)]
struct Guard {
    role: Role,
    anonymous: Option<Arc<Principal>>,
}

/// Wraps `route` so that it answers only requests whose [`Principal`] (in
/// the request extensions) holds a role implying `role`: 401
/// `UNAUTHENTICATED` without a principal, 403 `FORBIDDEN` with too weak a
/// one, both in the API's error envelope. For the host's own routes that sit
/// beside the adapter's, such as a resource that attaches dependents.
///
/// ```
/// use axum::routing::{get, post};
/// use patchbay_http::{require_role, Role};
///
/// let routes: axum::Router = axum::Router::new().route(
///     "/tables",
///     require_role(Role::Read, get(|| async { "[]" }))
///         .merge(require_role(Role::Write, post(|| async { "ok" }))),
/// );
/// ```
pub fn require_role<S>(role: Role, route: MethodRouter<S>) -> MethodRouter<S>
where
    S: Clone + Send + Sync + 'static,
{
    guarded(role, None, route)
}

/// [`require_role`] with a principal standing in for requests that carry none.
pub(crate) fn guarded<S>(
    role: Role,
    anonymous: Option<Arc<Principal>>,
    route: MethodRouter<S>,
) -> MethodRouter<S>
where
    S: Clone + Send + Sync + 'static,
{
    route.route_layer(middleware::from_fn_with_state(
        Guard { role, anonymous },
        authorize,
    ))
}

async fn authorize(State(guard): State<Guard>, mut req: Request, next: Next) -> Response {
    let allowed = match req.extensions().get::<Principal>() {
        Some(p) => p.allows(guard.role),
        None => match &guard.anonymous {
            Some(anon) => {
                // Handlers read the principal (its tenant scopes every profile) from
                // the extensions whichever way it arrived.
                let anon = Principal::clone(anon);
                let ok = anon.allows(guard.role);
                req.extensions_mut().insert(anon);
                ok
            }
            None => return unauthenticated(),
        },
    };
    if allowed {
        next.run(req).await
    } else {
        forbidden(guard.role)
    }
}

/// 401 `UNAUTHENTICATED` with `WWW-Authenticate: Bearer` (RFC 6750). The
/// same answer for a missing and a wrong credential.
pub fn unauthenticated() -> Response {
    let mut res = ApiError::new(
        codes::UNAUTHENTICATED,
        "Authentication is required: send a valid bearer token",
        json!({}),
    )
    .into_response();
    res.headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    res
}

fn forbidden(needed: Role) -> Response {
    ApiError::new(
        codes::FORBIDDEN,
        format!("This route needs the {needed} role"),
        json!({ "required_role": needed.as_str() }),
    )
    .into_response()
}

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Adds the bearer security scheme to the OpenAPI document, the role each
/// operation needs to its description (and as `x-required-role`), and the
/// 401 and 403 answers to every operation.
pub(crate) fn document_security(doc: &mut Value) {
    doc["components"]["securitySchemes"]["bearer"] = json!({
        "type": "http",
        "scheme": "bearer",
        "description": "A token the host's authentication accepts; the standalone server \
            reads them from its token file. Each token carries a tenant and a role: \
            read < test < write < admin, each implying the ones before it.",
    });
    // `{}`: a host may serve anonymous requests (`allow_anonymous`, the
    // server example on loopback without tokens); the document is shared by both.
    doc["security"] = json!([{ "bearer": [] }, {}]);
    let error = json!({ "$ref": "#/components/schemas/ErrorResponse" });
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, op) in item.iter_mut() {
            if !METHODS.contains(&method.as_str()) {
                continue; // `parameters`, `summary`… of the path item
            }
            let role = role_for(method, path);
            let text = format!("Requires the `{role}` role (or a stronger one).");
            op["description"] = match op.get("description").and_then(Value::as_str) {
                Some(d) if !d.is_empty() => Value::String(format!("{d}\n\n{text}")),
                _ => Value::String(text),
            };
            op["x-required-role"] = Value::String(role.as_str().to_owned());
            let responses = &mut op["responses"];
            if responses.get("401").is_none() {
                responses["401"] = json!({
                    "description": "No principal: a missing or wrong bearer token (`UNAUTHENTICATED`)",
                    "content": { "application/json": { "schema": error } },
                });
            }
            if responses.get("403").is_none() {
                responses["403"] = json!({
                    "description": "The caller's role does not cover this route (`FORBIDDEN`)",
                    "content": { "application/json": { "schema": error } },
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_routes_need_admin() {
        assert_eq!(role_for("GET", "/connection_profiles"), Role::Read);
        assert_eq!(role_for("get", "/connection_profiles"), Role::Read);
        assert_eq!(
            role_for("POST", "/connection_profiles/{id}/test"),
            Role::Test
        );
        assert_eq!(role_for("PUT", "/connection_profiles/{id}"), Role::Admin);
        assert_eq!(role_for("GET", "/audit"), Role::Admin);
    }
}
