//! The testkit's connector conformance suite.

mod common;

use std::sync::Arc;
use std::time::Duration;

use patchbay_connector_mysql::MySqlConnector;
use patchbay_core::Connector;
use patchbay_testkit::fixture::{Fixture, Live};
use serde_json::{json, Value};

struct MySql;

#[patchbay_testkit::async_trait]
impl Fixture for MySql {
    fn connector(&self) -> Arc<dyn Connector> {
        Arc::new(MySqlConnector)
    }
    fn secret_fields(&self) -> &'static [&'static str] {
        &["password"]
    }
    fn config_at(&self, host: &str, port: u16) -> Value {
        let mut config = common::config("root", "");
        config["host"] = json!(host);
        config["port"] = json!(port);
        config
    }
    fn deadline_budget(&self) -> Duration {
        Duration::from_secs(2)
    }
    // A real user and a wrong password holding the sentinel: MariaDB
    // refuses it with "Access denied", which must not quote the password.
    async fn live(&self) -> Option<Live> {
        let mut admin = common::admin().await?;
        let (name, drop_user) = common::user(&mut admin, "sentinel", "right-pw").await;
        Some(Live::guarded(
            vec![common::config(&name, "right-pw")],
            drop_user,
        ))
    }
}

patchbay_testkit::connector_suite!(MySql);

#[test]
fn port_defaults_to_3306() {
    let schema = patchbay_core::Connector::config_schema(&MySqlConnector);
    assert_eq!(schema["properties"]["port"]["default"], 3306);
}
