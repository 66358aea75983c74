//! 200 probes, one in 20 with a wrong password, leave no connection
//! open: counted by the broker itself (`rabbitmqctl list_connections`) for
//! a user of this test alone, so other tests' connections do not count.

mod common;

use std::sync::Arc;

use amqprs::connection::Connection;
use common::{connections_of, BrokerUser};
use patchbay_connector_rabbitmq::{open_connection_arguments, RabbitMqConfig, RabbitMqConnector};
use patchbay_testkit::hygiene::{probe_many, settle};
use serde_json::json;

const PASSWORD: &str = "hygiene-right-pass";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_probes_leave_no_connection_open() {
    let up = tokio::net::TcpStream::connect("127.0.0.1:5672").await;
    if patchbay_testkit::net::require("rabbitmq", "systemctl start rabbitmq-server", up).is_none() {
        return;
    }
    let Some(user) = tokio::task::spawn_blocking(|| BrokerUser::create(PASSWORD, true))
        .await
        .expect("join")
    else {
        return;
    };
    let name = user.0.clone();
    let good = json!({ "host": "127.0.0.1", "username": name, "password": PASSWORD });
    let bad = json!({ "host": "127.0.0.1", "username": name, "password": "hygiene-wrong-pass" });

    // The count is real: it sees a connection from the profile's arguments.
    let typed: RabbitMqConfig = serde_json::from_value(good.clone()).expect("config");
    let held = Connection::open(&open_connection_arguments(&typed).expect("arguments"))
        .await
        .expect("open");
    assert_eq!(settle(|| connections_of(&name), 1).await, 1, "held");
    held.close().await.expect("close");
    assert_eq!(settle(|| connections_of(&name), 0).await, 0, "closed");

    // RabbitMQ takes about 3 s to refuse a password: 10 refused probes of
    // the 200, not 50, keep the test near half a minute.
    probe_many(Arc::new(RabbitMqConnector), &good, &bad, 20).await;
    let left = settle(|| connections_of(&name), 0).await;
    assert_eq!(left, 0, "{left} connection(s) still open after 200 probes");
    tokio::task::spawn_blocking(move || drop(user))
        .await
        .expect("cleanup");
}
