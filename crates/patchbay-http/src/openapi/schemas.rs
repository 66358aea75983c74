//! Schemas of the request and response bodies, for the document only; the
//! handlers parse into the core types and render with `crate::render`.
#![allow(dead_code)]

use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use std::collections::BTreeMap;

use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::RefOr;

use crate::render::ProfileView;

/// A label key: 1-63 of `a-z`, `0-9`, `_`, `.`, `-`, `/`.
const LABEL_KEY: &str = "^[a-z0-9_./-]{1,63}$";
/// A label value: at most 63 characters, none a control character.
const LABEL_VALUE: &str = "^[^\\u0000-\\u001f\\u007f-\\u009f]{0,63}$";

fn label_value() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .max_length(Some(63))
        .pattern(Some(LABEL_VALUE))
}

fn labels_object(value: Schema) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::Object))
        .max_properties(Some(patchbay_core::labels::MAX_LABELS))
        .property_names(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(LABEL_KEY)),
        ))
        .additional_properties(Some(RefOr::T(value)))
}

/// Labels: at most 16; keys `[a-z0-9_./-]{1,63}`; values up to 63
/// characters without control characters.
pub(crate) fn labels_schema() -> Schema {
    Schema::Object(labels_object(Schema::Object(label_value().build())).build())
}

/// A merge patch of labels: values as in [`labels_schema`], or `null`.
pub(crate) fn labels_patch_schema() -> Schema {
    let value = label_value()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .build();
    Schema::Object(labels_object(Schema::Object(value)).build())
}

/// A new profile from a connection URI (`postgresql://app:pw@db/orders?sslmode=require`):
/// the connector is the scheme's, the password becomes a sealed secret.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "orders-db",
    "uri": "postgresql://app:s3cret@127.0.0.1:5432/test?sslmode=disable"
}))]
pub struct NewProfileFromUri {
    /// Unique name: ASCII letters, digits, `-`, `_`, `.`; starts with a letter or digit.
    #[schema(
        min_length = 1,
        max_length = 128,
        pattern = "^[A-Za-z0-9][A-Za-z0-9._-]*$"
    )]
    name: String,
    /// Connection URI of a registered scheme (see the pattern); reserved
    /// characters in the user name and password percent-encoded.
    #[schema(min_length = 1, max_length = 4096)]
    uri: String,
    /// Free text.
    #[schema(max_length = 1024)]
    description: Option<String>,
    /// Labels, such as `{"env": "prod"}`.
    #[schema(schema_with = labels_schema, required = false)]
    labels: Option<BTreeMap<String, String>>,
}

/// A new profile (also the body of a test of an unsaved config).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "local-postgres",
    "connector": "postgres",
    "description": "The database next door",
    "config": {"host": "127.0.0.1", "port": 5432, "database": "test",
               "username": "postgres", "password": "s3cret"}
}))]
pub struct NewProfileRequest {
    /// Unique name: ASCII letters, digits, `-`, `_`, `.`; starts with a letter or digit.
    #[schema(
        min_length = 1,
        max_length = 128,
        pattern = "^[A-Za-z0-9][A-Za-z0-9._-]*$"
    )]
    name: String,
    /// Connector kind (see `/connectors`).
    connector: String,
    /// Free text.
    #[schema(max_length = 1024)]
    description: Option<String>,
    /// Connector configuration, secrets included (in plain text or as
    /// `{{ env:VAR }}` / `{{ file:/path }}` references).
    #[schema(value_type = Object)]
    config: Map<String, Value>,
    /// Labels, such as `{"env": "prod"}`.
    #[schema(schema_with = labels_schema, required = false)]
    labels: Option<BTreeMap<String, String>>,
}

/// An unsaved config to test: the body of a create, with an optional
/// (possibly empty) name, since nothing is stored.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "",
    "connector": "postgres",
    "config": {"host": "127.0.0.1", "port": 5432, "database": "test",
               "username": "postgres", "password": "s3cret"}
}))]
pub struct TestProfileRequest {
    /// Checked like a create's name when not empty.
    #[schema(max_length = 128, pattern = "^([A-Za-z0-9][A-Za-z0-9._-]*)?$")]
    name: String,
    /// Connector kind (see `/connectors`).
    connector: String,
    /// Free text (not checked: nothing is stored).
    description: Option<String>,
    /// Connector configuration, secrets included.
    #[schema(value_type = Object)]
    config: Map<String, Value>,
}

/// A partial update; omitted fields keep their value.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"description": "Primary, read-write", "config": {"port": 5433}, "version": 1}))]
pub struct UpdateProfileRequest {
    /// New name.
    #[schema(
        nullable = false,
        min_length = 1,
        max_length = 128,
        pattern = "^[A-Za-z0-9][A-Za-z0-9._-]*$"
    )]
    name: Option<String>,
    /// New description; `null` clears it.
    #[schema(max_length = 1024)]
    description: Option<String>,
    /// JSON merge patch (RFC 7386) over the config: given fields replace,
    /// `null` removes, omitted fields (secrets included) are kept.
    #[schema(value_type = Object, nullable = false, required = false)]
    config: Option<Map<String, Value>>,
    /// JSON merge patch over the labels: a string sets a label, `null`
    /// removes it, omitted labels are kept.
    #[schema(schema_with = labels_patch_schema, required = false)]
    labels: Option<Map<String, Value>>,
    /// The version read earlier; a different stored version is a 409.
    #[schema(nullable = false, minimum = 0)]
    version: Option<u64>,
}

/// `{"data": profile}`.
#[derive(ToSchema)]
pub struct ProfileResponse {
    data: ProfileView<'static>,
}

/// A page of profiles.
#[derive(ToSchema)]
pub struct ProfileListResponse {
    data: Vec<ProfileView<'static>>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    #[schema(required = true)]
    next_cursor: Option<String>,
}

/// A successful test.
#[derive(ToSchema)]
pub struct TestResult {
    /// Always `true` (failures are errors).
    success: bool,
    /// Such as `Connection successful`.
    message: String,
    /// Measurements; connectors may add their own fields.
    details: TestDetails,
}

/// Measurements of a test.
#[derive(ToSchema)]
pub struct TestDetails {
    /// Milliseconds from the start of the probe to the answer.
    #[schema(minimum = 0)]
    latency_ms: u64,
    /// The server's version, when it said.
    #[schema(nullable = false)]
    version: Option<String>,
}

/// `{"data": test result}`.
#[derive(ToSchema)]
pub struct TestResponse {
    data: TestResult,
}

/// One suggestion.
#[derive(ToSchema)]
pub struct Suggestion {
    /// What to insert, such as `public.users`.
    value: String,
    /// What to show, such as `users`.
    label: String,
    /// Singular type, such as `table`.
    #[schema(rename = "type")]
    kind: String,
    /// Extra facts (row counts, partitions…).
    #[schema(value_type = Object)]
    metadata: Map<String, Value>,
}

/// Suggestions.
#[derive(ToSchema)]
pub struct Suggestions {
    suggestions: Vec<Suggestion>,
}

/// `{"data": {"suggestions": [...]}}`.
#[derive(ToSchema)]
pub struct SuggestionsResponse {
    data: Suggestions,
}

/// A message.
#[derive(ToSchema)]
pub struct Message {
    /// `Connection profile deleted successfully`.
    message: String,
}

/// `{"data": {"message": …}}`.
#[derive(ToSchema)]
pub struct DeletedResponse {
    data: Message,
}

/// Something that uses a profile.
#[derive(ToSchema)]
pub struct Dependent {
    /// Such as `connection_table`.
    kind: String,
    /// Its id in the host application.
    id: String,
}

/// `{"data": [dependent]}`.
#[derive(ToSchema)]
pub struct DependentsResponse {
    data: Vec<Dependent>,
}

/// A connector.
#[derive(ToSchema)]
pub struct Connector {
    /// Such as `kafka`.
    kind: String,
    /// One line for humans.
    description: String,
    /// JSON Schema (2020-12) of the config; secrets are `writeOnly`.
    #[schema(value_type = Object)]
    schema: Value,
    /// Names of the secret fields.
    secret_fields: Vec<String>,
    /// Autocomplete `type`s served.
    autocomplete_types: Vec<String>,
}

/// `{"data": [connector]}`.
#[derive(ToSchema)]
pub struct ConnectorsResponse {
    data: Vec<Connector>,
}

/// An error.
#[derive(ToSchema)]
pub struct ErrorBody {
    /// Stable machine code, such as `VALIDATION_FAILED` or `CONNECTION_FAILED`
    /// (the enum is filled in from `crate::error::codes::documented`).
    code: String,
    /// For humans.
    message: String,
    /// Structured details: `fields` for validation, `dependents` for a
    /// profile in use, `reason`/`reason_code`/`upstream_message` for a failed test.
    #[schema(value_type = Object)]
    details: Value,
}

/// `{"error": …}`.
#[derive(ToSchema)]
pub struct ErrorResponse {
    error: ErrorBody,
}

/// One audit event.
#[derive(ToSchema)]
pub struct AuditEventView {
    /// Position in the trail (ascending).
    #[schema(minimum = 1)]
    seq: u64,
    /// When (RFC 3339, UTC).
    #[schema(value_type = String, format = DateTime)]
    at: String,
    /// Who: the principal's subject (a token's name, a user id), when named.
    principal: Option<String>,
    /// What was done.
    #[schema(value_type = String, example = "update")]
    action: String,
    /// Which profile, when one was named.
    profile_id: Option<String>,
    /// The profile's version written, opened or refused, when known.
    #[schema(minimum = 0)]
    version: Option<u64>,
    /// `success` or `failure`.
    #[schema(value_type = String, example = "success")]
    outcome: String,
    /// The error code of a failure.
    error_code: Option<String>,
}

/// A page of the audit trail.
#[derive(ToSchema)]
pub struct AuditListResponse {
    data: Vec<AuditEventView>,
    /// Pass as `after` for the next page; `null` on the last page.
    #[schema(required = true)]
    next_cursor: Option<String>,
}
