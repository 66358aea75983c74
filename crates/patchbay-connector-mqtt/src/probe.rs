//! The connection test: CONNECT/CONNACK (credentials checked), SUBSCRIBE to
//! `$SYS/broker/version`/SUBACK, UNSUBSCRIBE/UNSUBACK (with the retained
//! version between, if the broker publishes it), DISCONNECT. rumqttc's event loop runs only while we poll it here and is
//! dropped before returning, so nothing keeps running.

use patchbay_core::{CheckedAddrs, Endpoint, Error, FailureReason, Result, TestReport};
use rumqttc::{
    AsyncClient, ConnectReturnCode, ConnectionError, Event, EventLoop, MqttOptions, Outgoing,
    Packet, QoS, SubscribeReasonCode,
};
use tokio::time::{timeout_at, Instant};

use crate::client::mqtt_options_via;
use crate::config::MqttConfig;

/// Where Mosquitto (and some others) publish their version, retained.
const VERSION_TOPIC: &str = "$SYS/broker/version";

/// Tests the config by `deadline`, connecting to the `checked` addresses
/// in turn (the next only when one refuses).
pub async fn test(
    config: &MqttConfig,
    checked: &CheckedAddrs,
    deadline: Instant,
) -> Result<TestReport> {
    let start = Instant::now();
    let broker = config
        .broker()
        .ok_or_else(|| Error::invalid("/config/url", "not an MQTT URL"))?;
    let ep = broker.endpoint;
    // The profile's own options; what `attempt` adds is the probe's event loop.
    let all = mqtt_options_via(config, checked)?;
    if checked.get(&ep).is_empty() {
        // Resolve first so a bad name is told apart from other I/O errors.
        let lookup = tokio::net::lookup_host((ep.host.as_str(), ep.port));
        match timeout_at(deadline, lookup).await {
            Ok(Err(e)) => {
                return Err(Error::connection_failed(
                    FailureReason::Dns,
                    format!("cannot resolve {}: {e}", ep.host),
                ))
            }
            Ok(Ok(_)) => {}
            Err(_) => return Err(too_late(&ep)),
        }
    }
    let count = all.len();
    for (i, opts) in all.into_iter().enumerate() {
        match attempt(config, opts, &ep, start, deadline).await {
            Err(Error::ConnectionFailed(f))
                if f.reason == FailureReason::Refused && i + 1 < count => {}
            other => return other,
        }
    }
    unreachable!("the last attempt returns")
}

fn too_late(ep: &Endpoint) -> Error {
    Error::connection_failed(
        FailureReason::Timeout,
        format!("no CONNACK/SUBACK from {ep} before the deadline"),
    )
}

/// One connection with `opts`: CONNECT, SUBSCRIBE, the retained version,
/// DISCONNECT.
async fn attempt(
    config: &MqttConfig,
    opts: MqttOptions,
    ep: &Endpoint,
    start: Instant,
    deadline: Instant,
) -> Result<TestReport> {
    let tls = config.tls();
    let (client, mut events) = AsyncClient::new(opts, 10);
    // The deadline cuts first; the client's own connect timeout is a backstop.
    let mut net = events.network_options();
    let left = deadline.saturating_duration_since(Instant::now());
    net.set_connection_timeout(left.as_secs() + 2);
    // Small request/response packets: do not let Nagle hold them.
    net.set_tcp_nodelay(true);
    events.set_network_options(net);

    let work = async {
        loop {
            match events.poll().await.map_err(|e| classify(e, tls))? {
                Event::Incoming(Packet::ConnAck(_)) => break,
                _ => continue,
            }
        }
        client
            .subscribe(VERSION_TOPIC, QoS::AtMostOnce)
            .await
            .map_err(|e| Error::connection_failed(FailureReason::Other, e.to_string()))?;
        let granted = loop {
            match events.poll().await.map_err(|e| classify(e, tls))? {
                Event::Incoming(Packet::SubAck(ack)) => {
                    break ack
                        .return_codes
                        .iter()
                        .all(|c| !matches!(c, SubscribeReasonCode::Failure));
                }
                _ => continue,
            }
        };
        let ms = u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX);
        let version = if granted {
            retained_version(&client, &mut events)
                .await
                .map_err(|e| classify(e, tls))?
        } else {
            None
        };
        disconnect(&client, &mut events).await;
        Ok((ms, version))
    };
    let result = timeout_at(deadline, work)
        .await
        .unwrap_or_else(|_| Err(too_late(ep)));
    drop(events);
    let (ms, version) = result?;
    let mut report = TestReport::success(ms);
    if let Some(v) = version {
        match v.strip_prefix("mosquitto version ") {
            Some(n) => report = report.with_version(n).with_detail("product", "mosquitto"),
            None => report = report.with_version(v),
        }
    }
    Ok(report)
}

/// The retained `$SYS/broker/version` message, if the broker has one:
/// UNSUBSCRIBE at once and read until UNSUBACK, which the broker sends after
/// any retained message. Sending straight away also carries our ACK of the
/// SUBACK, so a broker with Nagle on (Mosquitto's default) does not hold the
/// retained message for our delayed ACK (~40 ms).
async fn retained_version(
    client: &AsyncClient,
    events: &mut EventLoop,
) -> std::result::Result<Option<String>, ConnectionError> {
    if client.unsubscribe(VERSION_TOPIC).await.is_err() {
        return Ok(None);
    }
    let mut version = None;
    loop {
        match events.poll().await? {
            Event::Incoming(Packet::Publish(p)) if p.topic == VERSION_TOPIC => {
                version = String::from_utf8(p.payload.to_vec()).ok();
            }
            Event::Incoming(Packet::UnsubAck(_)) => return Ok(version),
            _ => continue,
        }
    }
}

/// Sends DISCONNECT and polls until it is written (or the link fails).
async fn disconnect(client: &AsyncClient, events: &mut EventLoop) {
    if client.disconnect().await.is_err() {
        return;
    }
    loop {
        match events.poll().await {
            Ok(Event::Outgoing(Outgoing::Disconnect)) | Err(_) => return,
            Ok(_) => continue,
        }
    }
}

/// Maps a connection error to a classified failure.
pub fn classify(e: ConnectionError, tls: bool) -> Error {
    let (reason, message) = match &e {
        ConnectionError::ConnectionRefused(code) => {
            let reason = match code {
                ConnectReturnCode::BadUserNamePassword | ConnectReturnCode::NotAuthorized => {
                    FailureReason::Auth
                }
                _ => FailureReason::Other,
            };
            let text = match code {
                ConnectReturnCode::Success => "accepted",
                ConnectReturnCode::RefusedProtocolVersion => {
                    "unacceptable protocol version (CONNACK 1)"
                }
                ConnectReturnCode::BadClientId => "client identifier rejected (CONNACK 2)",
                ConnectReturnCode::ServiceUnavailable => "server unavailable (CONNACK 3)",
                ConnectReturnCode::BadUserNamePassword => "bad user name or password (CONNACK 4)",
                ConnectReturnCode::NotAuthorized => "not authorized (CONNACK 5)",
            };
            (reason, format!("the broker refused the connection: {text}"))
        }
        ConnectionError::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            (FailureReason::Refused, e.to_string())
        }
        ConnectionError::NetworkTimeout => (FailureReason::Timeout, e.to_string()),
        ConnectionError::Tls(_) => (FailureReason::Tls, e.to_string()),
        // Handshake and certificate errors can surface as I/O errors.
        ConnectionError::Io(_) if tls => (FailureReason::Tls, e.to_string()),
        _ => (FailureReason::Other, e.to_string()),
    };
    Error::connection_failed(reason, message)
}
