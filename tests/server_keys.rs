//! The server example's sealing keys, run as a subprocess: an explicit key
//! for Postgres, `key new`, a second server with another key refused at
//! startup (Postgres and SQLite), and `key rotate` / retire end to end.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{mpsc, Arc, OnceLock};
use std::time::Duration;

use patchbay::testkit::fake::FakeConnector;
use patchbay::{Key, Keyring, NewProfile, ProfileRepository, ProfileService};
use patchbay_store_sqlite::SqliteStore;
use serde_json::json;

/// Bounds every wait on the subprocess (a hang fails the test, never blocks it).
const DEADLINE: Duration = Duration::from_secs(120);

/// The example binary, built by `cargo test` / `cargo nextest` beside the
/// tests (they build every example). Never built here: a test that compiles
/// takes minutes on a loaded machine, and the build the test sees must be
/// the one the run made.
fn server_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        // target/<profile>/deps/<this test> → target/<profile>/examples/server
        let exe = std::env::current_exe().expect("test exe");
        let profile_dir = exe.parent().and_then(Path::parent).expect("target dir");
        let bin = profile_dir
            .join("examples")
            .join(format!("server{}", std::env::consts::EXE_SUFFIX));
        assert!(
            bin.exists(),
            "{} is missing: `cargo build --example server`",
            bin.display()
        );
        bin
    })
}

/// `server ARGS` with none of the PATCHBAY_* settings of the environment.
fn command(args: &[&str]) -> Command {
    let mut c = Command::new(server_bin());
    c.args(args)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for var in [
        "PATCHBAY_LISTEN",
        "PATCHBAY_DATABASE_URL",
        "PATCHBAY_KEY_FILE",
        "PATCHBAY_OLD_KEY_FILES",
        "PATCHBAY_PG_SCHEMA",
        "PATCHBAY_SEAL_KEY",
    ] {
        c.env_remove(var);
    }
    c
}

/// Runs to completion within the deadline.
fn run(args: &[&str]) -> Output {
    let child = command(args).spawn().expect("spawn server");
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(DEADLINE) {
        Ok(out) => out.expect("wait"),
        Err(_) => {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            panic!("server {args:?} did not exit within {DEADLINE:?}");
        }
    }
}

/// Starts a server and returns once it printed its listening line; the
/// caller kills it.
fn serve(args: &[&str]) -> Child {
    let mut all = vec!["--listen", "127.0.0.1:0"];
    all.extend_from_slice(args);
    let mut child = command(&all).spawn().expect("spawn server");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if line.starts_with("patchbay listening on ") && tx.send(()).is_err() {
                break;
            }
        }
    });
    if rx.recv_timeout(DEADLINE).is_err() {
        let _ = child.kill();
        let mut err = String::new();
        let _ = child
            .stderr
            .take()
            .expect("stderr")
            .read_to_string(&mut err);
        panic!("server {args:?} did not start: {err}");
    }
    child
}

fn stop(mut child: Child) {
    child.kill().expect("kill");
    child.wait().expect("reap");
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `server key new --out PATH`, returning the key.
fn new_key(path: &Path) -> Key {
    let out = run(&["key", "new", "--out", path.to_str().expect("utf-8 path")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let key = Key::from_file(path).expect("a key file");
    assert_eq!(
        text(&out.stdout).trim(),
        format!("created sealing key {}", key.id())
    );
    key
}

/// Asserts a startup refused for the key ids, with a clear message.
fn assert_refused(out: &Output, ids: &[&str]) {
    let err = text(&out.stderr);
    assert!(!out.status.success(), "it started: {err}");
    assert!(text(&out.stdout).is_empty(), "it printed a listening line");
    assert!(err.contains("keyring"), "{err}");
    for id in ids {
        assert!(err.contains(id), "{id} not named: {err}");
    }
}

#[test]
fn key_new_writes_a_private_key_once() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("seal.key");
    let key = new_key(&path);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");
    }
    let out = run(&["key", "new", "--out", path.to_str().unwrap()]);
    assert!(!out.status.success(), "overwrote a key file");
    assert!(
        text(&out.stderr).contains("seal.key"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(Key::from_file(&path).expect("still the key").id(), key.id());
}

#[test]
fn postgres_without_an_explicit_key_exits_with_how_to_make_one() {
    let dir = tempfile::tempdir().expect("dir");
    let mut c = command(&[
        "--listen",
        "127.0.0.1:0",
        "--database-url",
        "postgres://postgres@127.0.0.1:5432/test",
    ]);
    // Run where no key file could be picked up by accident.
    c.current_dir(dir.path());
    let out = c.output().expect("run");
    let err = text(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains("explicit sealing key") && err.contains("server key new"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no key file made"
    );
}

fn postgres_url() -> String {
    std::env::var("PATCHBAY_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// Drops the schema when the test ends, however it ends.
struct Schema(String);

impl Drop for Schema {
    fn drop(&mut self) {
        let sql = format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.0);
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
    }
}

#[test]
fn a_second_server_with_another_key_on_the_same_postgres_schema_exits() {
    let reachable = std::net::TcpStream::connect_timeout(
        &"127.0.0.1:5432".parse().unwrap(),
        Duration::from_secs(3),
    );
    if patchbay::testkit::net::require(
        "PostgreSQL",
        "a PostgreSQL server on 127.0.0.1:5432 (user postgres, database test)",
        reachable,
    )
    .is_none()
    {
        return;
    }
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    // The pbtest_<secs>_ shape lets the store tests sweep it up if left over.
    let schema = Schema(format!("pbtest_{secs}_keys{}", std::process::id()));
    let dir = tempfile::tempdir().expect("dir");
    let (a_path, b_path) = (dir.path().join("a.key"), dir.path().join("b.key"));
    let (a, b) = (new_key(&a_path), new_key(&b_path));
    let url = postgres_url();
    let common = ["--database-url", &url, "--pg-schema", &schema.0];
    let (a_file, b_file) = (a_path.to_str().unwrap(), b_path.to_str().unwrap());
    let with_a = [&common[..], &["--key-file", a_file][..]].concat();

    stop(serve(&with_a));
    let mut second = vec!["--listen", "127.0.0.1:0"];
    second.extend([&common[..], &["--key-file", b_file][..]].concat());
    assert_refused(&run(&second), &[a.id(), b.id()]);
    // The same through PATCHBAY_SEAL_KEY instead of a file.
    let mut c = command(&[&["--listen", "127.0.0.1:0"][..], &common[..]].concat());
    c.env("PATCHBAY_SEAL_KEY", b.to_base64().as_str());
    assert_refused(&c.output().expect("run"), &[a.id()]);
    // The first key still serves.
    stop(serve(&with_a));
}

fn profile(name: &str) -> NewProfile {
    NewProfile {
        name: name.to_owned(),
        connector: "fake".to_owned(),
        description: None,
        config: json!({"host": "127.0.0.1", "password": format!("{name}-pw")}),
        labels: Default::default(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_swapped_key_refused_then_rotate_and_retire_by_cli() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("profiles.db");
    let url = format!("sqlite://{}", db.display());
    let beside = dir.path().join("profiles.db.key");

    // Profiles sealed with the key created beside the database, and one
    // sealed with a key that is then lost.
    let (store, keyring) = SqliteStore::open_default(&url).await.expect("open");
    let repo: Arc<dyn ProfileRepository> = Arc::new(store.clone());
    let svc = ProfileService::builder(repo.clone())
        .connector(FakeConnector::default())
        .sealer(keyring.clone())
        .build_checked()
        .await
        .expect("service");
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(svc.create(profile(&format!("cli-{i}"))).await.unwrap().id);
    }
    let orphan = ProfileService::builder(repo.clone())
        .connector(FakeConnector::default())
        .sealer(Keyring::ephemeral())
        .build()
        .unwrap()
        .create(profile("orphan"))
        .await
        .unwrap();
    store.close().await;
    drop((svc, repo, store));
    let old = keyring.active_id().to_owned();

    // A swapped key file: refused at startup, naming both ids.
    let original = std::fs::read(&beside).expect("key file");
    let other_path = dir.path().join("other.key");
    let other = new_key(&other_path);
    std::fs::copy(&other_path, &beside).expect("swap");
    let db_arg = ["--database-url", url.as_str()];
    let out = run(&[&["--listen", "127.0.0.1:0"][..], &db_arg[..]].concat());
    assert_refused(&out, &[&old, other.id()]);
    std::fs::write(&beside, &original).expect("restore");
    stop(serve(&db_arg));

    // Rotate to a new key and retire the old one; the orphan is reported.
    let new_path = dir.path().join("new.key");
    let new = new_key(&new_path);
    let out = run(&[
        &db_arg[..],
        &[
            "key",
            "rotate",
            "--new-key",
            new_path.to_str().unwrap(),
            "--retire",
        ][..],
    ]
    .concat());
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
    assert!(
        stdout.contains(&format!("resealed 3 profile(s) under key {}", new.id())),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("skipped {}: /config/password", orphan.id)),
        "{stdout}"
    );
    assert!(stdout.contains(&format!("retired key {old}")), "{stdout}");
    assert!(!stdout.contains("orphan-pw") && !stderr.contains("orphan-pw"));

    let store = SqliteStore::open(&url).await.expect("reopen");
    for id in &ids {
        let p = store.get(&patchbay::TenantId::default(), id).await.unwrap();
        assert_eq!(p.version, 2, "a reseal is a new version");
        assert!(p.secrets.0["password"].starts_with(&format!("pbs1.{}.", new.id())));
    }
    assert_eq!(
        store
            .get(&patchbay::TenantId::default(), &orphan.id)
            .await
            .unwrap(),
        orphan
    );
    let checks: Vec<String> = store
        .key_checks()
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.key_id)
        .collect();
    assert_eq!(checks, [new.id()]);
    store.close().await;
    drop(store);

    // The old key file alone is refused now; the new key serves. Retiring
    // the active key is refused.
    let out = run(&[&["--listen", "127.0.0.1:0"][..], &db_arg[..]].concat());
    assert_refused(&out, &[new.id()]);
    let with_new = [&db_arg[..], &["--key-file", new_path.to_str().unwrap()][..]].concat();
    stop(serve(&with_new));
    let out = run(&[&with_new[..], &["key", "retire", "--key-id", new.id()][..]].concat());
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("active key"),
        "{}",
        text(&out.stderr)
    );
}
