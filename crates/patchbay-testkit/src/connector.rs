//! Conformance cases every [`Connector`] runs.
//!
//! Call them from the connector crate's tests with that connector and
//! configs pointing at real local services (or at [`crate::net`] targets).

use std::sync::Arc;
use std::time::Duration;

use patchbay_core::{
    AutocompleteQuery, Connector, Error, FailureReason, NetworkPolicy, NewProfile, ProfileService,
    ResolvedConfig,
};
use patchbay_store_memory::MemoryStore;
use serde_json::Value;
use tokio::time::Instant;

use crate::capture::Logs;
use crate::spellings::assert_clean;

/// The schema is a valid draft 2020-12 JSON Schema for an object that
/// rejects unknown fields; secret fields are strings marked `writeOnly`.
pub fn schema_is_valid(connector: &dyn Connector) {
    let schema = connector.config_schema();
    assert!(
        jsonschema::meta::is_valid(&schema),
        "{} schema is not a valid JSON Schema",
        connector.kind()
    );
    assert!(
        jsonschema::validator_for(&schema).is_ok(),
        "schema does not compile"
    );
    assert_eq!(schema["type"], "object", "config must be an object");
    assert_eq!(
        schema["additionalProperties"],
        Value::Bool(false),
        "unknown fields must be rejected"
    );
    for field in patchbay_core::schema::secret_fields(&schema) {
        let ty = &schema["properties"][&field]["type"];
        let is_string = ty == "string"
            || ty
                .as_array()
                .is_some_and(|t| t.iter().any(|t| t == "string"));
        assert!(is_string, "secret field {field} must be a string");
    }
}

/// Exactly `expected` are marked `writeOnly`.
pub fn secrets_are_marked(connector: &dyn Connector, expected: &[&str]) {
    let mut found = patchbay_core::schema::secret_fields(&connector.config_schema());
    found.sort();
    let mut expected: Vec<String> = expected.iter().map(|s| (*s).to_owned()).collect();
    expected.sort();
    assert_eq!(found, expected, "secret fields of {}", connector.kind());
}

fn service(connector: Arc<dyn Connector>) -> ProfileService {
    ProfileService::builder(Arc::new(MemoryStore::new()))
        .connector_arc(connector)
        .network_policy(NetworkPolicy::default())
        .probe_timeout(Duration::from_secs(5))
        .build()
        .expect("service")
}

/// Whether a string anywhere in `v` holds `needle`.
fn holds(v: &Value, needle: &str) -> bool {
    match v {
        Value::String(s) => s.contains(needle),
        Value::Array(a) => a.iter().any(|v| holds(v, needle)),
        Value::Object(o) => o.values().any(|v| holds(v, needle)),
        _ => false,
    }
}

/// Saves `config` (which holds `sentinel` in a secret field), then tests and
/// autocompletes through the service: no spelling of the sentinel (raw,
/// percent-encoded, escaped; see [`crate::spellings`]) and no long fragment
/// of it appears in a serialized profile, list, `Debug` string, report,
/// error (message, `Debug`, details, every source) or anything logged
/// through `tracing` or `log` meanwhile.
pub async fn sentinel_never_leaks(connector: Arc<dyn Connector>, config: Value, sentinel: &str) {
    assert!(
        holds(&config, sentinel),
        "the config must hold the sentinel"
    );
    let logs = Logs::start();
    let kind = connector.kind();
    let types = connector.autocomplete_types();
    let svc = service(connector);
    let new = NewProfile {
        name: crate::repository::unique("sentinel"),
        connector: kind.to_owned(),
        description: None,
        config,
        labels: Default::default(),
    };
    assert_clean("NewProfile Debug", &format!("{new:?}"), sentinel);
    let profile = svc.create(new.clone()).await.expect("create");
    assert_clean(
        "profile JSON",
        &serde_json::to_string(&profile).expect("json"),
        sentinel,
    );
    assert_clean("profile Debug", &format!("{profile:?}"), sentinel);
    let stored = svc.get(&profile.id).await.expect("get");
    assert_clean(
        "stored secrets",
        &format!("{:?}", stored.secrets.0),
        sentinel,
    );
    let page = svc.list(&Default::default()).await.expect("list");
    assert_clean(
        "list",
        &serde_json::to_string(&page.items).expect("json"),
        sentinel,
    );
    let mut outputs = vec![render(svc.test_profile(&profile.id, None).await)];
    outputs.push(render(svc.test_config(&new, None).await));
    for t in types.iter().copied().chain(["no-such-type"]) {
        outputs.push(render(
            svc.autocomplete(&profile.id, &AutocompleteQuery::new(t))
                .await,
        ));
    }
    for (i, out) in outputs.iter().enumerate() {
        assert_clean(&format!("probe output #{i}"), out, sentinel);
    }
    let logged = logs.text();
    // The capture works: opening the secrets emitted audit events.
    assert!(
        logged.contains("patchbay::audit"),
        "no audit event captured: {logged}"
    );
    assert_clean("tracing output", &logged, sentinel);
}

/// A result as every caller could see it: the value's `Debug`, or the
/// error's `Display`, `Debug`, details and whole source chain.
fn render<T: std::fmt::Debug>(r: Result<T, Error>) -> String {
    match r {
        Ok(v) => format!("{v:?}"),
        Err(e) => {
            let mut text = format!("{e} | {e:?} | {}", e.details());
            let mut next = std::error::Error::source(&e);
            while let Some(source) = next {
                text.push_str(&format!(" | {source} | {source:?}"));
                next = source.source();
            }
            text
        }
    }
}

/// Called directly with `config` pointing at a silent host, the connector
/// itself returns `timeout`, never before `budget` and without the service's
/// cut; the upper bound (twice the budget plus a second) is generous so a
/// loaded machine cannot fail it, while a connector that ignores the deadline
/// waits on the silent host far longer.
pub async fn deadline_is_honoured(connector: &dyn Connector, config: Value, budget: Duration) {
    let start = Instant::now();
    let result = connector
        .test(&ResolvedConfig::new(config), start + budget)
        .await;
    let took = start.elapsed();
    match result {
        Err(Error::ConnectionFailed(f)) => assert_eq!(f.reason, FailureReason::Timeout, "{f}"),
        other => panic!("expected a timeout failure, got {other:?}"),
    }
    assert!(
        took >= budget.mul_f64(0.9),
        "gave up early: {took:?} of {budget:?}"
    );
    // Generous for a loaded machine: a connector that ignores the deadline
    // waits on the silent host far longer (its own timeouts, or forever).
    assert!(
        took <= budget * 2 + Duration::from_secs(1),
        "overran: {took:?} of {budget:?}"
    );
}

/// With `config` pointing at a closed loopback port, the connector reports
/// `refused`, decided by the refusal: well within half its 10 s deadline.
pub async fn refused_is_fast(connector: &dyn Connector, config: Value) {
    let start = Instant::now();
    let result = connector
        .test(
            &ResolvedConfig::new(config),
            start + Duration::from_secs(10),
        )
        .await;
    let took = start.elapsed();
    match result {
        Err(Error::ConnectionFailed(f)) => assert_eq!(f.reason, FailureReason::Refused, "{f}"),
        other => panic!("expected a refused failure, got {other:?}"),
    }
    // Decided by the refusal, long before the 10 s deadline.
    assert!(took < Duration::from_secs(5), "refused took {took:?}");
}

/// With `config` naming a host the resolver refuses at once
/// ([`crate::net::UNRESOLVABLE_HOST`]), the connector reports `dns`; a
/// connector that misclassifies it, or waits for its deadline, reports
/// something else. (Whether the message names the host is up to each
/// connector's own tests: not every driver's error does.)
pub async fn unresolvable_is_dns(connector: &dyn Connector, config: Value) {
    let result = connector
        .test(
            &ResolvedConfig::new(config),
            Instant::now() + Duration::from_secs(10),
        )
        .await;
    match result {
        Err(Error::ConnectionFailed(f)) => assert_eq!(f.reason, FailureReason::Dns, "{f}"),
        other => panic!("expected a dns failure, got {other:?}"),
    }
}
