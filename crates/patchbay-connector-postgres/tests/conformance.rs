//! The testkit's connector conformance suite, and the schema's fields.

mod common;

use std::sync::Arc;
use std::time::Duration;

use patchbay_connector_postgres::PostgresConnector;
use patchbay_core::Connector;
use patchbay_testkit::fixture::{Fixture, Live};
use serde_json::{json, Value};

struct Postgres;

#[patchbay_testkit::async_trait]
impl Fixture for Postgres {
    fn connector(&self) -> Arc<dyn Connector> {
        Arc::new(PostgresConnector)
    }
    fn secret_fields(&self) -> &'static [&'static str] {
        &["password"]
    }
    fn config_at(&self, host: &str, port: u16) -> Value {
        let mut config = common::config("postgres");
        config["host"] = json!(host);
        config["port"] = json!(port);
        config
    }
    fn deadline_budget(&self) -> Duration {
        Duration::from_secs(2)
    }
    // Trust auth lets any password in, so the probe succeeds here; the
    // sentinel must still appear nowhere, and an unknown role makes the
    // probe fail too (its message quotes the user name, never the password).
    async fn live(&self) -> Option<Live> {
        let admin = common::admin().await?;
        drop(admin);
        Some(Live::new(vec![
            common::config("postgres"),
            common::config("pb_no_such_role_sentinel"),
        ]))
    }
}

patchbay_testkit::connector_suite!(Postgres);

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
