//! Private `nats-server` processes on free loopback ports, each with a
//! monitoring port (`/connz`), killed on drop.
#![allow(dead_code)]

use std::process::Stdio;
use std::time::Duration;

use patchbay_testkit::net::{refused_port, require};
use tokio::process::{Child, Command};
use tokio::time::Instant;

pub const NATS_SERVER: &str = "/usr/sbin/nats-server";

/// A `nats-server` of our own, killed on drop.
pub struct PrivateServer {
    _child: Child,
    /// The client port.
    pub port: u16,
    /// The HTTP monitoring port.
    pub monitor: u16,
}

/// Starts one with `auth` arguments (`--auth TOKEN`, `--user U --pass P`);
/// `None` when the binary is missing outside CI.
pub async fn private_server(auth: &[&str]) -> Option<PrivateServer> {
    let installed = std::path::Path::new(NATS_SERVER)
        .exists()
        .then_some(())
        .ok_or("/usr/sbin/nats-server is not installed");
    require(
        "nats-server binary",
        "apt-get install nats-server",
        installed,
    )?;
    let (port, monitor) = (refused_port(), refused_port());
    let child = Command::new(NATS_SERVER)
        .args(["-a", "127.0.0.1", "-p", &port.to_string()])
        .args(["-m", &monitor.to_string()])
        .args(auth)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn nats-server");
    // Wait until both listen (slow under a loaded CI machine).
    let until = Instant::now() + Duration::from_secs(20);
    for p in [port, monitor] {
        while tokio::net::TcpStream::connect(("127.0.0.1", p))
            .await
            .is_err()
        {
            assert!(Instant::now() < until, "private nats-server did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    Some(PrivateServer {
        _child: child,
        port,
        monitor,
    })
}
