//! `client_config_via`: a client that connects to a checked address (and so
//! asks TLS for the address) still has the certificate checked against the
//! host name that resolved to it, exactly as strictly; real handshakes
//! with a TLS server on loopback.

use std::net::SocketAddr;
use std::sync::Arc;

use patchbay_core::{CheckedAddrs, Endpoint};
use patchbay_testkit::net::refused_port;
use patchbay_testkit::tls_proxy::TlsProxy;
use patchbay_tls::{client_config, client_config_via};
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::rustls::ClientConfig;
use tokio_rustls::TlsConnector;

const NAME: &str = "broker.patchbay.invalid";

/// A TLS server whose certificate names `names` (upstream: nothing).
async fn server(names: &[&str]) -> TlsProxy {
    let nowhere: SocketAddr = format!("127.0.0.1:{}", refused_port()).parse().unwrap();
    TlsProxy::start(names, nowhere).await
}

/// A handshake to `proxy`'s address, asking TLS for that address as the
/// drivers do when handed one.
async fn handshake(config: ClientConfig, proxy: &TlsProxy) -> Result<(), String> {
    let tcp = tokio::net::TcpStream::connect(proxy.addr())
        .await
        .expect("connect");
    let name = ServerName::IpAddress(proxy.addr().ip().into());
    TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .map(drop)
        .map_err(|e| e.to_string())
}

fn checked(host: &str, proxy: &TlsProxy) -> CheckedAddrs {
    CheckedAddrs::default().with(Endpoint::new(host, 1), vec![proxy.addr()])
}

#[tokio::test]
async fn the_name_behind_the_address_is_verified() {
    let proxy = server(&[NAME]).await;
    let ca = Some(proxy.ca_pem());

    // Asked for the address, a plain config finds the name missing.
    let err = handshake(client_config(ca).unwrap(), &proxy)
        .await
        .unwrap_err();
    assert!(err.contains("not valid for name"), "{err}");

    // Told which name the address stands for, the same certificate passes.
    let config = client_config_via(ca, &checked(NAME, &proxy)).unwrap();
    handshake(config, &proxy).await.unwrap();
}

#[tokio::test]
async fn nothing_gets_weaker() {
    let proxy = server(&["other.patchbay.invalid"]).await;
    let ca = Some(proxy.ca_pem());

    // A certificate for another name fails at the checked address too.
    let config = client_config_via(ca, &checked(NAME, &proxy)).unwrap();
    let err = handshake(config, &proxy).await.unwrap_err();
    assert!(err.contains("not valid for name"), "{err}");

    // An address the config does not map is verified as itself.
    let elsewhere = CheckedAddrs::default().with(
        Endpoint::new("other.patchbay.invalid", 1),
        vec!["10.9.9.9:1".parse().unwrap()],
    );
    let err = handshake(client_config_via(ca, &elsewhere).unwrap(), &proxy)
        .await
        .unwrap_err();
    assert!(err.contains("not valid for name"), "{err}");

    // An untrusted issuer is refused whatever the name.
    let stranger = server(&[NAME]).await;
    let config = client_config_via(Some(stranger.ca_pem()), &checked(NAME, &proxy)).unwrap();
    let err = handshake(config, &proxy).await.unwrap_err();
    assert!(
        err.to_lowercase().contains("issuer") || err.to_lowercase().contains("signature"),
        "{err}"
    );
}

#[tokio::test]
async fn two_names_on_one_address_need_a_certificate_for_either() {
    let proxy = server(&["b.patchbay.invalid"]).await;
    let both = CheckedAddrs::default()
        .with(Endpoint::new("a.patchbay.invalid", 1), vec![proxy.addr()])
        .with(Endpoint::new("b.patchbay.invalid", 2), vec![proxy.addr()]);
    handshake(
        client_config_via(Some(proxy.ca_pem()), &both).unwrap(),
        &proxy,
    )
    .await
    .unwrap();
}
