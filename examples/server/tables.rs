//! A minimal `connection_tables` resource of the host's own: each table names
//! a profile, and is attached to it as a dependent through the service, so
//! deleting a profile in use answers 409 with the tables in its details.
//!
//! The store's dependents are the only record: at startup the registry is
//! rebuilt from them, so tables survive restarts with the database. Tables
//! are per tenant, like profiles: a caller sees and names only its tenant's.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::Extension;
use axum::{Json, Router};
use patchbay::repository::MAX_PAGE_SIZE;
use patchbay::{Dependent, Error, FieldError, ListQuery, ProfileId, ProfileService, TenantId};
use patchbay_http::{codes, require_role, ApiError, Principal, Role};
use serde_json::json;
use tokio::sync::Mutex;

const KIND: &str = "connection_table";

/// Tables of one tenant: name → profile id.
type Registry = BTreeMap<String, ProfileId>;

/// Each tenant's tables, shared by the handlers.
#[derive(Clone)]
pub struct Tables {
    service: ProfileService,
    by_tenant: Arc<Mutex<BTreeMap<TenantId, Registry>>>,
}

impl Tables {
    /// Rebuilds the registry from the dependents stored with each profile.
    pub async fn load(service: ProfileService) -> Result<Self, Error> {
        let mut by_tenant = BTreeMap::new();
        for tenant in service.repository().tenants().await? {
            let scoped = service.tenant(tenant.clone());
            let by_name: &mut Registry = by_tenant.entry(tenant).or_default();
            let mut query = ListQuery {
                limit: MAX_PAGE_SIZE,
                ..ListQuery::default()
            };
            loop {
                let page = scoped.list(&query).await?;
                for profile in &page.items {
                    for d in scoped.dependents(&profile.id).await? {
                        if d.kind == KIND {
                            by_name.insert(d.id, profile.id.clone());
                        }
                    }
                }
                match page.next_cursor {
                    Some(c) => query.after = Some(c),
                    None => break,
                }
            }
        }
        Ok(Self {
            service,
            by_tenant: Arc::new(Mutex::new(by_tenant)),
        })
    }

    /// `GET|POST {prefix}/connection_tables`, `DELETE {prefix}/connection_tables/{name}`.
    pub fn router<S: Clone + Send + Sync + 'static>(&self, prefix: &str) -> Router<S> {
        Router::new()
            // The adapter's roles: attaching and detaching are writes.
            .route(
                &format!("{prefix}/connection_tables"),
                require_role(Role::Read, get(list)).merge(require_role(Role::Write, post(create))),
            )
            .route(
                &format!("{prefix}/connection_tables/{{name}}"),
                require_role(Role::Write, delete(remove)),
            )
            .with_state(self.clone())
    }
}

fn view(name: &str, profile: &ProfileId) -> serde_json::Value {
    json!({ "name": name, "profile_id": profile })
}

async fn list(State(t): State<Tables>, Extension(caller): Extension<Principal>) -> Response {
    let by_tenant = t.by_tenant.lock().await;
    let data: Vec<_> = by_tenant
        .get(caller.tenant())
        .into_iter()
        .flatten()
        .map(|(n, p)| view(n, p))
        .collect();
    Json(json!({ "data": data })).into_response()
}

async fn create(
    State(t): State<Tables>,
    Extension(caller): Extension<Principal>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let value: serde_json::Value = serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            codes::MALFORMED_JSON,
            format!("Invalid body: {e}"),
            json!({}),
        )
    })?;
    let field = |name: &str| value.get(name).and_then(|v| v.as_str()).map(str::to_owned);
    let (Some(name), Some(profile_id)) = (field("name"), field("profile_id")) else {
        return Err(ApiError::fields(vec![FieldError::new(
            "",
            "expected {\"name\": string, \"profile_id\": string}",
        )]));
    };
    let profile = ProfileId::parse(&profile_id).ok_or_else(|| ApiError::not_found(&profile_id))?;
    // Held across the attach so two creates of one name cannot both attach.
    let mut by_tenant = t.by_tenant.lock().await;
    let by_name = by_tenant.entry(caller.tenant().clone()).or_default();
    if by_name.contains_key(&name) {
        return Err(ApiError::fields(vec![FieldError::new(
            "/name",
            "a connection table with this name exists",
        )]));
    }
    t.service
        .tenant(caller.tenant().clone())
        .attach(&profile, &Dependent::new(KIND, &name))
        .await?;
    by_name.insert(name.clone(), profile.clone());
    Ok((
        StatusCode::CREATED,
        Json(json!({ "data": view(&name, &profile) })),
    )
        .into_response())
}

async fn remove(
    State(t): State<Tables>,
    Extension(caller): Extension<Principal>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let mut by_tenant = t.by_tenant.lock().await;
    let by_name = by_tenant.entry(caller.tenant().clone()).or_default();
    let Some(profile) = by_name.get(&name).cloned() else {
        return Err(ApiError::new(
            "NOT_FOUND",
            format!("No connection table {name:?}"),
            json!({ "name": name }),
        ));
    };
    t.service
        .tenant(caller.tenant().clone())
        .detach(&profile, &Dependent::new(KIND, &name))
        .await?;
    by_name.remove(&name);
    Ok(
        Json(json!({ "data": { "message": "Connection table deleted successfully" } }))
            .into_response(),
    )
}
