//! Native clients from a profile's config (`connect_options`) doing real
//! work on the local Postgres, and the probe following the same options:
//! a change to the config changes both, the same way.

mod common;

use std::time::Duration;

use common::{admin, config, role};
use patchbay_connector_postgres::{connect_options, PostgresConnector};
use patchbay_connector_sql::SqlConfig;
use patchbay_core::{Connector, Error, FailureReason, ResolvedConfig};
use patchbay_testkit::net::refused_port;
use serde_json::{json, Value};
use sqlx::postgres::{PgPoolOptions, PgSslMode};
use sqlx::{ConnectOptions, Connection, Executor, Row};
use tokio::time::Instant;

fn typed(cfg: &Value) -> SqlConfig {
    serde_json::from_value(cfg.clone()).expect("a valid config")
}

async fn probe(cfg: &Value) -> Result<patchbay_core::TestReport, Error> {
    PostgresConnector
        .test(
            &ResolvedConfig::new(cfg.clone()),
            Instant::now() + Duration::from_secs(10),
        )
        .await
}

#[tokio::test]
async fn a_pool_from_the_profile_runs_queries() {
    let Some(mut admin) = admin().await else {
        return;
    };
    let (user, _drop) = role(&mut admin, "client").await;
    let options = connect_options(&typed(&config(&user))).expect("options");
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options)
        .await
        .expect("pool");
    let who = pool
        .fetch_one("SELECT current_user::text, current_database()::text")
        .await
        .expect("query");
    assert_eq!(
        (who.get::<String, _>(0), who.get::<String, _>(1)),
        (user.clone(), "test".to_owned())
    );
    let mut tx = pool.begin().await.expect("begin");
    tx.execute("CREATE TEMP TABLE readings (n int, label text) ON COMMIT DROP")
        .await
        .expect("create");
    for (n, label) in [(1, "one"), (2, "two"), (39, "thirty-nine")] {
        sqlx::query("INSERT INTO readings VALUES ($1, $2)")
            .bind(n)
            .bind(label)
            .execute(&mut *tx)
            .await
            .expect("insert");
    }
    let row = sqlx::query("SELECT sum(n)::int8, string_agg(label, ',' ORDER BY n) FROM readings")
        .fetch_one(&mut *tx)
        .await
        .expect("select");
    assert_eq!(row.get::<i64, _>(0), 42);
    assert_eq!(row.get::<String, _>(1), "one,two,thirty-nine");
    tx.commit().await.expect("commit");
    pool.close().await;
}

/// Whether the builder's own connection is encrypted (`pg_stat_ssl`).
async fn builder_connects(cfg: &Value) -> Result<bool, sqlx::Error> {
    let mut conn = connect_options(&typed(cfg)).unwrap().connect().await?;
    let ssl: bool = conn
        .fetch_one("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .await?
        .get(0);
    conn.close().await?;
    Ok(ssl)
}

#[tokio::test]
async fn probe_and_builder_cannot_drift() {
    let Some(mut admin) = admin().await else {
        return;
    };
    let ssl: String = admin.fetch_one("SHOW ssl").await.unwrap().get(0);
    let tls_on = ssl == "on";
    if patchbay_testkit::net::require(
        "Postgres with TLS",
        "set ssl = on in postgresql.conf",
        if tls_on { Ok(()) } else { Err("ssl is off") },
    )
    .is_none()
    {
        return;
    }
    let (user, _drop) = role(&mut admin, "drift").await;

    // TLS mode: off, then required. The options say so, the builder's
    // session is (not) encrypted, and the probe connects either way.
    for (mode, ssl_mode, encrypted) in [
        ("disable", PgSslMode::Disable, false),
        ("require", PgSslMode::Require, true),
    ] {
        let mut cfg = config(&user);
        cfg["tls_mode"] = json!(mode);
        let options = connect_options(&typed(&cfg)).unwrap();
        assert_eq!(
            format!("{:?}", options.get_ssl_mode()),
            format!("{ssl_mode:?}"),
            "{mode}"
        );
        assert_eq!(builder_connects(&cfg).await.unwrap(), encrypted, "{mode}");
        probe(&cfg).await.unwrap_or_else(|e| panic!("{mode}: {e}"));
    }

    // verify-full against the self-signed certificate: both refuse it.
    let mut cfg = config(&user);
    cfg["tls_mode"] = json!("verify-full");
    assert!(
        builder_connects(&cfg).await.is_err(),
        "builder: verify-full"
    );
    match probe(&cfg).await {
        Err(Error::ConnectionFailed(f)) => assert_eq!(f.reason, FailureReason::Tls, "{f}"),
        other => panic!("probe: verify-full must fail on TLS, got {other:?}"),
    }

    // Another port: both go there and find nothing listening.
    let port = refused_port();
    let mut cfg = config(&user);
    cfg["port"] = json!(port);
    assert_eq!(connect_options(&typed(&cfg)).unwrap().get_port(), port);
    assert!(builder_connects(&cfg).await.is_err(), "builder: refused");
    match probe(&cfg).await {
        Err(Error::ConnectionFailed(f)) => assert_eq!(f.reason, FailureReason::Refused, "{f}"),
        other => panic!("probe: must be refused, got {other:?}"),
    }
}

#[test]
fn options_carry_the_whole_profile_and_nothing_of_the_environment() {
    // PG* variables of the host process must not change a profile's meaning.
    let cfg = json!({
        "host": "::1", "port": 6543, "username": "app", "password": "s3cret",
        "tls_mode": "verify-ca"
    });
    let options = connect_options(&typed(&cfg)).unwrap();
    assert_eq!(options.get_host(), "::1");
    assert_eq!(options.get_port(), 6543);
    assert_eq!(options.get_username(), "app");
    // libpq's default database is the user's name.
    assert_eq!(options.get_database(), Some("app"));
    assert!(matches!(options.get_ssl_mode(), PgSslMode::VerifyCa));
    // Hosts name their own sessions; the probe's name is the probe's.
    assert_eq!(options.get_application_name(), None);
    let bad = json!({ "host": "db:5432", "username": "app" });
    let err = connect_options(&typed(&bad)).unwrap_err();
    assert!(err.to_string().contains("/host"), "{err}");
}
