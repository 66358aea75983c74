//! Live `test` probes against the local Postgres: success fields and every
//! failure class producible here (an unresolvable host: the conformance
//! suite), with sessions counted before and after.

mod common;

use std::time::Duration;

use common::{admin, assert_no_sessions, config, role, sessions, unique};
use patchbay_connector_postgres::PostgresConnector;
use patchbay_core::{Connector, Error, FailureReason, ProbeFailure, ResolvedConfig, TestReport};
use patchbay_testkit::net::{refused_port, SilentListener};
use serde_json::{json, Value};
use sqlx::{Executor, Row};
use tokio::time::Instant;

async fn probe(config: Value, budget: Duration) -> Result<TestReport, Error> {
    PostgresConnector
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
    let (user, _drop_role) = role(&mut admin, "ok").await;
    let expected: String = admin.fetch_one("SHOW server_version").await.unwrap().get(0);
    assert_eq!(sessions(&mut admin, &user).await, 0);

    let report = probe(config(&user), Duration::from_secs(10)).await.unwrap();

    assert!(report.success);
    assert_eq!(report.message, "Connection successful");
    let version = report.details.version.as_deref().unwrap();
    assert_eq!(version, expected.split_whitespace().next().unwrap());
    assert!(
        version.chars().next().unwrap().is_ascii_digit(),
        "{version}"
    );
    assert_eq!(report.details.extra["server_version"], json!(expected));
    assert!(report.details.latency_ms < 10_000);
    assert_no_sessions(&mut admin, &user).await;
}

#[tokio::test]
async fn unknown_database_is_not_found() {
    let Some(mut admin) = admin().await else {
        return;
    };
    let (user, _drop_role) = role(&mut admin, "nodb").await;
    let mut cfg = config(&user);
    let db = unique("missing_db");
    cfg["database"] = json!(db);
    let f = failure(probe(cfg, Duration::from_secs(10)).await);
    assert_eq!(f.reason, FailureReason::NotFound, "{f}");
    assert!(
        f.message.contains(&db),
        "server's own message expected: {f}"
    );
    assert!(f.reason_text().starts_with("Not found: "));
}

// Trust auth on 127.0.0.1 accepts any password, so "wrong password"
// (28P01) cannot happen here; the same SQLSTATE class 28 comes back for an
// unknown role and for a role without LOGIN, both real server answers.
#[tokio::test]
async fn unknown_role_and_nologin_role_are_auth() {
    let Some(mut admin) = admin().await else {
        return;
    };
    let ghost = unique("ghost");
    let mut cfg = config(&ghost);
    cfg["password"] = json!("pw-never-shown-123");
    let f = failure(probe(cfg, Duration::from_secs(10)).await);
    assert_eq!(f.reason, FailureReason::Auth, "{f}");
    assert!(f.message.contains(&ghost), "{f}");
    assert!(f.reason_text().starts_with("Authentication failed: "));
    assert!(!f.to_string().contains("pw-never-shown-123"));

    let (user, _drop_role) = role(&mut admin, "nologin").await;
    admin
        .execute(format!("ALTER ROLE \"{user}\" NOLOGIN").as_str())
        .await
        .unwrap();
    let f = failure(probe(config(&user), Duration::from_secs(10)).await);
    assert_eq!(f.reason, FailureReason::Auth, "{f}");
    assert!(f.message.contains("not permitted to log in"), "{f}");
}

#[tokio::test]
async fn no_connect_privilege_is_auth() {
    let Some(mut admin) = admin().await else {
        return;
    };
    let (user, _drop_role) = role(&mut admin, "noconn").await;
    let db = unique("db_noconn");
    admin
        .execute(format!("CREATE DATABASE \"{db}\" TEMPLATE template0").as_str())
        .await
        .unwrap();
    let _drop_db = common::Cleanup(vec![format!("DROP DATABASE IF EXISTS \"{db}\"")]);
    admin
        .execute(format!("REVOKE CONNECT ON DATABASE \"{db}\" FROM PUBLIC").as_str())
        .await
        .unwrap();
    let mut cfg = config(&user);
    cfg["database"] = json!(db);
    let f = failure(probe(cfg, Duration::from_secs(10)).await);
    assert_eq!(f.reason, FailureReason::Auth, "{f}");
    assert!(f.message.contains("permission denied"), "{f}");
}

#[tokio::test]
async fn closed_port_is_refused_before_the_deadline() {
    let mut cfg = config("postgres");
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
    let mut cfg = config("postgres");
    cfg["port"] = json!(silent.port());
    let budget = Duration::from_millis(600);
    let start = Instant::now();
    let f = failure(probe(cfg, budget).await);
    let took = start.elapsed();
    assert_eq!(f.reason, FailureReason::Timeout, "{f}");
    // Never early; late only by what a loaded machine adds (the silent host
    // alone would hold the probe forever).
    assert!(
        took >= budget.mul_f64(0.9) && took < budget * 2 + Duration::from_secs(1),
        "{took:?}"
    );
}

#[tokio::test]
async fn connect_timeout_cuts_before_the_deadline() {
    let silent = SilentListener::bind().await;
    let mut cfg = config("postgres");
    cfg["port"] = json!(silent.port());
    cfg["connect_timeout_ms"] = json!(300);
    let start = Instant::now();
    let f = failure(probe(cfg, Duration::from_secs(10)).await);
    let took = start.elapsed();
    assert_eq!(f.reason, FailureReason::Timeout, "{f}");
    assert!(
        took >= Duration::from_millis(270) && took < Duration::from_secs(5),
        "{took:?}"
    );
    assert!(f.message.contains("300 ms"), "{f}");
}
