//! A private Mosquitto with a password file on a free loopback port.
#![allow(dead_code)]

use std::process::Stdio;
use std::time::Duration;

use patchbay_testkit::net::{refused_port, require};
use tokio::process::{Child, Command};
use tokio::time::Instant;

pub const MOSQUITTO: &str = "/usr/sbin/mosquitto";

/// A Mosquitto of our own that demands a password, killed on drop.
pub struct PrivateBroker {
    _child: Child,
    _dir: tempfile::TempDir,
    /// Its port on 127.0.0.1.
    pub port: u16,
}

/// Starts one for `user` / `password`, with `extra` configuration lines;
/// `None` when Mosquitto is missing outside CI.
pub async fn private_broker(user: &str, password: &str, extra: &str) -> Option<PrivateBroker> {
    let installed = std::path::Path::new(MOSQUITTO)
        .exists()
        .then_some(())
        .ok_or("/usr/sbin/mosquitto is not installed");
    require("mosquitto binary", "apt-get install mosquitto", installed)?;
    let dir = tempfile::tempdir().expect("tempdir");
    let passwd = dir.path().join("passwd");
    let made = Command::new("mosquitto_passwd")
        .arg("-b")
        .arg("-c")
        .arg(&passwd)
        .args([user, password])
        .status()
        .await
        .expect("mosquitto_passwd");
    assert!(made.success(), "mosquitto_passwd failed");
    let port = refused_port();
    let conf = dir.path().join("mosquitto.conf");
    // `user root` keeps a root-started broker from switching to a user that
    // cannot read our temporary password file; ignored when not root.
    let text = format!(
        "user root\nlistener {port} 127.0.0.1\nallow_anonymous false\npassword_file {}\npersistence false\n{extra}\n",
        passwd.display()
    );
    std::fs::write(&conf, text).expect("write conf");
    let child = Command::new(MOSQUITTO)
        .arg("-c")
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn mosquitto");
    let until = Instant::now() + Duration::from_secs(20);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(Instant::now() < until, "private mosquitto did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Some(PrivateBroker {
        _child: child,
        _dir: dir,
        port,
    })
}
