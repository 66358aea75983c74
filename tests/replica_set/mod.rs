//! The replica-set harness: server example processes on one fresh Postgres
//! schema, started, restarted on their port and stopped, every wait bounded.
#![allow(dead_code)]

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, OnceLock};
use std::time::Duration;

/// Bounds every wait (a hang fails the test, never blocks it).
pub const DEADLINE: Duration = Duration::from_secs(120);

/// The example binary nextest built beside the tests; never built here.
fn server_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let exe = std::env::current_exe().expect("test exe");
        let profile_dir = exe.parent().and_then(Path::parent).expect("target dir");
        let bin = profile_dir
            .join("examples")
            .join(format!("server{}", std::env::consts::EXE_SUFFIX));
        assert!(bin.exists(), "{} is missing", bin.display());
        bin
    })
}

fn postgres_url() -> String {
    std::env::var("PATCHBAY_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// Whether Postgres is up (or under CI, a failure).
fn postgres_up() -> bool {
    let reachable = std::net::TcpStream::connect_timeout(
        &"127.0.0.1:5432".parse().unwrap(),
        Duration::from_secs(3),
    );
    patchbay::testkit::net::require(
        "PostgreSQL",
        "a PostgreSQL server on 127.0.0.1:5432 (user postgres, database test)",
        reachable,
    )
    .is_some()
}

/// One replica: the process, its port and the options it was started with.
pub struct Replica {
    child: Option<Child>,
    port: u16,
    schema: String,
    key: String,
    log: PathBuf,
}

impl Replica {
    /// Starts a server on a port below the ephemeral range (see
    /// [`fixed_port`]), trying another while the one picked is taken.
    fn start_fixed(schema: &str, key: &str, log: PathBuf) -> Self {
        let mut last = String::new();
        for _ in 0..20 {
            match Self::try_start(schema, key, fixed_port(), log.clone()) {
                Ok(replica) => return replica,
                Err(e) if e.contains("Address already in use") => last = e,
                Err(e) => panic!("server did not start: {e}"),
            }
        }
        panic!("no free port for a server: {last}")
    }

    /// Starts a server on `port` and returns once it listens.
    fn start(schema: &str, key: &str, port: u16, log: PathBuf) -> Self {
        Self::try_start(schema, key, port, log)
            .unwrap_or_else(|e| panic!("server did not start: {e}"))
    }

    /// As `start`; the server's log when it did not start.
    fn try_start(schema: &str, key: &str, port: u16, log: PathBuf) -> Result<Self, String> {
        let url = postgres_url();
        let listen = format!("127.0.0.1:{port}");
        let mut c = Command::new(server_bin());
        c.args(["--listen", &listen, "--database-url", &url])
            .args(["--pg-schema", schema])
            .env("PATCHBAY_SEAL_KEY", key)
            .env("RUST_LOG", "warn")
            .env_remove("PATCHBAY_KEY_FILE")
            .env_remove("PATCHBAY_RESPONSE_CACHE_BYTES")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(File::create(&log).expect("log file"));
        let mut child = c.spawn().expect("spawn server");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(rest) = line.strip_prefix("patchbay listening on http://127.0.0.1:") {
                    let port = rest.split('/').next().and_then(|p| p.parse::<u16>().ok());
                    let _ = tx.send(port);
                }
            }
        });
        let port = match rx.recv_timeout(DEADLINE) {
            Ok(Some(port)) => port,
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(read(&log));
            }
        };
        Ok(Self {
            child: Some(child),
            port,
            schema: schema.to_owned(),
            key: key.to_owned(),
            log,
        })
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}/api/v1", self.port)
    }

    /// SIGTERM, a graceful exit within the deadline, then the same options
    /// on the same port.
    pub fn restart(&mut self) {
        let mut child = self.child.take().expect("running");
        let pid = child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(sent.expect("kill").success());
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(child.wait());
        });
        let status = rx.recv_timeout(DEADLINE).expect("exited").expect("wait");
        assert!(status.success(), "{status}: {}", read(&self.log));
        let log = self.log.with_extension("restarted.log");
        *self = Self::start(&self.schema, &self.key, self.port, log);
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn read(path: &Path) -> String {
    let mut text = String::new();
    let _ = File::open(path).and_then(|mut f| f.read_to_string(&mut text));
    text
}

/// A port below Linux's ephemeral range (32768–60999 by default), so no
/// outgoing connection takes a restarting replica's port while it is down;
/// free when picked (another test may take it before the server binds:
/// `start_fixed` then picks again).
fn fixed_port() -> u16 {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let seed = std::process::id() as usize * 7_919 + NEXT.fetch_add(1, Ordering::Relaxed) * 613;
    (0..200)
        .map(|i| 20_000 + (seed + i * 104_729) % 10_000)
        .find(|p| std::net::TcpListener::bind(("127.0.0.1", *p as u16)).is_ok())
        .expect("a free port in 20000..30000") as u16
}

/// Drops the schema when the test ends, however it ends.
struct Schema(String);

impl Drop for Schema {
    fn drop(&mut self) {
        let sql = format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.0);
        let (tx, rx) = mpsc::channel();
        // Its own thread: this may run inside the test's runtime.
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async {
                use sqlx::Connection;
                if let Ok(mut c) = sqlx::PgConnection::connect(&postgres_url()).await {
                    let _ = sqlx::raw_sql(&sql).execute(&mut c).await;
                }
            });
            let _ = tx.send(());
        });
        let _ = rx.recv_timeout(DEADLINE);
    }
}

/// Two replicas on a fresh schema (dropped after them).
pub struct Pair {
    pub a: Replica,
    pub b: Replica,
    _dir: tempfile::TempDir,
    _schema: Schema,
}

impl Pair {
    pub fn start(test: &str) -> Option<Self> {
        if !postgres_up() {
            return None;
        }
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        // The pbtest_<secs>_ shape lets the store tests sweep it up if left over.
        let schema = Schema(format!("pbtest_{secs}_{test}{}", std::process::id()));
        let key = patchbay::Key::generate().to_base64().to_string();
        let dir = tempfile::tempdir().expect("dir");
        // Either may restart: both on ports nothing else picks meanwhile.
        let a = Replica::start_fixed(&schema.0, &key, dir.path().join("a.log"));
        let b = Replica::start_fixed(&schema.0, &key, dir.path().join("b.log"));
        Some(Self {
            a,
            b,
            _dir: dir,
            _schema: schema,
        })
    }
}
