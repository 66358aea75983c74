//! Live `test` probes against the local MariaDB: success fields and every
//! failure class producible here (an unresolvable host: the conformance
//! suite), with sessions counted before and after.

mod common;

use std::time::Duration;

use common::{admin, assert_no_sessions, config, sessions, unique, user};
use patchbay_connector_mysql::MySqlConnector;
use patchbay_core::{Connector, Error, FailureReason, ProbeFailure, ResolvedConfig, TestReport};
use patchbay_testkit::net::{refused_port, SilentListener};
use serde_json::{json, Value};
use sqlx::{Executor, Row};
use tokio::time::Instant;

async fn probe(config: Value, budget: Duration) -> Result<TestReport, Error> {
    MySqlConnector
        .test(&ResolvedConfig::new(config), Instant::now() + budget)
        .await
}

fn failure(result: Result<TestReport, Error>) -> ProbeFailure {
    match result {
        Err(Error::ConnectionFailed(f)) => f,
        other => panic!("expected a probe failure, got {other:?}"),
    }
}

#[tokio::test]
async fn success_reports_version_and_latency_and_leaves_no_session() {
    let Some(mut admin) = admin().await else {
        return;
    };
    let (name, _drop) = user(&mut admin, "ok", "right-pw").await;
    let full: String = admin.fetch_one("SELECT VERSION()").await.unwrap().get(0);
    assert_eq!(sessions(&mut admin, &name).await, 0);

    let report = probe(config(&name, "right-pw"), Duration::from_secs(10))
        .await
        .unwrap();

    assert!(report.success);
    assert_eq!(report.message, "Connection successful");
    let version = report.details.version.as_deref().unwrap();
    assert!(full.starts_with(version), "{version} vs {full}");
    if full.contains("-MariaDB") {
        assert!(version.ends_with("-MariaDB"), "{version}");
    }
    assert_eq!(report.details.extra["server_version"], json!(full));
    assert!(report.details.latency_ms < 10_000);
    assert_no_sessions(&mut admin, &name).await;
}

#[tokio::test]
async fn wrong_password_is_auth_and_never_echoed() {
    let Some(mut admin) = admin().await else {
        return;
    };
    let (name, _drop) = user(&mut admin, "auth", "right-pw").await;
    let f = failure(probe(config(&name, "wrong-pw-77"), Duration::from_secs(10)).await);
    assert_eq!(f.reason, FailureReason::Auth, "{f}");
    assert!(
        f.message.contains("Access denied"),
        "server's own message: {f}"
    );
    assert!(f
        .reason_text()
        .starts_with("Authentication failed: Access denied"));
    assert!(!format!("{f} {f:?} {}", f.details()).contains("wrong-pw-77"));
    assert_no_sessions(&mut admin, &name).await;
}

#[tokio::test]
async fn unknown_database_is_not_found() {
    let Some(_admin) = admin().await else { return };
    let mut cfg = config("root", "");
    let db = unique("missing_db");
    cfg["database"] = json!(db);
    let f = failure(probe(cfg, Duration::from_secs(10)).await);
    assert_eq!(f.reason, FailureReason::NotFound, "{f}");
    assert!(f.message.contains(&db), "{f}");
}

// A user without rights on the database gets 1044, "access denied to
// database": the database may exist or not, so this is `auth`.
#[tokio::test]
async fn database_without_rights_is_auth() {
    let Some(mut admin) = admin().await else {
        return;
    };
    let (name, _drop) = user(&mut admin, "norights", "pw").await;
    let mut cfg = config(&name, "pw");
    cfg["database"] = json!("mysql");
    let f = failure(probe(cfg, Duration::from_secs(10)).await);
    assert_eq!(f.reason, FailureReason::Auth, "{f}");
}

// The local server has have_ssl = DISABLED: "TLS required but refused".
#[tokio::test]
async fn tls_required_but_not_offered_is_tls() {
    let Some(mut admin) = admin().await else {
        return;
    };
    let have_ssl: String = admin.fetch_one("SELECT @@have_ssl").await.unwrap().get(0);
    let Some(()) = patchbay_testkit::net::require(
        "MariaDB without TLS",
        "this test expects have_ssl = DISABLED",
        if have_ssl == "YES" {
            Err("have_ssl = YES")
        } else {
            Ok(())
        },
    ) else {
        return;
    };
    let (name, _drop) = user(&mut admin, "tls", "pw").await;
    for mode in ["require", "verify-ca", "verify-full"] {
        let mut cfg = config(&name, "pw");
        cfg["tls_mode"] = json!(mode);
        let f = failure(probe(cfg, Duration::from_secs(10)).await);
        assert_eq!(f.reason, FailureReason::Tls, "{mode}: {f}");
        assert!(f.message.contains("does not support TLS"), "{f}");
    }
    let mut cfg = config(&name, "pw");
    cfg["tls_mode"] = json!("prefer");
    probe(cfg, Duration::from_secs(10)).await.unwrap();
    assert_no_sessions(&mut admin, &name).await;
}

#[tokio::test]
async fn closed_port_is_refused_before_the_deadline() {
    let mut cfg = config("root", "");
    cfg["port"] = json!(refused_port());
    let start = Instant::now();
    let f = failure(probe(cfg, Duration::from_secs(10)).await);
    assert_eq!(f.reason, FailureReason::Refused, "{f}");
    // Decided by the refusal, long before the 10 s deadline.
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn silent_host_times_out_at_the_deadline() {
    let silent = SilentListener::bind().await;
    let mut cfg = config("root", "");
    cfg["port"] = json!(silent.port());
    let budget = Duration::from_millis(600);
    let start = Instant::now();
    let f = failure(probe(cfg.clone(), budget).await);
    let took = start.elapsed();
    assert_eq!(f.reason, FailureReason::Timeout, "{f}");
    // Never early; late only by what a loaded machine adds (the silent host
    // alone would hold the probe forever).
    assert!(
        took >= budget.mul_f64(0.9) && took < budget * 2 + Duration::from_secs(1),
        "{took:?}"
    );

    cfg["connect_timeout_ms"] = json!(250);
    let start = Instant::now();
    let f = failure(probe(cfg, Duration::from_secs(10)).await);
    assert_eq!(f.reason, FailureReason::Timeout, "{f}");
    // The 250 ms connect timeout cut it, long before the 10 s deadline.
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
}
