//! 200 probes, a quarter of them with a wrong password, leave no connection
//! open: counted by the server itself (`CLIENT LIST`) on a private
//! `redis-server` on a free port, so other tests' clients do not count.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use patchbay_connector_redis::{client, RedisConfig, RedisConnector};
use patchbay_testkit::hygiene::{probe_many, settle};
use patchbay_testkit::net::{refused_port, require};
use redis::aio::MultiplexedConnection;
use serde_json::json;
use tokio::time::Instant;

const REDIS_SERVER: &str = "/usr/bin/redis-server";
const PASSWORD: &str = "hygiene-right-pass";

/// A `redis-server` of our own, killed on drop.
struct PrivateRedis {
    child: Child,
    port: u16,
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn private_redis() -> Option<PrivateRedis> {
    let installed = std::path::Path::new(REDIS_SERVER)
        .exists()
        .then_some(())
        .ok_or("/usr/bin/redis-server is not installed");
    require(
        "redis-server binary",
        "apt-get install redis-server",
        installed,
    )?;
    let port = refused_port();
    let child = Command::new(REDIS_SERVER)
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args([
            "--save",
            "",
            "--appendonly",
            "no",
            "--requirepass",
            PASSWORD,
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn redis-server");
    let server = PrivateRedis { child, port };
    // Wait until it listens (slow under a loaded CI machine).
    let until = Instant::now() + Duration::from_secs(20);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(Instant::now() < until, "private redis-server did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Some(server)
}

/// Connections the server lists, other than `admin`'s own.
async fn others(mut admin: MultiplexedConnection) -> usize {
    let me: i64 = redis::cmd("CLIENT")
        .arg("ID")
        .query_async(&mut admin)
        .await
        .expect("CLIENT ID");
    let list: String = redis::cmd("CLIENT")
        .arg("LIST")
        .query_async(&mut admin)
        .await
        .expect("CLIENT LIST");
    let mine = format!("id={me} ");
    list.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with(&mine))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_probes_leave_no_connection_open() {
    let Some(server) = private_redis().await else {
        return;
    };
    let addr = format!("127.0.0.1:{}", server.port);
    let admin = redis::Client::open(format!("redis://:{PASSWORD}@{addr}"))
        .expect("url")
        .get_multiplexed_async_connection()
        .await
        .expect("admin connection");
    let good = json!({ "addresses": [addr], "password": PASSWORD });
    let bad = json!({ "addresses": [addr], "password": "hygiene-wrong-pass" });

    // The count is real: it sees a connection of the profile's own client.
    let typed: RedisConfig = serde_json::from_value(good.clone()).expect("config");
    let held = client(&typed)
        .expect("client")
        .get_multiplexed_async_connection()
        .await
        .expect("connect");
    assert_eq!(settle(|| others(admin.clone()), 1).await, 1, "held");
    drop(held);
    assert_eq!(settle(|| others(admin.clone()), 0).await, 0, "dropped");

    probe_many(Arc::new(RedisConnector), &good, &bad, 4).await;
    let left = settle(|| others(admin.clone()), 0).await;
    assert_eq!(left, 0, "{left} connection(s) still open after 200 probes");
}
