//! The testkit's connector conformance suite, against the local Redis at
//! 127.0.0.1:6379 and loopback failure targets.

use std::sync::Arc;

use patchbay_connector_redis::RedisConnector;
use patchbay_core::Connector;
use patchbay_testkit::fixture::{Fixture, Live};
use serde_json::{json, Value};

const ADDR: &str = "127.0.0.1:6379";

struct Redis;

#[patchbay_testkit::async_trait]
impl Fixture for Redis {
    fn connector(&self) -> Arc<dyn Connector> {
        Arc::new(RedisConnector)
    }
    fn secret_fields(&self) -> &'static [&'static str] {
        &["password"]
    }
    fn config_at(&self, host: &str, port: u16) -> Value {
        json!({ "addresses": [format!("{host}:{port}")] })
    }
    // A user that does not exist: the sentinel password is refused.
    async fn live(&self) -> Option<Live> {
        let up = tokio::net::TcpStream::connect(ADDR).await;
        patchbay_testkit::net::require("redis", "redis-server --daemonize yes", up)?;
        Some(Live::new(vec![
            json!({ "addresses": [ADDR], "username": "nobody" }),
        ]))
    }
}

patchbay_testkit::connector_suite!(Redis);
