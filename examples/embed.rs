//! patchbay inside a service, with no HTTP: create a profile, test it,
//! ask for autocomplete suggestions, delete it.
//!
//! Runs against the local Postgres (127.0.0.1:5432, user postgres, trust):
//! `cargo run --example embed`. Set `PATCHBAY_PG_URL` to point elsewhere,
//! e.g. `postgres://postgres@db.internal:5432/app`.

use std::sync::Arc;

use patchbay::{AutocompleteQuery, Keyring, NewProfile, ProfileService};
use patchbay_store_sqlite::SqliteStore;
use serde_json::json;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // An in-memory SQLite database and a throwaway key: nothing is left behind.
    let store = SqliteStore::open("sqlite::memory:").await?;
    let service = ProfileService::builder(Arc::new(store))
        .sealer(Keyring::ephemeral())
        .connector(patchbay_connector_postgres::PostgresConnector)
        .build()?;

    let url = std::env::var("PATCHBAY_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let (host, port, user, password, database) = parts(&url);
    let profile = service
        .create(NewProfile {
            name: "local-postgres".into(),
            connector: "postgres".into(),
            description: Some("The database next door".into()),
            // The password is sealed before it is stored and never shown again.
            config: json!({
                "host": host, "port": port, "database": database,
                "username": user, "password": password,
            }),
            labels: Default::default(),
        })
        .await?;
    println!(
        "created {} ({}), version {}",
        profile.name, profile.id, profile.version
    );

    match service.test_profile(&profile.id, None).await {
        Ok(report) => println!(
            "test: {} in {} ms, server {:?}",
            report.message, report.details.latency_ms, report.details.version
        ),
        Err(e) => println!("test failed [{}]: {e}", e.code()),
    }

    let mut query = AutocompleteQuery::new("schemas");
    query.limit = 5;
    match service.autocomplete(&profile.id, &query).await {
        Ok(suggestions) => {
            for s in suggestions {
                println!("schema suggestion: {}", s.value);
            }
        }
        Err(e) => println!("autocomplete failed [{}]: {e}", e.code()),
    }

    service.delete(&profile.id).await?;
    println!("deleted {}", profile.id);
    Ok(())
}

/// Host, port, user, password and database out of
/// `postgres://user[:password]@host[:port][/db]` (no URL escapes).
fn parts(url: &str) -> (String, u16, String, String, String) {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let (userinfo, rest) = rest.rsplit_once('@').unwrap_or(("postgres", rest));
    let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, "postgres"));
    let (hostport, db) = rest.split_once('/').unwrap_or((rest, "postgres"));
    let (host, port) = hostport.split_once(':').unwrap_or((hostport, "5432"));
    (
        host.into(),
        port.parse().unwrap_or(5432),
        user.into(),
        password.into(),
        db.into(),
    )
}
