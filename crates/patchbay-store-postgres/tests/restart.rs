//! A server restart mid-run: in-flight calls fail with STORAGE, calls while
//! it is down fail with STORAGE within the acquire timeout, and calls after
//! it is back succeed on the same store, without reconnecting by hand.
//!
//! The shared Postgres is never touched: this test runs a private,
//! throwaway server (initdb into a temp dir, a free loopback port), stops
//! and starts it with pg_ctl, and removes it at the end. initdb and pg_ctl
//! refuse to run as root, so as root they run as the `postgres` user.

use std::path::{Path, PathBuf};
use std::time::Duration;

use patchbay_core::{Profile, ProfileRepository};
use patchbay_store_postgres::{PostgresConfig, PostgresStore};
use patchbay_testkit::repository::{fixture, unique};
use sqlx::Connection;

/// Prefix of the private servers' directories in the temp dir.
const PREFIX: &str = "pbpg-";
const HOW_TO_INSTALL: &str =
    "apt-get install postgresql-15 (binaries in /usr/lib/postgresql/15/bin), \
    or set PATCHBAY_PG_BIN to a directory holding initdb and pg_ctl";

fn bin_dir() -> Result<PathBuf, String> {
    let dir = PathBuf::from(
        std::env::var("PATCHBAY_PG_BIN").unwrap_or_else(|_| "/usr/lib/postgresql/15/bin".into()),
    );
    if dir.join("initdb").exists() && dir.join("pg_ctl").exists() {
        Ok(dir)
    } else {
        Err(format!("no initdb/pg_ctl in {}", dir.display()))
    }
}

fn is_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false)
}

/// A private server; stopped (immediately) and deleted on drop.
struct PrivateServer {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
}

impl PrivateServer {
    fn command(&self, tool: &str) -> std::process::Command {
        pg_command(&self.bin, tool)
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    async fn init() -> Option<Self> {
        let bin = patchbay_testkit::net::require(
            "PostgreSQL server binaries",
            HOW_TO_INSTALL,
            bin_dir(),
        )?;
        let stale_bin = bin.clone();
        tokio::task::spawn_blocking(move || remove_stale(&stale_bin))
            .await
            .expect("cleanup task");
        let dir = tempfile::Builder::new()
            .prefix(PREFIX)
            .tempdir()
            .expect("temp dir");
        if is_root() {
            let status = std::process::Command::new("chown")
                .args(["postgres:postgres"])
                .arg(dir.path())
                .status()
                .expect("chown");
            assert!(status.success(), "chown the data dir to postgres");
        }
        let server = Self {
            bin,
            dir,
            port: patchbay_testkit::net::refused_port(),
        };
        let mut initdb = server.command("initdb");
        initdb
            .args([
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
                "-E",
                "UTF8",
                "-D",
            ])
            .arg(server.data());
        run(initdb).await;
        server.start().await;
        Some(server)
    }

    async fn start(&self) {
        let mut cmd = self.command("pg_ctl");
        cmd.args(["start", "-w", "-t", "60", "-D"])
            .arg(self.data())
            .arg("-l")
            .arg(self.dir.path().join("log"))
            .arg("-o")
            .arg(format!(
                "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
                self.port,
                self.dir.path().display()
            ));
        run(cmd).await;
    }

    async fn stop(&self) {
        let mut cmd = self.command("pg_ctl");
        cmd.args(["stop", "-w", "-m", "fast", "-D"])
            .arg(self.data());
        run(cmd).await;
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

/// `tool` from `bin`, run as the `postgres` user when we are root.
fn pg_command(bin: &Path, tool: &str) -> std::process::Command {
    let exe = bin.join(tool);
    let mut cmd = if is_root() {
        let mut c = std::process::Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(exe);
        c
    } else {
        std::process::Command::new(exe)
    };
    cmd.stdin(std::process::Stdio::null());
    cmd
}

/// Servers left by killed runs (`pbpg-*` in the temp dir) over an hour
/// old: stopped and removed.
fn remove_stale(bin: &Path) {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let ours = entry.file_name().to_string_lossy().starts_with(PREFIX);
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > Duration::from_secs(3600));
        if ours && old {
            let path = entry.path();
            let _ = pg_command(bin, "pg_ctl")
                .args(["stop", "-m", "immediate", "-D"])
                .arg(path.join("data"))
                .output();
            let _ = std::fs::remove_dir_all(&path);
        }
    }
}

impl Drop for PrivateServer {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl")
            .args(["stop", "-m", "immediate", "-D"])
            .arg(self.data())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
    }
}

/// Runs a setup command off the async workers; panics with its output on failure.
async fn run(mut cmd: std::process::Command) {
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .expect("task")
        .expect("spawn");
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn assert_storage<T: std::fmt::Debug>(what: &str, r: patchbay_core::Result<T>) {
    match r {
        Err(e) => assert_eq!(e.code(), "STORAGE", "{what}: {e:?}"),
        Ok(v) => panic!("{what}: expected a STORAGE error, got {v:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recovers_after_server_restart() {
    let Some(server) = PrivateServer::init().await else {
        return;
    };
    let mut config = PostgresConfig::new(server.url(), "patchbay");
    config.acquire_timeout = Duration::from_secs(2);
    config.max_connections = 4;
    let store = PostgresStore::connect_with(config).await.expect("connect");
    let p = fixture(&unique("restart"), "fake");
    store.create(&p).await.expect("create");
    // Warm the pool: several live connections that will all die.
    for _ in 0..8 {
        store
            .get(&patchbay_core::TenantId::default(), &p.id)
            .await
            .expect("get");
    }

    // An in-flight call: an update waiting on a row lock held elsewhere.
    let mut locker = sqlx::PgConnection::connect(&server.url())
        .await
        .expect("locker");
    sqlx::query("BEGIN")
        .execute(&mut locker)
        .await
        .expect("begin");
    sqlx::query("SELECT 1 FROM patchbay.profiles WHERE id = $1 FOR UPDATE")
        .bind(p.id.as_str())
        .execute(&mut locker)
        .await
        .expect("lock");
    let in_flight = {
        let (store, mut next): (PostgresStore, Profile) = (store.clone(), p.clone());
        next.version = 2;
        tokio::spawn(async move { store.update(&next, 1).await })
    };
    // Wait until the server shows the update blocked on the row lock (an
    // event, not a guess at how long the spawn takes).
    let mut watcher = sqlx::PgConnection::connect(&server.url())
        .await
        .expect("watcher");
    let until = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity \
             WHERE wait_event_type = 'Lock' AND query LIKE 'UPDATE %'",
        )
        .fetch_one(&mut watcher)
        .await
        .expect("pg_stat_activity");
        if waiting > 0 {
            break;
        }
        assert!(
            !in_flight.is_finished(),
            "the update did not wait on the lock"
        );
        assert!(
            std::time::Instant::now() < until,
            "the update never reached the lock"
        );
        tokio::task::yield_now().await;
    }
    drop(watcher);
    assert!(
        !in_flight.is_finished(),
        "the update should be waiting on the lock"
    );

    server.stop().await;
    let result = tokio::time::timeout(Duration::from_secs(10), in_flight)
        .await
        .expect("in-flight call ends")
        .expect("task");
    assert_storage("in-flight update", result);
    drop(locker);

    // While down: bounded STORAGE errors.
    let started = std::time::Instant::now();
    assert_storage(
        "get while down",
        store.get(&patchbay_core::TenantId::default(), &p.id).await,
    );
    assert_storage(
        "create while down",
        store.create(&fixture(&unique("down"), "fake")).await,
    );
    // Bounded by the acquire timeout (2 s per call), with a generous margin
    // for a loaded machine; unbounded would mean waiting for the server.
    assert!(
        started.elapsed() < 2 * 3 * Duration::from_secs(2),
        "calls while down took {:?}",
        started.elapsed()
    );

    server.start().await;
    // The same store works again at once: dead connections are replaced.
    assert_eq!(
        store
            .get(&patchbay_core::TenantId::default(), &p.id)
            .await
            .expect("get after restart"),
        p
    );
    let q = fixture(&unique("after"), "fake");
    store.create(&q).await.expect("create after restart");
    for _ in 0..8 {
        store
            .get(&patchbay_core::TenantId::default(), &q.id)
            .await
            .expect("every pooled connection works");
    }

    // A restart nobody notices: no call fails, even the first one on each
    // connection that died (pooled connections are checked before use).
    let warm: Vec<_> = (0..4)
        .map(|_| {
            let (store, id) = (store.clone(), q.id.clone());
            async move { store.get(&patchbay_core::TenantId::default(), &id).await }
        })
        .collect();
    for r in futures_join(warm).await {
        r.expect("warm the pool");
    }
    server.stop().await;
    server.start().await;
    for i in 0..8 {
        store
            .get(&patchbay_core::TenantId::default(), &q.id)
            .await
            .unwrap_or_else(|e| panic!("get {i} after a quiet restart: {e:?}"));
    }
    store.close().await;
}

/// Runs the futures concurrently (so they hold distinct pooled connections).
async fn futures_join<F>(futs: Vec<F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futs.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.expect("task"));
    }
    out
}
