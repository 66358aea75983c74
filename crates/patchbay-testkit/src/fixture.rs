//! What a connector crate gives [`connector_suite!`](crate::connector_suite):
//! its connector and configs for each target the cases need.

use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use patchbay_core::Connector;
use serde_json::Value;

use crate::connector;
use crate::net::{refused_port, SilentListener, UNRESOLVABLE_HOST};

/// A connector under test, as [`connector_suite!`](crate::connector_suite)
/// needs it. Every method but [`live`](Fixture::live) works offline.
#[async_trait]
pub trait Fixture: Send + Sync {
    /// The connector.
    fn connector(&self) -> Arc<dyn Connector>;
    /// The fields its schema must mark `writeOnly`, no more and no fewer.
    fn secret_fields(&self) -> &'static [&'static str];
    /// A valid config for a server at `host:port`, without secrets.
    fn config_at(&self, host: &str, port: u16) -> Value;
    /// `config` with the secret `field` holding `value`: as the whole
    /// field, or inside the format the field takes (such as a `.creds`
    /// file), with whatever else the field needs to be valid.
    fn with_secret(&self, mut config: Value, field: &str, value: &str) -> Value {
        config[field] = Value::from(value);
        config
    }
    /// Configs reaching the live service, each as it is before a secret
    /// is set; the sentinel case sets every secret field in turn. `None`
    /// when the service is missing (from [`crate::net::require`]).
    async fn live(&self) -> Option<Live>;
    /// The silent-host case's budget.
    fn deadline_budget(&self) -> Duration {
        Duration::from_millis(1500)
    }
}

/// Live targets, and what keeps them up (private servers) until dropped.
pub struct Live {
    /// Configs to probe with a sentinel in each secret field in turn.
    pub configs: Vec<Value>,
    /// Held for the case's duration.
    pub guard: Box<dyn Any + Send + Sync>,
}

impl Live {
    /// Live targets with nothing to keep up.
    pub fn new(configs: Vec<Value>) -> Self {
        Self::guarded(configs, ())
    }

    /// Live targets kept up by `guard`.
    pub fn guarded(configs: Vec<Value>, guard: impl Any + Send + Sync) -> Self {
        Self {
            configs,
            guard: Box::new(guard),
        }
    }
}

/// `connector::schema_is_valid`.
pub fn schema_is_valid(f: &dyn Fixture) {
    connector::schema_is_valid(&*f.connector());
}

/// `connector::secrets_are_marked` with the fixture's fields.
pub fn secrets_are_marked(f: &dyn Fixture) {
    connector::secrets_are_marked(&*f.connector(), f.secret_fields());
}

/// For every secret field of the schema (not of a list a connector keeps
/// by hand), every [`crate::spellings::sentinels`] value in that field, on
/// every live config: [`connector::sentinel_never_leaks`].
pub async fn sentinel_never_leaks(f: &dyn Fixture) {
    let Some(live) = f.live().await else { return };
    let conn = f.connector();
    let fields = patchbay_core::schema::secret_fields(&conn.config_schema());
    assert!(!fields.is_empty(), "no secret field to check");
    for field in &fields {
        for sentinel in crate::spellings::sentinels() {
            for base in &live.configs {
                let config = f.with_secret(base.clone(), field, &sentinel);
                let held = config[field.as_str()]
                    .as_str()
                    .is_some_and(|v| v.contains(sentinel.as_str()));
                assert!(held, "with_secret must put the sentinel in {field}");
                eprintln!("sentinel in {field}: {sentinel}");
                connector::sentinel_never_leaks(conn.clone(), config, &sentinel).await;
            }
        }
    }
    drop(live.guard);
}

/// `connector::deadline_is_honoured` against a silent loopback listener.
pub async fn deadline_is_honoured(f: &dyn Fixture) {
    let silent = SilentListener::bind().await;
    let config = f.config_at("127.0.0.1", silent.port());
    connector::deadline_is_honoured(&*f.connector(), config, f.deadline_budget()).await;
}

/// `connector::refused_is_fast` against a closed loopback port.
pub async fn refused_is_fast(f: &dyn Fixture) {
    let config = f.config_at("127.0.0.1", refused_port());
    connector::refused_is_fast(&*f.connector(), config).await;
}

/// `connector::unresolvable_is_dns` for a host the resolver refuses.
pub async fn unresolvable_is_dns(f: &dyn Fixture) {
    let config = f.config_at(UNRESOLVABLE_HOST, 4000);
    connector::unresolvable_is_dns(&*f.connector(), config).await;
}
