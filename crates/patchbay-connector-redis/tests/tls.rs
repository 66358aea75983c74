//! Certificate checks against a real TLS listener (`redis-server
//! --tls-port`, started by `scripts/services/tls.sh` with a test CA): the
//! right CA and name succeed, a wrong CA or host name fails as `tls`, and
//! `insecure_skip_verify` is the only way past a bad certificate.

use std::time::Duration;

use patchbay_connector_redis::{client, RedisConfig, RedisConnector};
use patchbay_core::{AutocompleteQuery, Connector, Error, FailureReason, ResolvedConfig};
use patchbay_testkit::tls::TlsListener;
use serde_json::{json, Value};
use tokio::time::{timeout, Instant};

fn listener() -> Option<TlsListener> {
    TlsListener::require("REDIS")
}

fn config(addr: String, ca: Option<&str>) -> Value {
    json!({ "addresses": [addr], "tls": { "enabled": true, "ca_cert_pem": ca } })
}

fn deadline() -> Instant {
    Instant::now() + Duration::from_secs(10)
}

async fn probe(cfg: &Value) -> Result<patchbay_core::TestReport, Error> {
    RedisConnector
        .test(&ResolvedConfig::new(cfg.clone()), deadline())
        .await
}

/// The probe's failure, which must be `tls`.
fn tls_failure(result: Result<patchbay_core::TestReport, Error>, what: &str) -> String {
    match result {
        Err(Error::ConnectionFailed(f)) if f.reason == FailureReason::Tls => f.message,
        other => panic!("{what}: expected a tls failure, got {other:?}"),
    }
}

/// Whether the public builder's client connects and answers PING (bounded).
async fn builder_connects(cfg: &Value) -> bool {
    let typed: RedisConfig = serde_json::from_value(cfg.clone()).expect("config");
    let work = async {
        let mut conn = client(&typed)
            .expect("client")
            .get_multiplexed_async_connection()
            .await
            .ok()?;
        redis::cmd("PING")
            .query_async::<String>(&mut conn)
            .await
            .ok()
    };
    timeout(Duration::from_secs(10), work)
        .await
        .expect("the builder's client connects or fails within 10 s")
        .is_some()
}

#[tokio::test]
async fn trusted_ca_probe_client_and_autocomplete_work() {
    let Some(l) = listener() else { return };
    let cfg = config(l.host_port(), Some(&l.ca_pem));
    let report = probe(&cfg).await.expect("probe over TLS");
    assert!(report.details.version.is_some(), "{report:?}");

    // Real work with the builder's client: write, read back, then find the
    // key with the connector's own autocomplete, all over TLS.
    let typed: RedisConfig = serde_json::from_value(cfg.clone()).unwrap();
    let key = format!("patchbay-tls-{}", uuid::Uuid::new_v4().simple());
    let mut conn = client(&typed)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .expect("the builder's client connects over TLS");
    let () = redis::cmd("SET")
        .arg(&key)
        .arg("over tls")
        .query_async(&mut conn)
        .await
        .unwrap();
    let got: String = redis::cmd("GET")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(got, "over tls");
    let mut query = AutocompleteQuery::new("keys");
    query.prefix = Some(key.clone());
    let found = RedisConnector
        .autocomplete(&ResolvedConfig::new(cfg), &query, deadline())
        .await
        .expect("autocomplete over TLS");
    assert_eq!(
        found.iter().map(|s| s.value.as_str()).collect::<Vec<_>>(),
        [key.as_str()]
    );
    let () = redis::cmd("DEL")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .unwrap();
}

/// Every way to get the certificate wrong.
fn bad_configs(l: &TlsListener) -> Vec<(Value, &'static str)> {
    vec![
        // A CA with the CA's name but another key: only the signature differs.
        (config(l.host_port(), Some(&l.wrong_ca_pem)), "wrong CA"),
        // No CA given: the system roots do not know the test CA.
        (config(l.host_port(), None), "system roots"),
        // The right CA, but 127.0.0.1 is not a name in the certificate.
        (config(l.ip_port(), Some(&l.ca_pem)), "wrong host name"),
        (
            config(l.ip_port(), Some(&l.wrong_ca_pem)),
            "wrong CA and name",
        ),
    ]
}

#[tokio::test]
async fn a_bad_certificate_fails_as_tls_in_probe_and_client() {
    let Some(l) = listener() else { return };
    for (cfg, what) in bad_configs(&l) {
        let message = tls_failure(probe(&cfg).await, what);
        eprintln!("{what}: {message}");
        // The certificate check failed, not some other part of TLS.
        assert!(message.contains("certificate"), "{what}: {message}");
        assert!(!builder_connects(&cfg).await, "builder: {what}");
    }
}

#[tokio::test]
async fn insecure_skip_verify_is_the_only_way_past_a_bad_certificate() {
    let Some(l) = listener() else { return };
    for (mut cfg, what) in bad_configs(&l) {
        assert!(probe(&cfg).await.is_err(), "{what}: verified");
        cfg["tls"]["insecure_skip_verify"] = json!(true);
        probe(&cfg)
            .await
            .unwrap_or_else(|e| panic!("{what} with insecure_skip_verify: {e}"));
        assert!(builder_connects(&cfg).await, "builder: {what}, insecure");
    }
    // And it is off unless asked for.
    let typed: RedisConfig = serde_json::from_value(config(l.host_port(), None)).expect("config");
    assert!(!typed.tls.insecure_skip_verify);
}
