//! Native clients from a profile's config (`connect_options`) doing real
//! work on the local MariaDB, and the probe following the same options:
//! a change to the config changes both, the same way.

mod common;

use std::time::Duration;

use common::{admin, config, unique, user, Cleanup};
use patchbay_connector_mysql::{connect_options, MySqlConnector};
use patchbay_connector_sql::SqlConfig;
use patchbay_core::{Connector, Error, FailureReason, ResolvedConfig};
use patchbay_testkit::net::refused_port;
use serde_json::{json, Value};
use sqlx::mysql::{MySqlPoolOptions, MySqlSslMode};
use sqlx::{ConnectOptions, Connection, Executor, Row};
use tokio::time::Instant;

fn typed(cfg: &Value) -> SqlConfig {
    serde_json::from_value(cfg.clone()).expect("a valid config")
}

async fn probe(cfg: &Value) -> Result<patchbay_core::TestReport, Error> {
    MySqlConnector
        .test(
            &ResolvedConfig::new(cfg.clone()),
            Instant::now() + Duration::from_secs(10),
        )
        .await
}

fn reason(result: Result<patchbay_core::TestReport, Error>) -> FailureReason {
    match result {
        Err(Error::ConnectionFailed(f)) => f.reason,
        other => panic!("expected a connection failure, got {other:?}"),
    }
}

#[tokio::test]
async fn a_pool_from_the_profile_runs_queries() {
    let Some(mut admin) = admin().await else {
        return;
    };
    let (name, _drop_user) = user(&mut admin, "client", "pw-client").await;
    let table = unique("readings");
    admin
        .execute(format!("CREATE TABLE test.`{table}` (n INT, label VARCHAR(40))").as_str())
        .await
        .unwrap();
    let _drop_table = Cleanup(vec![format!("DROP TABLE IF EXISTS test.`{table}`")]);
    admin
        .execute(format!("GRANT SELECT, INSERT ON test.`{table}` TO '{name}'@'%'").as_str())
        .await
        .unwrap();

    let mut cfg = config(&name, "pw-client");
    cfg["database"] = json!("test");
    let pool = MySqlPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(connect_options(&typed(&cfg)).expect("options"))
        .await
        .expect("pool");
    for (n, label) in [(1, "one"), (2, "two"), (39, "thirty-nine")] {
        sqlx::query(&format!("INSERT INTO `{table}` VALUES (?, ?)"))
            .bind(n)
            .bind(label)
            .execute(&pool)
            .await
            .expect("insert");
    }
    let row = sqlx::query(&format!(
        "SELECT CAST(SUM(n) AS SIGNED), GROUP_CONCAT(label ORDER BY n) FROM `{table}`"
    ))
    .fetch_one(&pool)
    .await
    .expect("select");
    assert_eq!(row.get::<i64, _>(0), 42);
    assert_eq!(row.get::<String, _>(1), "one,two,thirty-nine");
    pool.close().await;
}

async fn builder_connects(cfg: &Value) -> Result<(), sqlx::Error> {
    let mut conn = connect_options(&typed(cfg)).unwrap().connect().await?;
    conn.execute("SELECT 1").await?;
    conn.close().await
}

#[tokio::test]
async fn probe_and_builder_cannot_drift() {
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
    let (name, _drop) = user(&mut admin, "drift", "pw-drift").await;

    // As configured: both connect.
    let cfg = config(&name, "pw-drift");
    builder_connects(&cfg).await.expect("builder");
    probe(&cfg).await.expect("probe");

    // TLS required of a server without TLS: both refuse to go on.
    let mut cfg = config(&name, "pw-drift");
    cfg["tls_mode"] = json!("require");
    let options = connect_options(&typed(&cfg)).unwrap();
    assert!(matches!(options.get_ssl_mode(), MySqlSslMode::Required));
    assert!(builder_connects(&cfg).await.is_err(), "builder: require");
    assert_eq!(reason(probe(&cfg).await), FailureReason::Tls);

    // Another password: both are denied.
    let cfg = config(&name, "pw-other");
    assert!(builder_connects(&cfg).await.is_err(), "builder: password");
    assert_eq!(reason(probe(&cfg).await), FailureReason::Auth);

    // Another port: both go there and find nothing listening.
    let port = refused_port();
    let mut cfg = config(&name, "pw-drift");
    cfg["port"] = json!(port);
    assert_eq!(connect_options(&typed(&cfg)).unwrap().get_port(), port);
    assert!(builder_connects(&cfg).await.is_err(), "builder: port");
    assert_eq!(reason(probe(&cfg).await), FailureReason::Refused);
}
