//! The OpenAPI 3.1 document, generated from the handlers' annotations and
//! completed at startup with what only the registry knows: one request
//! variant per connector, whose `config` is the schema `/connectors` serves.

mod connectors;
pub(crate) mod schemas;

use patchbay_core::ProfileService;
use serde_json::{json, Value};
use utoipa::OpenApi;

use crate::error::codes;
use crate::handlers::{audit, meta, probes, profiles};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "patchbay connection profiles",
        description = "Stored, validated, sealed connection profiles, tested against the live system. \
            Successes are `{\"data\": …}`; every error is `{\"error\": {\"code\", \"message\", \"details\"}}`."
    ),
    paths(
        profiles::list, profiles::create, probes::test_config, profiles::get, profiles::update,
        profiles::delete, probes::test_profile, probes::autocomplete, meta::dependents,
        meta::connectors, meta::openapi, audit::list,
    ),
    tags(
        (name = "connection_profiles", description = "Connection profiles"),
        (name = "connectors", description = "What can be connected to"),
        (name = "meta", description = "About this API"),
        (name = "audit", description = "Who changed or opened which profile"),
    ),
    // The URI form of a create body; joined to the request union at startup.
    components(schemas(schemas::NewProfileFromUri)),
)]
struct ApiDoc;

/// The document, with the request bodies split by connector (see
/// [`connectors`]), the error codes and autocomplete types as enums, and
/// `servers` set to the mount path when known.
pub(crate) fn document(service: &ProfileService, mount_path: Option<&str>) -> Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_else(|_| json!({}));
    let infos = service.connectors();
    connectors::complete(&mut doc, &infos);
    let codes: Vec<Value> = codes::documented().into_iter().map(Value::from).collect();
    if let Some(code) = doc.pointer_mut("/components/schemas/ErrorBody/properties/code") {
        code["enum"] = Value::Array(codes);
    }
    crate::auth::document_security(&mut doc);
    if let Some(path) = mount_path {
        doc["servers"] = json!([{ "url": path.trim_end_matches('/') }]);
    }
    doc
}
