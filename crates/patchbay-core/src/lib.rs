//! Core of patchbay: the connection-profile model, the [`ProfileRepository`]
//! and [`Connector`] traits, and [`ProfileService`], the one entry point.
//!
//! This crate depends on no database or broker driver: stores and connectors
//! are sibling crates.
#![warn(missing_docs)]

pub mod audit;
pub mod connector;
pub mod error;
pub mod input;
pub mod key_check;
pub mod labels;
pub mod policy;
pub mod profile;
pub mod progress;
pub mod registry;
pub mod repository;
pub mod resolved;
mod resolved_config;
pub mod schema;
pub mod scrub;
pub mod seal;
pub mod secret;
pub mod secret_access;
mod service;
pub mod tenant;
pub mod uri;
pub mod watch;

pub use audit::{AuditAction, AuditEvent, AuditOutcome, AuditQuery, AuditSink};
pub use connector::{
    AutocompleteQuery, CheckedAddrs, Connector, Endpoint, ResolvedConfig, Suggestion, TestDetails,
    TestReport,
};
pub use error::{Error, FailureReason, FieldError, ProbeFailure, Result, ValidationErrors};
pub use key_check::{KeyCheck, KeyCheckStatus};
pub use labels::Labels;
pub use policy::NetworkPolicy;
pub use profile::{NewProfile, Profile, ProfileId, ProfileUpdate, SealedSecrets};
pub use progress::{NoProgress, Progress};
pub use registry::{ConnectorInfo, ConnectorRegistry};
pub use repository::{Attachment, Dependent, ListQuery, Page, ProfileRepository};
pub use resolved::{
    ConnectorConfig, Override, OverrideKind, ProfileRef, ResolveRequest, ResolvedProfile,
    SecretOpened,
};
pub use seal::{Key, Keyring, Sealer};
pub use secret::{Secret, SecretRef, SecretResolver};
pub use secret_access::{EnvFileResolver, SecretAccess};
pub use service::{
    CheckedProfile, ProfileService, ProfileServiceBuilder, ResealReport, SkippedProfile,
    DEFAULT_MAX_CONCURRENT_PROBES, DEFAULT_MAX_PROBE_TIMEOUT, DEFAULT_PROBE_TIMEOUT,
    MANAGED_BY_LABEL, RESERVED_LABEL_PREFIX,
};
pub use tenant::{InvalidTenant, TenantId, MAX_TENANT_LEN};
pub use uri::ConnectionUri;

/// Re-exported so connectors and hosts use the same versions.
pub use watch::{ChangeBroadcast, ProfileEvent, ProfileEvents};

/// Re-exported so connectors and hosts use the same versions.
pub use futures_util::stream::Stream;
/// Re-exported so connectors and hosts use the same versions.
pub use {async_trait::async_trait, schemars, secrecy, serde_json, time};
