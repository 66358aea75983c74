//! Certificate checks against a real TLS listener (`nats-server` with a
//! `tls {}` block, started by `scripts/services/tls.sh` with a test CA):
//! the right CA and name succeed, a wrong CA or host name fails as `tls`.
//! The connector has no switch to skip verification, so no config gets
//! past a bad certificate.

use std::time::Duration;

use futures_util::StreamExt;
use patchbay_connector_nats::{connect_options, server_addrs, NatsConfig, NatsConnector};
use patchbay_core::{Connector, Error, FailureReason, ResolvedConfig};
use patchbay_testkit::tls::TlsListener;
use serde_json::{json, Value};
use tokio::time::{timeout, Instant};

fn listener() -> Option<TlsListener> {
    TlsListener::require("NATS")
}

fn config(server: String, ca: Option<&str>) -> Value {
    json!({ "servers": [server], "tls": { "enabled": true, "ca_cert_pem": ca } })
}

async fn probe(cfg: &Value) -> Result<patchbay_core::TestReport, Error> {
    NatsConnector
        .test(
            &ResolvedConfig::new(cfg.clone()),
            Instant::now() + Duration::from_secs(10),
        )
        .await
}

/// The public builder's client, bounded: `None` when it cannot connect.
async fn builder_client(cfg: &Value) -> Option<async_nats::Client> {
    let cfg: NatsConfig = serde_json::from_value(cfg.clone()).expect("config");
    let connect = async {
        connect_options(&cfg)
            .expect("options")
            .connect(server_addrs(&cfg).expect("servers"))
            .await
            .ok()
    };
    timeout(Duration::from_secs(10), connect)
        .await
        .expect("the builder's client connects or fails within 10 s")
}

#[tokio::test]
async fn trusted_ca_probe_and_client_work() {
    let Some(l) = listener() else { return };
    // TLS asked for by the field or by the scheme.
    for cfg in [
        config(l.host_port(), Some(&l.ca_pem)),
        json!({ "servers": [format!("tls://{}", l.host_port())], "tls": { "ca_cert_pem": l.ca_pem } }),
    ] {
        let report = probe(&cfg).await.unwrap_or_else(|e| panic!("{cfg}: {e}"));
        assert!(report.details.version.is_some(), "{report:?}");
    }

    // Real work with the builder's clients: a round trip through the server.
    let cfg = config(l.host_port(), Some(&l.ca_pem));
    let subject = format!("patchbay.tls.{}", uuid::Uuid::new_v4().simple());
    let subscriber = builder_client(&cfg).await.expect("subscriber over TLS");
    let publisher = builder_client(&cfg).await.expect("publisher over TLS");
    let mut messages = subscriber.subscribe(subject.clone()).await.expect("sub");
    // The SUB is registered once the subscriber's own message comes back:
    // one connection keeps order, while `flush` does not wait for the server.
    subscriber
        .publish(subject.clone(), "ready".into())
        .await
        .expect("ready");
    let ready = timeout(Duration::from_secs(10), messages.next())
        .await
        .expect("the ready message within 10 s")
        .expect("subscription open");
    assert_eq!(&ready.payload[..], b"ready");
    publisher
        .publish(subject.clone(), "over tls".into())
        .await
        .expect("pub");
    publisher.flush().await.expect("flush");
    let message = timeout(Duration::from_secs(10), messages.next())
        .await
        .expect("the message within 10 s")
        .expect("subscription open");
    assert_eq!(&message.payload[..], b"over tls");
    let _ = publisher.drain().await;
    let _ = subscriber.drain().await;
}

/// Every way to get the certificate wrong.
fn bad_configs(l: &TlsListener) -> Vec<(Value, &'static str)> {
    vec![
        // A CA with the CA's name but another key: only the signature differs.
        (config(l.host_port(), Some(&l.wrong_ca_pem)), "wrong CA"),
        // No CA given: the web roots do not know the test CA.
        (config(l.host_port(), None), "web roots"),
        // The right CA, but 127.0.0.1 is not a name in the certificate.
        (config(l.ip_port(), Some(&l.ca_pem)), "wrong host name"),
        (
            json!({ "servers": [format!("tls://{}", l.ip_port())], "tls": { "ca_cert_pem": l.ca_pem } }),
            "wrong host name, tls://",
        ),
    ]
}

#[tokio::test]
async fn a_bad_certificate_fails_as_tls_in_probe_and_client() {
    let Some(l) = listener() else { return };
    for (cfg, what) in bad_configs(&l) {
        match probe(&cfg).await {
            Err(Error::ConnectionFailed(f)) if f.reason == FailureReason::Tls => {
                eprintln!("{what}: {}", f.message);
                // The certificate check failed, not some other part of TLS.
                assert!(f.message.contains("certificate"), "{what}: {}", f.message);
            }
            other => panic!("{what}: expected a tls failure, got {other:?}"),
        }
        assert!(builder_client(&cfg).await.is_none(), "builder: {what}");
    }
}

#[tokio::test]
async fn no_setting_gets_past_a_bad_certificate() {
    let Some(l) = listener() else { return };
    // TLS not asked for: the server requires it and the client upgrades,
    // still verifying (against the web roots, as the CA is unused).
    let plain = json!({ "servers": [l.host_port()], "tls": { "ca_cert_pem": l.ca_pem } });
    match probe(&plain).await {
        Err(Error::ConnectionFailed(f)) => {
            eprintln!("TLS off: {:?} {}", f.reason, f.message);
            assert_eq!(f.reason, FailureReason::Tls, "TLS off: {}", f.message);
        }
        other => panic!("TLS off: expected a tls failure, got {other:?}"),
    }
    assert!(builder_client(&plain).await.is_none(), "builder: TLS off");
    // The schema has no switch to turn verification off.
    for switch in ["insecure_skip_verify", "insecure", "verify"] {
        let mut cfg = config(l.host_port(), Some(&l.wrong_ca_pem));
        cfg["tls"][switch] = json!(false);
        assert!(
            serde_json::from_value::<NatsConfig>(cfg).is_err(),
            "{switch} is not a setting"
        );
    }
}
