//! The patchbay REST API as a standalone server.
//!
//! `cargo run --example server` starts on 127.0.0.1:8080 with a SQLite
//! database (and its key file) in the working directory. See `--help`.

mod auth;
mod cli;
mod keys;
mod progress;
mod store;
mod tables;

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use patchbay::{NetworkPolicy, ProfileService, SecretAccess};
use tracing_subscriber::EnvFilter;

/// Serves the connection-profiles API under /api/v1.
///
/// Secrets are sealed with the key in `--key-file`. At startup the store is
/// checked to hold only secrets this server's keys open (by the key check
/// values it records): a server with the wrong key exits with an error
/// naming the key ids instead of serving. Keys: `server key --help`.
#[derive(Parser, Debug)]
#[command(version, about, after_help = auth::THREAT_MODEL)]
struct Args {
    /// Without a subcommand the server serves.
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
    /// Let profiles reference environment variables whose name starts with
    /// this prefix, as `{{ env:NAME }}` (repeatable). Default: none. The
    /// server resolves a reference only for a probe and sends the value to
    /// the host the profile names, so allow only variables meant for that.
    #[arg(long, value_name = "PREFIX")]
    secret_env_prefix: Vec<String>,
    /// Let profiles reference this environment variable (repeatable).
    #[arg(long, value_name = "NAME")]
    secret_env: Vec<String>,
    /// Let profiles reference regular files under this directory, as
    /// `{{ file:/path }}` (repeatable; symlinks are followed and judged where
    /// they lead). Default: none. The key file and the database are always
    /// refused.
    #[arg(long, value_name = "DIR")]
    secret_dir: Vec<PathBuf>,
    /// Bytes of rendered GET bodies reused until the next write (0: off).
    /// Only for stores that see every write: SQLite here, and `memory:`.
    #[arg(long, env = "PATCHBAY_RESPONSE_CACHE_BYTES", default_value_t = patchbay_http::DEFAULT_RESPONSE_CACHE_BYTES)]
    response_cache_bytes: u64,
    /// Apply these provisioning files at start (repeatable): profiles they
    /// list are created or updated, managed by the file. Environment
    /// profiles (`PATCHBAY_CONN_<NAME>`) are always applied, managed by `env`.
    #[arg(long, env = "PATCHBAY_PROVISION", value_delimiter = ',')]
    provision: Vec<PathBuf>,
    /// Let API callers edit and delete provisioned profiles (default: 409
    /// PROFILE_MANAGED); the next apply puts them back.
    #[arg(long, global = true, env = "PATCHBAY_ALLOW_DRIFT")]
    allow_drift: bool,
    #[command(flatten)]
    auth: auth::AuthArgs,
}

/// Without a subcommand, the server serves.
#[derive(Subcommand, Debug)]
enum Command {
    /// Sealing keys: create, rotate, retire.
    #[command(subcommand)]
    Key(keys::KeyCommand),
    /// Bearer tokens for `--token-file`.
    #[command(subcommand)]
    Token(auth::TokenCommand),
    /// Serve the API (what the server does without a subcommand).
    Serve,
    #[command(flatten)]
    Profiles(cli::ProfileCommand),
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
    match args.command.take() {
        Some(Command::Token(command)) => std::process::exit(auth::run_command(command)),
        Some(Command::Key(command)) => {
            let sources = key_sources(&args);
            if let Err(e) = keys::run(command, &args.database_url, &sources, &args.pg_schema).await
            {
                tracing::error!("{e}");
                eprintln!("error: {e}");
                std::process::exit(1);
            }
            return;
        }
        Some(Command::Profiles(command)) => {
            let code = match build_service(&args).await {
                Ok(service) => cli::run(&service, command).await,
                Err(e) => {
                    eprintln!("error: {e}");
                    1
                }
            };
            std::process::exit(code);
        }
        Some(Command::Serve) | None => {}
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

fn key_sources(args: &Args) -> store::KeySources<'_> {
    store::KeySources {
        key_file: args.key_file.as_deref(),
        old_key_files: &args.old_key_file,
    }
}

/// The service over `--database-url`, as `serve` and the CLI use it.
async fn build_service(args: &Args) -> Result<ProfileService, Box<dyn std::error::Error>> {
    let key_sources = key_sources(args);
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
        .secret_access(secret_access(args)?)
        .allow_drift(args.allow_drift)
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
    Ok(service)
}

/// Applies `--provision` files and environment profiles; any problem stops
/// the server before it serves.
async fn provision(
    args: &Args,
    service: &ProfileService,
) -> Result<(), Box<dyn std::error::Error>> {
    use patchbay::provision::{apply, env, ApplyOptions, ProvisionFile};
    let mut sources = Vec::new();
    for path in &args.provision {
        sources.push((
            format!("file:{}", cli::source_name(path)),
            ProvisionFile::read(path)?,
        ));
    }
    let from_env = env::from_env()?;
    if !from_env.profiles.is_empty() {
        sources.push(("env".to_owned(), from_env));
    }
    for (source, file) in sources {
        let options = ApplyOptions {
            source: source.clone(),
            prune: true,
        };
        let report = apply(service, &file, &options).await?;
        tracing::info!(
            %source,
            created = report.created.len(),
            updated = report.updated.len(),
            unchanged = report.unchanged.len(),
            deleted = report.deleted.len(),
            kept_in_use = report.kept_in_use.len(),
            "provisioned"
        );
    }
    Ok(())
}

async fn run(args: Args, access: auth::Access) -> Result<(), Box<dyn std::error::Error>> {
    let service = build_service(&args).await?;
    provision(&args, &service).await?;

    let tables = tables::Tables::new(service.clone());
    let adopted = tables.adopt_plain_attachments().await?;
    if adopted > 0 {
        tracing::info!(
            adopted,
            "connection tables of an older build named in the store"
        );
    }
    // Rendered reads are reused only over a store that sees every write
    // (it reports a revision): never over Postgres, where other replicas write.
    if args.response_cache_bytes > 0 && service.repository().revision().is_none() {
        tracing::info!("response cache off: this store does not see every write");
    }
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

/// What `{{ env: }}` / `{{ file: }}` references may read: what the options
/// allow, minus the sealing key, the database and the database URL.
fn secret_access(args: &Args) -> Result<SecretAccess, Box<dyn std::error::Error>> {
    let mut access = SecretAccess::none().forbid_env("PATCHBAY_DATABASE_URL");
    for prefix in &args.secret_env_prefix {
        if prefix.is_empty() {
            return Err(
                "--secret-env-prefix must not be empty (it would allow every variable)".into(),
            );
        }
        access = access.allow_env_prefix(prefix);
    }
    for name in &args.secret_env {
        access = access.allow_env(name);
    }
    for dir in &args.secret_dir {
        access = access.allow_dir(std::path::absolute(dir)?);
    }
    let database = args
        .database_url
        .strip_prefix("sqlite://")
        .or_else(|| args.database_url.strip_prefix("sqlite:"))
        .map(|rest| PathBuf::from(rest.split('?').next().unwrap_or(rest)));
    let mut protected: Vec<PathBuf> = args.key_file.iter().cloned().collect();
    protected.push(PathBuf::from("patchbay.key"));
    if let Some(db) = database {
        for suffix in ["", "-wal", "-shm", "-journal", ".key", ".lock"] {
            let mut name = db.clone().into_os_string();
            name.push(suffix);
            protected.push(name.into());
        }
    }
    for path in protected {
        access = access.forbid_path(std::path::absolute(&path)?);
    }
    if access.allows_env() || access.allows_files() {
        tracing::warn!(
            env_prefixes = ?args.secret_env_prefix,
            env = ?args.secret_env,
            dirs = ?args.secret_dir,
            "secret references enabled: profiles may send these values to the hosts they name"
        );
    }
    Ok(access)
}
