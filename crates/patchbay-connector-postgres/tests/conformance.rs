//! The testkit's connector conformance cases.

mod common;

use std::sync::Arc;
use std::time::Duration;

use patchbay_connector_postgres::PostgresConnector;
use patchbay_testkit::connector as cases;
use patchbay_testkit::net::{refused_port, SilentListener};
use serde_json::json;

#[test]
fn schema_is_valid() {
    cases::schema_is_valid(&PostgresConnector);
}

#[test]
fn secrets_are_marked() {
    cases::secrets_are_marked(&PostgresConnector, &["password"]);
}

// Trust auth lets any password in, so the probe succeeds here; the
// sentinel must still appear nowhere, and an unknown role makes the probe
// fail too (its message quotes the user name, never the password).
#[tokio::test]
async fn sentinel_never_leaks() {
    let Some(_admin) = common::admin().await else {
        return;
    };
    let sentinel = "S3NT1NEL-pg-6d1f";
    for user in ["postgres", "pb_no_such_role_sentinel"] {
        let mut config = common::config(user);
        config["password"] = json!(format!("x{sentinel}y"));
        cases::sentinel_never_leaks(Arc::new(PostgresConnector), config, sentinel).await;
    }
}

#[tokio::test]
async fn deadline_is_honoured() {
    let silent = SilentListener::bind().await;
    let mut config = common::config("postgres");
    config["port"] = json!(silent.port());
    cases::deadline_is_honoured(&PostgresConnector, config, Duration::from_secs(2)).await;
}

#[tokio::test]
async fn refused_is_fast() {
    let mut config = common::config("postgres");
    config["port"] = json!(refused_port());
    cases::refused_is_fast(&PostgresConnector, config).await;
}

#[test]
fn schema_publishes_the_issue_fields() {
    let schema = patchbay_core::Connector::config_schema(&PostgresConnector);
    let props = schema["properties"].as_object().unwrap();
    for field in [
        "host",
        "port",
        "database",
        "username",
        "password",
        "tls_mode",
        "ca_certificate",
        "connect_timeout_ms",
    ] {
        assert!(props.contains_key(field), "{field} missing");
    }
    assert_eq!(schema["properties"]["port"]["default"], 5432);
    let modes = serde_json::to_string(&schema).unwrap();
    for mode in ["disable", "prefer", "require", "verify-ca", "verify-full"] {
        assert!(modes.contains(mode), "{mode} missing");
    }
    let required = schema["required"].as_array().unwrap();
    assert!(required.contains(&json!("host")) && required.contains(&json!("username")));
}
