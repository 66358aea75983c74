//! 200 probes, a quarter of them with a wrong password, leave no connection
//! open: counted by the server itself (`/connz` on its monitoring port) on
//! a private `nats-server` (the system one has no monitoring port, and
//! other tests' clients would count there).

mod common;

use std::sync::Arc;

use patchbay_connector_nats::{connect_options, server_addrs, NatsConfig, NatsConnector};
use patchbay_testkit::hygiene::{probe_many, settle};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// `num_connections` from `GET /connz` (plain HTTP/1.0, so no client crate).
async fn connections(monitor: u16) -> usize {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", monitor))
        .await
        .expect("monitoring port");
    s.write_all(b"GET /connz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .expect("request");
    let mut reply = String::new();
    s.read_to_string(&mut reply).await.expect("reply");
    let (_, body) = reply.split_once("\r\n\r\n").expect("an HTTP reply");
    let connz: Value = serde_json::from_str(body).expect("connz JSON");
    connz["num_connections"]
        .as_u64()
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or_else(|| panic!("no num_connections in {body}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_probes_leave_no_connection_open() {
    let Some(server) =
        common::private_server(&["--user", "app", "--pass", "hygiene-right-pass"]).await
    else {
        return;
    };
    let monitor = server.monitor;
    let servers = json!([format!("127.0.0.1:{}", server.port)]);
    let good = json!({ "servers": servers, "username": "app", "password": "hygiene-right-pass" });
    let bad = json!({ "servers": servers, "username": "app", "password": "hygiene-wrong-pass" });

    // The count is real: it sees a connection of the profile's own client.
    let typed: NatsConfig = serde_json::from_value(good.clone()).expect("config");
    let held = connect_options(&typed)
        .expect("options")
        .connect(server_addrs(&typed).expect("servers"))
        .await
        .expect("connect");
    assert_eq!(settle(|| connections(monitor), 1).await, 1, "held");
    held.drain().await.expect("drain");
    drop(held);
    assert_eq!(settle(|| connections(monitor), 0).await, 0, "closed");

    probe_many(Arc::new(NatsConnector), &good, &bad, 4).await;
    let left = settle(|| connections(monitor), 0).await;
    assert_eq!(left, 0, "{left} connection(s) still open after 200 probes");
}
