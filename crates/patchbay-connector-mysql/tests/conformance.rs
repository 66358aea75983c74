//! The testkit's connector conformance cases.

mod common;

use std::sync::Arc;
use std::time::Duration;

use patchbay_connector_mysql::MySqlConnector;
use patchbay_testkit::connector as cases;
use patchbay_testkit::net::{refused_port, SilentListener};
use serde_json::json;

#[test]
fn schema_is_valid() {
    cases::schema_is_valid(&MySqlConnector);
}

#[test]
fn secrets_are_marked() {
    cases::secrets_are_marked(&MySqlConnector, &["password"]);
}

#[test]
fn port_defaults_to_3306() {
    let schema = patchbay_core::Connector::config_schema(&MySqlConnector);
    assert_eq!(schema["properties"]["port"]["default"], 3306);
}

// A real user and a wrong password holding the sentinel: MariaDB refuses
// it with "Access denied", which must not quote the password anywhere.
#[tokio::test]
async fn sentinel_never_leaks() {
    let Some(mut admin) = common::admin().await else {
        return;
    };
    let (name, _drop) = common::user(&mut admin, "sentinel", "right-pw").await;
    let sentinel = "S3NT1NEL-my-91c4";
    let config = common::config(&name, &format!("x{sentinel}y"));
    cases::sentinel_never_leaks(Arc::new(MySqlConnector), config, sentinel).await;
}

#[tokio::test]
async fn deadline_is_honoured() {
    let silent = SilentListener::bind().await;
    let mut config = common::config("root", "");
    config["port"] = json!(silent.port());
    cases::deadline_is_honoured(&MySqlConnector, config, Duration::from_secs(2)).await;
}

#[tokio::test]
async fn refused_is_fast() {
    let mut config = common::config("root", "");
    config["port"] = json!(refused_port());
    cases::refused_is_fast(&MySqlConnector, config).await;
}
