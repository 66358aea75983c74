//! 200 probes, a quarter of them with a wrong password, leave no connection
//! open: counted by the broker itself (`$SYS/broker/clients/connected`) on
//! a private Mosquitto, so other tests' clients do not count.

mod common;

use std::sync::Arc;
use std::time::Duration;

use patchbay_connector_mqtt::rumqttc::{AsyncClient, Event, MqttOptions, Outgoing, Packet, QoS};
use patchbay_connector_mqtt::{mqtt_options, MqttConfig, MqttConnector};
use patchbay_testkit::hygiene::{probe_many, settle};
use serde_json::json;
use tokio::sync::watch;

const PASSWORD: &str = "hygiene-right-pass";

/// What the broker last said: `$SYS` ticks seen (uptime messages, one per
/// `sys_interval`) and `clients/connected`, which it publishes on change.
#[derive(Clone, Copy, Default)]
struct Sys {
    ticks: u64,
    connected: Option<usize>,
}

/// A subscriber to the broker's `$SYS` counts (it is one of the clients).
struct Watcher {
    _client: AsyncClient,
    sys: watch::Receiver<Sys>,
}

impl Watcher {
    async fn start(port: u16) -> Self {
        let mut opts = MqttOptions::new("hygiene-watcher", "127.0.0.1", port);
        opts.set_credentials("app", PASSWORD);
        let (client, mut events) = AsyncClient::new(opts, 16);
        client
            .subscribe("$SYS/broker/uptime", QoS::AtMostOnce)
            .await
            .expect("subscribe");
        client
            .subscribe("$SYS/broker/clients/connected", QoS::AtMostOnce)
            .await
            .expect("subscribe");
        let (tx, sys) = watch::channel(Sys::default());
        tokio::spawn(async move {
            while let Ok(event) = events.poll().await {
                let Event::Incoming(Packet::Publish(p)) = event else {
                    continue;
                };
                let text = String::from_utf8_lossy(&p.payload).into_owned();
                tx.send_modify(|s| {
                    if p.topic.ends_with("/uptime") {
                        s.ticks += 1;
                    } else {
                        s.connected = text.trim().parse().ok();
                    }
                });
            }
        });
        Self {
            _client: client,
            sys,
        }
    }

    /// Clients connected other than the watcher, as of a `$SYS` tick after
    /// the call. A tick publishes `uptime` first, then the counts: after a
    /// third `uptime` the counts of the second have arrived, and the second
    /// was published after the call (the first may have been in flight).
    async fn others(&self) -> usize {
        let mut sys = self.sys.clone();
        let from = sys.borrow().ticks;
        let now = tokio::time::timeout(
            Duration::from_secs(20),
            sys.wait_for(|s| s.ticks >= from + 3 && s.connected.is_some()),
        )
        .await
        .expect("$SYS ticks every second")
        .expect("watcher running");
        let connected = now.connected.expect("a count");
        connected
            .checked_sub(1)
            .expect("the watcher itself is counted")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_probes_leave_no_connection_open() {
    let Some(broker) = common::private_broker("app", PASSWORD, "sys_interval 1").await else {
        return;
    };
    let url = format!("mqtt://127.0.0.1:{}", broker.port);
    let good = json!({ "url": url, "username": "app", "password": PASSWORD });
    let bad = json!({ "url": url, "username": "app", "password": "hygiene-wrong-pass" });
    let watcher = Watcher::start(broker.port).await;
    assert_eq!(settle(|| watcher.others(), 0).await, 0, "before");

    // The count is real: it sees a client from the profile's own options.
    let typed: MqttConfig = serde_json::from_value(good.clone()).expect("config");
    let (held, mut held_events) = AsyncClient::new(mqtt_options(&typed).expect("options"), 4);
    // Its loop runs until its DISCONNECT is written.
    let held_loop = tokio::spawn(async move {
        loop {
            match held_events.poll().await {
                Ok(Event::Outgoing(Outgoing::Disconnect)) | Err(_) => return,
                Ok(_) => continue,
            }
        }
    });
    assert_eq!(settle(|| watcher.others(), 1).await, 1, "held");
    held.disconnect().await.expect("disconnect");
    held_loop.await.expect("loop ends");
    assert_eq!(settle(|| watcher.others(), 0).await, 0, "disconnected");

    probe_many(Arc::new(MqttConnector), &good, &bad, 4).await;
    let left = settle(|| watcher.others(), 0).await;
    assert_eq!(left, 0, "{left} connection(s) still open after 200 probes");
}
