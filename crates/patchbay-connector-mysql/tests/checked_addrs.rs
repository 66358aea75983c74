//! The probe and the builder's client connect to the addresses the service
//! checked, with no lookup of their own: a host name that cannot resolve,
//! carrying the local server's address as its checked one, connects.
//! `verify-ca`/`verify-full` keep the name (sqlx has one host for TCP and
//! TLS): shown here on the options.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::{admin, config, user};
use patchbay_connector_mysql::{connect_options_via, MySqlConnector};
use patchbay_connector_sql::SqlConfig;
use patchbay_core::{
    AutocompleteQuery, CheckedAddrs, Connector, Endpoint, Error, FailureReason, ResolvedConfig,
};
use patchbay_testkit::net::{refused_port, UNRESOLVABLE_HOST};
use serde_json::{json, Value};
use sqlx::{ConnectOptions, Connection, Executor, Row};
use tokio::time::Instant;

const LOCAL: &str = "127.0.0.1:3306";
const PASSWORD: &str = "checked-pw";

fn pinned(cfg: &Value, addrs: &[SocketAddr]) -> ResolvedConfig {
    let mut cfg = cfg.clone();
    cfg["host"] = json!(UNRESOLVABLE_HOST);
    ResolvedConfig::new(cfg)
        .with_checked_addrs(Endpoint::new(UNRESOLVABLE_HOST, 3306), addrs.to_vec())
}

fn deadline() -> Instant {
    Instant::now() + Duration::from_secs(10)
}

/// The builder's client: the first of its options that connects, asked
/// who it is.
async fn builder_user(resolved: &ResolvedConfig) -> Result<String, sqlx::Error> {
    let typed: SqlConfig = resolved.parse().unwrap();
    let mut last = None;
    for options in connect_options_via(&typed, resolved.checked()).unwrap() {
        match options.connect().await {
            Ok(mut conn) => {
                let who: String = conn.fetch_one("SELECT CURRENT_USER()").await?.get(0);
                conn.close().await?;
                return Ok(who);
            }
            Err(e) => last = Some(e),
        }
    }
    Err(last.expect("at least one option"))
}

fn failure(result: Result<impl std::fmt::Debug, Error>) -> (FailureReason, String) {
    match result {
        Err(Error::ConnectionFailed(f)) => (f.reason, f.message),
        other => panic!("expected a connection failure, got {other:?}"),
    }
}

#[tokio::test]
async fn probe_and_builder_connect_to_the_checked_address() {
    let Some(mut admin) = admin().await else {
        return;
    };
    let (name, _drop) = user(&mut admin, "checked", PASSWORD).await;
    let cfg = config(&name, PASSWORD);

    let mut by_name = cfg.clone();
    by_name["host"] = json!(UNRESOLVABLE_HOST);
    let (reason, message) = failure(
        MySqlConnector
            .test(&ResolvedConfig::new(by_name), deadline())
            .await,
    );
    assert_eq!(reason, FailureReason::Dns, "{message}");

    let local: Vec<SocketAddr> = vec![LOCAL.parse().unwrap()];
    for mode in ["disable", "prefer"] {
        let mut cfg = cfg.clone();
        cfg["tls_mode"] = json!(mode);
        let resolved = pinned(&cfg, &local);
        let report = MySqlConnector.test(&resolved, deadline()).await.unwrap();
        assert!(report.details.version.is_some(), "{mode}: {report:?}");
        let query = AutocompleteQuery::new("schemas");
        MySqlConnector
            .autocomplete(&resolved, &query, deadline())
            .await
            .unwrap_or_else(|e| panic!("{mode}: {e}"));
        let who = builder_user(&resolved).await.unwrap();
        assert!(who.starts_with(&format!("{name}@")), "{mode}: {who}");
    }

    // A refusing address first: the next checked one is tried.
    let refusing: SocketAddr = format!("127.0.0.1:{}", refused_port()).parse().unwrap();
    let resolved = pinned(&cfg, &[refusing, LOCAL.parse().unwrap()]);
    MySqlConnector.test(&resolved, deadline()).await.unwrap();
    assert!(builder_user(&resolved).await.is_ok());

    // Only a refusing address: refused, never dns.
    let (reason, message) = failure(
        MySqlConnector
            .test(&pinned(&cfg, &[refusing]), deadline())
            .await,
    );
    assert_eq!(reason, FailureReason::Refused, "{message}");
}

#[test]
fn options_name_the_address_only_where_tls_allows() {
    let checked = CheckedAddrs::default().with(
        Endpoint::new(UNRESOLVABLE_HOST, 3306),
        vec![LOCAL.parse().unwrap()],
    );
    for (mode, host) in [
        ("disable", "127.0.0.1"),
        ("prefer", "127.0.0.1"),
        ("require", "127.0.0.1"),
        ("verify-ca", UNRESOLVABLE_HOST),
        ("verify-full", UNRESOLVABLE_HOST),
    ] {
        let typed: SqlConfig = serde_json::from_value(json!({
            "host": UNRESOLVABLE_HOST, "username": "u", "tls_mode": mode
        }))
        .unwrap();
        let options = connect_options_via(&typed, &checked).unwrap();
        assert_eq!(options.len(), 1, "{mode}");
        assert_eq!(
            (options[0].get_host(), options[0].get_port()),
            (host, 3306),
            "{mode}"
        );
    }
}
