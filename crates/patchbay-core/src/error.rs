//! The one error type of patchbay, with a stable machine code per meaning.

use serde::Serialize;
use serde_json::{json, Value};

use crate::repository::Dependent;

/// `Result` with patchbay's [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Boxed source error kept in the chain of [`Error::Storage`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong, by meaning. Match on [`Error::code`] across
/// process boundaries; it never changes for a variant.
///
/// No variant ever carries a secret value: connector messages are scrubbed by
/// the service before they reach this type's `Display`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Input failed validation; every problem is listed.
    #[error("validation failed: {0}")]
    Validation(ValidationErrors),
    /// No profile with that id or name.
    #[error("connection profile {0} not found")]
    NotFound(String),
    /// A profile with that name (compared case-insensitively) exists; from
    /// `attach_named`, the dependent's name is claimed (`name` is its id).
    #[error("a connection profile named {name:?} already exists")]
    AlreadyExists {
        /// The name that was taken.
        name: String,
    },
    /// The profile changed since the caller read it.
    #[error("connection profile {id} is at version {actual}, not the expected {expected}")]
    VersionConflict {
        /// Profile id.
        id: String,
        /// Version the caller expected.
        expected: u64,
        /// Version currently stored.
        actual: u64,
    },
    /// The profile has dependents and cannot be deleted.
    #[error("connection profile {id} is in use by {}", describe(dependents))]
    InUse {
        /// Profile id.
        id: String,
        /// What still depends on it.
        dependents: Vec<Dependent>,
    },
    /// A provisioning source (a file, the environment) manages the profile:
    /// it is changed there, not through the API (unless the host allows
    /// drift).
    #[error("connection profile {name:?} is managed by {managed_by}; change it there")]
    Managed {
        /// Profile name.
        name: String,
        /// The source, such as `file:profiles.yaml` or `env`.
        managed_by: String,
    },
    /// No connector registered for that kind.
    #[error("unknown connector {0:?}")]
    UnknownConnector(String),
    /// A probe ran and failed.
    #[error("{0}")]
    ConnectionFailed(ProbeFailure),
    /// The network policy refused a probe target; nothing was sent to it.
    #[error("probe target {target} ({address}) is forbidden by the network policy")]
    TargetForbidden {
        /// `host:port` as configured.
        target: String,
        /// The resolved address that the policy refused.
        address: String,
    },
    /// The connector does not offer this operation.
    #[error("{0}")]
    Unsupported(String),
    /// A secret field could not be opened or resolved: a sealed value the
    /// keyring cannot open, or a reference (`{{ env:… }}`, `{{ file:… }}`,
    /// a host scheme) that is refused or fails. Names the field and the kind
    /// of secret, never the value, and never whether a file exists.
    #[error("secret {field} ({kind}) cannot be opened: {message}")]
    SecretUnavailable {
        /// JSON Pointer of the field, such as `/config/password`.
        field: String,
        /// `sealed`, or the reference scheme (`env`, `file`, `vault`…).
        kind: String,
        /// Why, without the value.
        message: String,
    },
    /// The repository (or the secret keyring) failed.
    #[error("storage error: {message}")]
    Storage {
        /// What failed, without secret material.
        message: String,
        /// The underlying error.
        #[source]
        source: Option<BoxError>,
    },
}

/// `connection_table t1, pipeline p1 and 3 more`.
fn describe(dependents: &[Dependent]) -> String {
    let mut text = dependents
        .iter()
        .take(5)
        .map(|d| format!("{} {}", d.kind, d.id))
        .collect::<Vec<_>>()
        .join(", ");
    if dependents.len() > 5 {
        text.push_str(&format!(" and {} more", dependents.len() - 5));
    }
    text
}

impl Error {
    /// Every value [`Error::code`] returns, for documents that list them
    /// (the OpenAPI error `code` enum). A unit test keeps it complete.
    pub const CODES: &'static [&'static str] = &[
        "VALIDATION_FAILED",
        "NOT_FOUND",
        "ALREADY_EXISTS",
        "VERSION_CONFLICT",
        "PROFILE_IN_USE",
        "PROFILE_MANAGED",
        "UNKNOWN_CONNECTOR",
        "CONNECTION_FAILED",
        "TARGET_FORBIDDEN",
        "UNSUPPORTED",
        "SECRET_UNAVAILABLE",
        "STORAGE",
    ];

    /// Stable machine-readable code, as used in the REST envelope.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Validation(_) => "VALIDATION_FAILED",
            Error::NotFound(_) => "NOT_FOUND",
            Error::AlreadyExists { .. } => "ALREADY_EXISTS",
            Error::VersionConflict { .. } => "VERSION_CONFLICT",
            Error::InUse { .. } => "PROFILE_IN_USE",
            Error::Managed { .. } => "PROFILE_MANAGED",
            Error::UnknownConnector(_) => "UNKNOWN_CONNECTOR",
            Error::ConnectionFailed(_) => "CONNECTION_FAILED",
            Error::TargetForbidden { .. } => "TARGET_FORBIDDEN",
            Error::Unsupported(_) => "UNSUPPORTED",
            Error::SecretUnavailable { .. } => "SECRET_UNAVAILABLE",
            Error::Storage { .. } => "STORAGE",
        }
    }

    /// Structured details for clients (the REST envelope's `details`).
    /// Storage errors expose nothing internal.
    pub fn details(&self) -> Value {
        match self {
            Error::Validation(errors) => json!({ "fields": errors.0 }),
            Error::NotFound(id) => json!({ "id": id }),
            Error::AlreadyExists { name } => json!({ "name": name }),
            Error::VersionConflict {
                id,
                expected,
                actual,
            } => json!({ "id": id, "expected_version": expected, "current_version": actual }),
            Error::InUse { id, dependents } => json!({ "id": id, "dependents": dependents }),
            Error::Managed { name, managed_by } => {
                json!({ "name": name, "managed_by": managed_by })
            }
            Error::UnknownConnector(kind) => json!({ "connector": kind }),
            Error::ConnectionFailed(failure) => failure.details(),
            Error::TargetForbidden { target, address } => {
                json!({ "target": target, "address": address })
            }
            Error::SecretUnavailable { field, kind, .. } => json!({ "field": field, "kind": kind }),
            Error::Unsupported(_) | Error::Storage { .. } => json!({}),
        }
    }

    /// A storage error with its source kept.
    pub fn storage(message: impl Into<String>, source: impl Into<BoxError>) -> Self {
        Error::Storage {
            message: message.into(),
            source: Some(source.into()),
        }
    }

    /// A validation error about one field.
    pub fn invalid(path: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Validation(ValidationErrors(vec![FieldError::new(path, message)]))
    }

    /// A failed probe with a classified reason and the upstream message.
    pub fn connection_failed(reason: FailureReason, message: impl Into<String>) -> Self {
        Error::ConnectionFailed(ProbeFailure::new(reason, message))
    }
}

/// One field problem: a JSON Pointer into the request and a human message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// JSON Pointer of the field, such as `/config/bootstrap_servers`.
    pub path: String,
    /// What is wrong, for a human.
    pub message: String,
}

impl FieldError {
    /// A problem at `path`.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// Every problem found in one input, never just the first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidationErrors(pub Vec<FieldError>);

impl ValidationErrors {
    /// `Err(Error::Validation)` when any problem was found.
    pub fn into_result(self) -> Result<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Error::Validation(self))
        }
    }
}

impl std::fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{}: {}", e.path, e.message)?;
        }
        Ok(())
    }
}

/// Why a probe failed, classified so callers can react without parsing text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FailureReason {
    /// A host name did not resolve.
    Dns,
    /// The target actively refused the connection.
    Refused,
    /// No answer before the deadline.
    Timeout,
    /// TLS handshake or certificate failure, or TLS required but refused.
    Tls,
    /// The server rejected the credentials.
    Auth,
    /// The database, vhost, stream… named in the config does not exist.
    NotFound,
    /// Anything else.
    Other,
}

impl FailureReason {
    /// The snake_case name used on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureReason::Dns => "dns",
            FailureReason::Refused => "refused",
            FailureReason::Timeout => "timeout",
            FailureReason::Tls => "tls",
            FailureReason::Auth => "auth",
            FailureReason::NotFound => "not_found",
            FailureReason::Other => "other",
        }
    }

    fn headline(self) -> &'static str {
        match self {
            FailureReason::Dns => "Host not found",
            FailureReason::Refused => "Connection refused",
            FailureReason::Timeout => "Timed out",
            FailureReason::Tls => "TLS failure",
            FailureReason::Auth => "Authentication failed",
            FailureReason::NotFound => "Not found",
            FailureReason::Other => "Connection failed",
        }
    }
}

/// A classified probe failure with the upstream system's own message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeFailure {
    /// The classified reason.
    pub reason: FailureReason,
    /// The upstream message (scrubbed of secrets by the service).
    pub message: String,
    /// Time from the start of the probe to the failure, when known.
    pub latency_ms: Option<u64>,
}

impl ProbeFailure {
    /// A failure without a latency yet (the service fills it in).
    pub fn new(reason: FailureReason, message: impl Into<String>) -> Self {
        Self {
            reason,
            message: message.into(),
            latency_ms: None,
        }
    }

    /// The seed's human `reason` string, such as `Authentication failed: bad password`.
    pub fn reason_text(&self) -> String {
        format!("{}: {}", self.reason.headline(), self.message)
    }

    /// The REST envelope's details: the seed's `reason` text plus the
    /// classified `reason_code`, the raw upstream message and the latency.
    pub fn details(&self) -> Value {
        let mut details = json!({
            "reason": self.reason_text(),
            "reason_code": self.reason.as_str(),
            "upstream_message": self.message,
        });
        if let Some(ms) = self.latency_ms {
            details["latency_ms"] = json!(ms);
        }
        details
    }
}

impl std::fmt::Display for ProbeFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "connection failed ({}): {}",
            self.reason.as_str(),
            self.message
        )
    }
}

#[cfg(test)]
mod code_list_tests {
    use super::*;

    /// One error of each variant. The match below stops compiling when a
    /// variant is added: add it here too, and its code to [`Error::CODES`].
    fn one_of_each() -> Vec<Error> {
        let all = vec![
            Error::invalid("/name", "bad"),
            Error::NotFound("p".into()),
            Error::AlreadyExists { name: "a".into() },
            Error::VersionConflict {
                id: "p".into(),
                expected: 1,
                actual: 2,
            },
            Error::InUse {
                id: "p".into(),
                dependents: vec![],
            },
            Error::Managed {
                name: "p".into(),
                managed_by: "env".into(),
            },
            Error::UnknownConnector("x".into()),
            Error::connection_failed(FailureReason::Auth, "no"),
            Error::TargetForbidden {
                target: "a:1".into(),
                address: "127.0.0.1".into(),
            },
            Error::Unsupported("no".into()),
            Error::SecretUnavailable {
                field: "/config/password".into(),
                kind: "env".into(),
                message: "unset".into(),
            },
            Error::storage("x", std::io::Error::other("y")),
        ];
        for e in &all {
            match e {
                Error::Validation(_)
                | Error::NotFound(_)
                | Error::AlreadyExists { .. }
                | Error::Managed { .. }
                | Error::VersionConflict { .. }
                | Error::InUse { .. }
                | Error::UnknownConnector(_)
                | Error::ConnectionFailed(_)
                | Error::TargetForbidden { .. }
                | Error::Unsupported(_)
                | Error::SecretUnavailable { .. }
                | Error::Storage { .. } => {}
            }
        }
        all
    }

    #[test]
    fn codes_lists_every_variant_once() {
        let codes: Vec<&str> = one_of_each().iter().map(Error::code).collect();
        assert_eq!(codes, Error::CODES);
    }
}
