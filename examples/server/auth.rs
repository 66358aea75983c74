//! Who may use the server: bearer tokens from a token file, the loopback-only
//! rule without them, DNS-rebinding protection on loopback, and the
//! `token new` command that mints tokens.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::middleware;
use axum::{Extension, Router};
use clap::{Args, Subcommand};
use patchbay_http::{BearerTokens, HostCheck, MintedToken, Principal, Role, TenantId};

/// Shown by `--help`.
pub const THREAT_MODEL: &str = "\
Threat model: the host (whoever runs this server and writes its options, files and
environment) is trusted. API callers are trusted only as far as their token's role goes:
read < test < write < admin, each implying the ones before. Nothing a caller sends (names,
configs, references, headers) is trusted. Without --token-file anyone who can connect acts
as admin, so the server then listens on loopback only, and refuses requests whose Host or
Origin does not name its loopback address (DNS rebinding from a web page).";

/// Options about who may call the API.
#[derive(Args, Debug)]
pub struct AuthArgs {
    /// Bearer tokens, one a line: `sha256:<hex> <role> <tenant> [<name>]`
    /// (see `token new`). Without it the server serves loopback only, and
    /// every caller is admin of the default tenant.
    #[arg(long, env = "PATCHBAY_TOKEN_FILE")]
    pub token_file: Option<PathBuf>,
}

/// `token …`
#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Mint a token: prints it once, then the line for the token file (which
    /// holds only the token's SHA-256 digest).
    New {
        /// read, test, write or admin.
        #[arg(long)]
        role: Role,
        /// The tenant the token acts in.
        #[arg(long, default_value = TenantId::DEFAULT)]
        tenant: TenantId,
        /// A name for logs (letters, digits, `.`, `_`, `-`).
        #[arg(long)]
        name: Option<String>,
        /// Append the line to this token file (created, mode 0600, if
        /// missing) instead of printing it.
        #[arg(long)]
        append: Option<PathBuf>,
    },
}

/// Runs a subcommand; the process's exit code.
pub fn run_command(command: TokenCommand) -> i32 {
    let TokenCommand::New {
        role,
        tenant,
        name,
        append,
    } = command;
    let minted = match MintedToken::new(role, &tenant, name.as_deref()) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    if let Some(path) = append {
        if let Err(e) = append_line(&path, minted.line()) {
            eprintln!("error: cannot append to {}: {e}", path.display());
            return 1;
        }
        println!("{}", minted.token());
        eprintln!(
            "The token is shown once. Its digest was appended to {}.",
            path.display()
        );
    } else {
        println!("{}", minted.token());
        println!("{}", minted.line());
        eprintln!(
            "The token (first line) is shown once; send it as `Authorization: Bearer <token>`.\n\
             Append the second line to the token file: it holds only the token's digest."
        );
    }
    0
}

fn append_line(path: &std::path::Path, line: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    writeln!(options.open(path)?, "{line}")
}

/// How requests are authenticated, decided before anything is opened.
pub enum Access {
    Tokens(Arc<BearerTokens>),
    /// No tokens: every caller is admin, so loopback only.
    LoopbackAdmin,
}

impl Access {
    /// Reads the token file; refuses to serve a non-loopback address
    /// without one. Errors are the operator's to fix (exit code 2).
    pub fn prepare(args: &AuthArgs, listen: SocketAddr) -> Result<Self, String> {
        match &args.token_file {
            Some(path) => {
                let tokens = BearerTokens::load(path).map_err(|e| e.to_string())?;
                if tokens.is_empty() {
                    return Err(format!(
                        "the token file {} lists no token: mint one with `server token new --role admin --append {}`",
                        path.display(),
                        path.display()
                    ));
                }
                Ok(Self::Tokens(Arc::new(tokens)))
            }
            None if listen.ip().is_loopback() => Ok(Self::LoopbackAdmin),
            None => Err(format!(
                "refusing to listen on {listen} without authentication: anyone who can \
                 connect would be admin. Give --token-file (see `server token new --help`), \
                 or listen on a loopback address such as 127.0.0.1"
            )),
        }
    }

    /// `app` with authentication, and the Host/Origin check when `addr`
    /// (the bound address) is loopback.
    pub fn apply(&self, app: Router, addr: SocketAddr) -> Router {
        let app = match self {
            Self::Tokens(tokens) => {
                tracing::info!(tokens = tokens.len(), "bearer tokens required");
                app.layer(middleware::from_fn_with_state(
                    tokens.clone(),
                    patchbay_http::authenticate_bearer,
                ))
            }
            Self::LoopbackAdmin => {
                tracing::warn!("no --token-file: every caller on this machine is admin");
                app.layer(Extension(Principal::admin()))
            }
        };
        match HostCheck::loopback(addr) {
            // The outermost layer: refused before authentication is tried.
            Some(check) => app.layer(middleware::from_fn_with_state(
                check,
                patchbay_http::check_host,
            )),
            None => app,
        }
    }
}
