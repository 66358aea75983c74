//! The patchbay REST API as a standalone server.
//!
//! `cargo run --example server` starts on 127.0.0.1:8080 with a SQLite
//! database (and its key file) in the working directory. See `--help`.

mod auth;
mod store;
mod tables;

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;
use patchbay::{NetworkPolicy, ProfileService};
use tracing_subscriber::EnvFilter;

/// Serves the connection-profiles API under /api/v1.
#[derive(Parser, Debug)]
#[command(version, about, after_help = auth::THREAT_MODEL)]
struct Args {
    /// Without a subcommand the server serves.
    #[command(subcommand)]
    command: Option<auth::Command>,
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "PATCHBAY_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// `sqlite://FILE` (held by this server alone), `postgres://…`, or
    /// `memory:` (nothing kept).
    #[arg(
        long,
        env = "PATCHBAY_DATABASE_URL",
        default_value = "sqlite://patchbay.db"
    )]
    database_url: String,
    /// File holding the base64 sealing key; created (mode 0600) when missing.
    /// Default: `<database file>.key` for SQLite, `patchbay.key` for Postgres.
    #[arg(long, env = "PATCHBAY_KEY_FILE")]
    key_file: Option<PathBuf>,
    /// Postgres schema holding the tables.
    #[arg(long, env = "PATCHBAY_PG_SCHEMA", default_value = "patchbay")]
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
    #[command(flatten)]
    auth: auth::AuthArgs,
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let mut args = Args::parse();
    if let Some(command) = args.command.take() {
        std::process::exit(auth::run_command(command));
    }
    // Checked before anything is opened; exit code 2, like a usage error.
    let access = match auth::Access::prepare(&args.auth, args.listen) {
        Ok(access) => access,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    if let Err(e) = run(args, access).await {
        tracing::error!("{e}");
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

async fn run(args: Args, access: auth::Access) -> Result<(), Box<dyn std::error::Error>> {
    let (repo, keyring) = store::open(
        &args.database_url,
        args.key_file.as_deref(),
        &args.pg_schema,
    )
    .await?;
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
        .sealer(keyring)
        .network_policy(policy)
        .connector(patchbay_connector_kafka::KafkaConnector)
        .connector(patchbay_connector_postgres::PostgresConnector)
        .connector(patchbay_connector_mysql::MySqlConnector)
        .connector(patchbay_connector_redis::RedisConnector)
        .connector(patchbay_connector_nats::NatsConnector)
        .connector(patchbay_connector_mqtt::MqttConnector)
        .connector(patchbay_connector_rabbitmq::RabbitMqConnector)
        .build()?;

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
    let app = access.apply(app, addr);
    tracing::info!(database = %store::redacted(&args.database_url), "patchbay ready");
    // Scripts wait for this line; keep its shape.
    println!("patchbay listening on http://{addr}/api/v1");
    axum::serve(listener, app)
        .with_graceful_shutdown(patchbay_http::shutdown_signal())
        .await?;
    tracing::info!("stopped");
    Ok(())
}
