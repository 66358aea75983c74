//! patchbay inside a service, with no HTTP: create a profile, test it,
//! ask for autocomplete suggestions, delete it.
//!
//! Runs against the local Postgres (127.0.0.1:5432, user postgres, trust):
//! `cargo run --example embed`. Set `PATCHBAY_PG_URL` to point elsewhere,
//! e.g. `postgres://postgres@db.internal:5432/app`.

use std::sync::Arc;

use patchbay::{AutocompleteQuery, Keyring, ProfileService};
use patchbay_store_sqlite::SqliteStore;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // An in-memory SQLite database and a throwaway key: nothing is left behind.
    let store = SqliteStore::open("sqlite::memory:").await?;
    let service = ProfileService::builder(Arc::new(store))
        .sealer(Keyring::ephemeral())
        .connector(patchbay_connector_postgres::PostgresConnector)
        .build()?;

    let url = std::env::var("PATCHBAY_PG_URL")
        .unwrap_or_else(|_| "postgresql://postgres@127.0.0.1:5432/test?sslmode=prefer".into());
    // The URI's password (percent-encoded) is sealed before it is stored and
    // never shown again; `uri_of` renders the profile without it.
    let profile = service
        .create_from_uri(
            "local-postgres",
            &url,
            Some("The database next door".into()),
            Default::default(),
        )
        .await?;
    println!(
        "created {} ({}), version {}: {}",
        profile.name,
        profile.id,
        profile.version,
        service.uri_of(&profile)?.unwrap_or_default()
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
