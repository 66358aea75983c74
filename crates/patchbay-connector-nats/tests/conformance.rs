//! The testkit's connector conformance suite, against a private
//! `nats-server` with token auth and loopback failure targets.

mod common;

use std::sync::Arc;

use patchbay_connector_nats::NatsConnector;
use patchbay_core::Connector;
use patchbay_testkit::fixture::{Fixture, Live};
use serde_json::{json, Value};

struct Nats;

/// A `.creds` file that parses (a real NKey seed) and carries `value` in
/// its JWT header line, which the parser allows any text in: the whole
/// file is the secret, sent to the server and refused there.
fn creds(value: &str) -> String {
    let seed = nkeys::KeyPair::new_user().seed().expect("seed");
    format!(
        "-----BEGIN NATS USER JWT {value}-----\neyJ0eXAiOiJKV1QifQ.e30.c2ln\n------END NATS USER JWT------\n\n\
         -----BEGIN USER NKEY SEED-----\n{seed}\n------END USER NKEY SEED------\n"
    )
}

#[patchbay_testkit::async_trait]
impl Fixture for Nats {
    fn connector(&self) -> Arc<dyn Connector> {
        Arc::new(NatsConnector)
    }
    fn secret_fields(&self) -> &'static [&'static str] {
        &["password", "token", "credentials"]
    }
    fn config_at(&self, host: &str, port: u16) -> Value {
        json!({ "servers": [format!("{host}:{port}")] })
    }
    // One way to authenticate at a time; each is refused by the token server.
    fn with_secret(&self, mut config: Value, field: &str, value: &str) -> Value {
        match field {
            "password" => {
                config["username"] = json!("app");
                config["password"] = json!(value);
            }
            "credentials" => config["credentials"] = json!(creds(value)),
            _ => config[field] = json!(value),
        }
        config
    }
    async fn live(&self) -> Option<Live> {
        let server = common::private_server(&["--auth", "the-real-token-1"]).await?;
        let config = json!({ "servers": [format!("127.0.0.1:{}", server.port)] });
        Some(Live::guarded(vec![config], server))
    }
}

patchbay_testkit::connector_suite!(Nats);
