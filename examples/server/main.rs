//! The patchbay REST API as a standalone server.
//!
//! `cargo run --example server` starts on 127.0.0.1:8080 with a SQLite
//! database (and its key file) in the working directory. See `--help`.

mod keys;
mod store;
mod tables;

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use patchbay::{NetworkPolicy, ProfileService};
use tracing_subscriber::EnvFilter;

/// Serves the connection-profiles API under /api/v1.
///
/// Secrets are sealed with the key in `--key-file`. At startup the store is
/// checked to hold only secrets this server's keys open (by the key check
/// values it records): a server with the wrong key exits with an error
/// naming the key ids instead of serving. Keys: `server key --help`.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "PATCHBAY_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// `sqlite://FILE` (held by this server alone), `postgres://…`, or
    /// `memory:` (nothing kept).
    #[arg(
        long,
        global = true,
        env = "PATCHBAY_DATABASE_URL",
        default_value = "sqlite://patchbay.db"
    )]
    database_url: String,
    /// File holding the base64 key that seals secrets. SQLite: default
    /// `<database file>.key`, created (mode 0600) when missing. Postgres:
    /// required (or the key itself, base64, in PATCHBAY_SEAL_KEY), never
    /// created: make one with `server key new --out FILE`.
    #[arg(long, global = true, env = "PATCHBAY_KEY_FILE")]
    key_file: Option<PathBuf>,
    /// Files holding older keys, which open secrets but never seal
    /// (repeatable or comma-separated): kept until a rotation moved every
    /// secret off them.
    #[arg(
        long,
        global = true,
        env = "PATCHBAY_OLD_KEY_FILES",
        value_delimiter = ','
    )]
    old_key_file: Vec<PathBuf>,
    /// Postgres schema holding the tables.
    #[arg(
        long,
        global = true,
        env = "PATCHBAY_PG_SCHEMA",
        default_value = "patchbay"
    )]
    pg_schema: String,
    /// Refuse probes to loopback and private networks too.
    #[arg(long, env = "PATCHBAY_DENY_PRIVATE_NETWORKS")]
    deny_private_networks: bool,
    /// Let probes reach only these networks (CIDR; repeatable or
    /// comma-separated). Default: anything but link-local and cloud metadata.
    #[arg(long, env = "PATCHBAY_PROBE_ALLOW", value_delimiter = ',')]
    probe_allow: Vec<String>,
    /// Let probes resolve only these host names (`db.example.com` or
    /// `*.example.com`; repeatable or comma-separated). Other names are
    /// refused before any DNS query. Default: any name.
    #[arg(long, env = "PATCHBAY_PROBE_ALLOW_HOST", value_delimiter = ',')]
    probe_allow_host: Vec<String>,
    /// Bytes of rendered GET bodies reused until the next write (0: off).
    /// Only for stores that see every write: SQLite here, and `memory:`.
    #[arg(long, env = "PATCHBAY_RESPONSE_CACHE_BYTES", default_value_t = patchbay_http::DEFAULT_RESPONSE_CACHE_BYTES)]
    response_cache_bytes: u64,
}

/// Without a subcommand, the server serves.
#[derive(Subcommand, Debug)]
enum Command {
    /// Sealing keys: create, rotate, retire.
    #[command(subcommand)]
    Key(keys::KeyCommand),
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    if let Err(e) = run(Args::parse()).await {
        tracing::error!("{e}");
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let key_sources = store::KeySources {
        key_file: args.key_file.as_deref(),
        old_key_files: &args.old_key_file,
    };
    if let Some(Command::Key(command)) = args.command {
        return keys::run(command, &args.database_url, &key_sources, &args.pg_schema).await;
    }
    let (repo, keys) = store::open(&args.database_url, &key_sources, &args.pg_schema).await?;
    let mut policy = NetworkPolicy::default();
    if args.deny_private_networks {
        policy = policy.deny_private_networks();
    }
    for net in &args.probe_allow {
        policy = policy.allow(
            net.parse()
                .map_err(|e| format!("--probe-allow {net:?}: {e}"))?,
        );
    }
    for host in &args.probe_allow_host {
        policy = policy.allow_host_name(host);
    }
    let service = ProfileService::builder(repo)
        .sealer(store::keyring(keys))
        .network_policy(policy)
        .connector(patchbay_connector_kafka::KafkaConnector)
        .connector(patchbay_connector_postgres::PostgresConnector)
        .connector(patchbay_connector_mysql::MySqlConnector)
        .connector(patchbay_connector_redis::RedisConnector)
        .connector(patchbay_connector_nats::NatsConnector)
        .connector(patchbay_connector_mqtt::MqttConnector)
        .connector(patchbay_connector_rabbitmq::RabbitMqConnector)
        // Refuses a keyring that cannot open the stored secrets, naming the key ids.
        .build_checked()
        .await?;

    let tables = tables::Tables::load(service.clone()).await?;
    let api = patchbay_http::HttpApi::new(service)
        .mount_path("/api/v1")
        .response_cache_bytes(args.response_cache_bytes)
        // Request spans only when RUST_LOG would record them (e.g. tower_http=debug).
        .trace_requests(tracing::enabled!(
            target: "tower_http::trace",
            tracing::Level::DEBUG
        ))
        .into_mounted_router();
    let app: axum::Router = api.merge(tables.router("/api/v1"));

    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    let addr = listener.local_addr()?;
    tracing::info!(database = %store::redacted(&args.database_url), "patchbay ready");
    // Scripts wait for this line; keep its shape.
    println!("patchbay listening on http://{addr}/api/v1");
    axum::serve(listener, app)
        .with_graceful_shutdown(patchbay_http::shutdown_signal())
        .await?;
    tracing::info!("stopped");
    Ok(())
}
