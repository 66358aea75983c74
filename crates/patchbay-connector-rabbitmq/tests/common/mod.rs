//! Broker users made with `rabbitmqctl` for one test.
#![allow(dead_code)]

use std::process::Command;

use patchbay_testkit::net::require;

/// A broker user made with `rabbitmqctl`, deleted on drop.
pub struct BrokerUser(pub String);

impl BrokerUser {
    pub fn create(password: &str, permissions: bool) -> Option<Self> {
        let name = format!("patchbay-test-{}", uuid::Uuid::new_v4().simple());
        let made = rabbitmqctl(&["add_user", &name, password]);
        let user =
            require("rabbitmqctl", "apt-get install rabbitmq-server", made).map(|()| Self(name))?;
        if permissions {
            rabbitmqctl(&["set_permissions", "-p", "/", &user.0, ".*", ".*", ".*"])
                .expect("set_permissions");
        }
        Some(user)
    }
}

impl Drop for BrokerUser {
    fn drop(&mut self) {
        let _ = rabbitmqctl(&["delete_user", &self.0]);
    }
}

pub fn rabbitmqctl(args: &[&str]) -> Result<(), String> {
    let out = Command::new("rabbitmqctl")
        .args(args)
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// Open connections of `user`, as the broker lists them.
pub async fn connections_of(user: &str) -> usize {
    let out = tokio::process::Command::new("rabbitmqctl")
        .args(["list_connections", "--no-table-headers", "-q", "user"])
        .output()
        .await
        .expect("rabbitmqctl list_connections");
    assert!(
        out.status.success(),
        "rabbitmqctl list_connections: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.trim() == user)
        .count()
}
