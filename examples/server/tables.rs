//! A minimal `connection_tables` resource of the host's own: each table names
//! a profile, and deleting a profile in use answers 409 with the tables in
//! its details.
//!
//! Nothing is kept in this process: each table is a *named dependent* in the
//! store (`ProfileService::attach_named`), its name unique per tenant and its
//! attachment written in the same transaction, so every replica on the
//! database lists, creates and deletes the same tables, and a restart loses
//! nothing. Tables are per tenant, like profiles.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::Extension;
use axum::{Json, Router};
use patchbay::repository::MAX_PAGE_SIZE;
use patchbay::{Dependent, Error, FieldError, ListQuery, ProfileId, ProfileService};
use patchbay_http::{codes, require_role, ApiError, Principal, Role};
use serde_json::json;

const KIND: &str = "connection_table";

/// The handlers' state: the service, scoped per request by the caller's tenant.
#[derive(Clone)]
pub struct Tables {
    service: ProfileService,
}

impl Tables {
    /// Tables over `service`'s store (which must keep named dependents:
    /// memory, SQLite, Postgres).
    pub fn new(service: ProfileService) -> Self {
        Self { service }
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

    /// Claims the names of tables a build before named dependents left as
    /// plain attachments (walks every profile once; writes only what is
    /// unclaimed). Two old tables of one name keep the second as a plain
    /// attachment, still blocking its profile's deletion, and say so.
    pub async fn adopt_plain_attachments(&self) -> Result<usize, Error> {
        let mut adopted = 0;
        for tenant in self.service.repository().tenants().await? {
            let scoped = self.service.tenant(tenant.clone());
            let mut query = ListQuery {
                limit: MAX_PAGE_SIZE,
                ..ListQuery::default()
            };
            loop {
                let page = scoped.list(&query).await?;
                for profile in &page.items {
                    for d in scoped.dependents(&profile.id).await? {
                        if d.kind != KIND || scoped.named_dependent(&d).await?.is_some() {
                            continue;
                        }
                        match scoped.attach_named(&profile.id, &d).await {
                            Ok(()) => adopted += 1,
                            Err(Error::AlreadyExists { .. }) => tracing::warn!(
                                %tenant, table = %d.id, profile = %profile.id,
                                "a second connection table of this name stays a plain attachment"
                            ),
                            Err(e) => return Err(e),
                        }
                    }
                }
                match page.next_cursor {
                    Some(c) => query.after = Some(c),
                    None => break,
                }
            }
        }
        Ok(adopted)
    }

    fn scoped(&self, caller: &Principal) -> ProfileService {
        self.service.tenant(caller.tenant().clone())
    }
}

fn view(name: &str, profile: &ProfileId) -> serde_json::Value {
    json!({ "name": name, "profile_id": profile })
}

/// Every table of the caller's tenant, in name order (read page by page).
async fn list(
    State(t): State<Tables>,
    Extension(caller): Extension<Principal>,
) -> Result<Response, ApiError> {
    let service = t.scoped(&caller);
    let mut data = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = service
            .named_dependents(KIND, after.as_deref(), MAX_PAGE_SIZE)
            .await?;
        let full = page.len() == MAX_PAGE_SIZE;
        data.extend(page.iter().map(|a| view(&a.dependent.id, &a.profile_id)));
        match page.last() {
            Some(last) if full => after = Some(last.dependent.id.clone()),
            _ => break,
        }
    }
    Ok(Json(json!({ "data": data })).into_response())
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
    // The store decides a race between replicas: one claim of a name wins.
    match t
        .scoped(&caller)
        .attach_named(&profile, &Dependent::new(KIND, &name))
        .await
    {
        Ok(()) => Ok((
            StatusCode::CREATED,
            Json(json!({ "data": view(&name, &profile) })),
        )
            .into_response()),
        Err(Error::AlreadyExists { .. }) => Err(ApiError::new(
            "ALREADY_EXISTS",
            format!("A connection table named {name:?} exists"),
            json!({ "name": name }),
        )),
        Err(Error::Validation(e)) => Err(ApiError::fields(named_paths(e.0))),
        Err(e) => Err(e.into()),
    }
}

/// The dependent's `/id` is the table's `/name`.
fn named_paths(errors: Vec<FieldError>) -> Vec<FieldError> {
    errors
        .into_iter()
        .map(|e| match e.path.as_str() {
            "/id" => FieldError::new("/name", e.message),
            _ => e,
        })
        .collect()
}

async fn remove(
    State(t): State<Tables>,
    Extension(caller): Extension<Principal>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let service = t.scoped(&caller);
    let dependent = Dependent::new(KIND, &name);
    let missing = || {
        ApiError::new(
            "NOT_FOUND",
            format!("No connection table {name:?}"),
            json!({ "name": name }),
        )
    };
    let profile = match service.named_dependent(&dependent).await {
        Ok(Some(profile)) => profile,
        Ok(None) | Err(Error::Validation(_)) => return Err(missing()),
        Err(e) => return Err(e.into()),
    };
    // Detaching drops the name with the attachment; a concurrent delete of
    // the same table (on any replica) leaves this one nothing to detach.
    match service.detach(&profile, &dependent).await {
        Ok(true) => {}
        Ok(false) | Err(Error::NotFound(_)) => return Err(missing()),
        Err(e) => return Err(e.into()),
    }
    Ok(
        Json(json!({ "data": { "message": "Connection table deleted successfully" } }))
            .into_response(),
    )
}
