//! The server example's profile subcommands, run as a subprocess on SQLite
//! and Postgres: apply (twice, idempotent; an invalid file changes nothing,
//! exit 2), list, test against the live local Postgres and a refused port
//! (exit 1 with the classified reason), export without secrets, import;
//! progress of long runs as plain lines on a pipe and a bar on a pty.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

/// Bounds every wait on the subprocess.
const DEADLINE: Duration = Duration::from_secs(120);
const SECRET: &str = "S3NTINEL-cli-7c1f";

/// The example binary, built by the test run beside the tests.
fn server_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("test exe");
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .expect("target dir")
        .join("examples")
        .join(format!("server{}", std::env::consts::EXE_SUFFIX));
    assert!(bin.exists(), "{} is missing", bin.display());
    bin
}

/// `server ARGS` on `db`, to completion within the deadline.
fn run(db: &[&str], args: &[&str]) -> Output {
    let mut c = Command::new(server_bin());
    c.args(db)
        .args(args)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (var, _) in std::env::vars() {
        if var.starts_with("PATCHBAY_") {
            c.env_remove(var);
        }
    }
    let child = c.spawn().expect("spawn server");
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

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn json_out(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out.stdout)))
}

fn file(dir: &Path, refused: u16) -> PathBuf {
    let path = dir.join("profiles.yaml");
    std::fs::write(
        &path,
        format!(
            "profiles:\n  - name: live-pg\n    uri: postgresql://postgres:{SECRET}@127.0.0.1:5432/test?sslmode=disable\n  - name: refused-pg\n    connector: postgres\n    config: {{ host: 127.0.0.1, port: {refused}, username: postgres, password: {SECRET}, tls_mode: disable }}\n"
        ),
    )
    .unwrap();
    path
}

/// The same session on any database: `db` are the global options.
fn session(db: &[&str], dir: &Path) {
    let refused = patchbay::testkit::net::refused_port();
    let yaml = file(dir, refused);
    let yaml = yaml.to_str().unwrap();

    let out = run(db, &["apply", yaml, "--json"]);
    assert!(out.status.success(), "apply: {}", text(&out.stderr));
    let report = json_out(&out);
    assert_eq!(
        report["report"]["created"].as_array().unwrap().len(),
        2,
        "{report}"
    );
    let again = json_out(&run(db, &["apply", yaml, "--json"]));
    assert_eq!(
        again["report"]["unchanged"].as_array().unwrap().len(),
        2,
        "{again}"
    );
    assert!(again["report"]["created"].as_array().unwrap().is_empty());

    let list = json_out(&run(db, &["list", "--json"]));
    let profiles = list["profiles"].as_array().unwrap();
    assert_eq!(profiles.len(), 2, "{list}");
    for p in profiles {
        assert_eq!(p["version"], 1, "a second apply changes no version: {p}");
        assert_eq!(
            p["labels"]["patchbay.io/managed-by"], "file:profiles.yaml",
            "{p}"
        );
    }

    let ok = run(db, &["test", "live-pg"]);
    assert!(
        ok.status.success(),
        "{} {}",
        text(&ok.stdout),
        text(&ok.stderr)
    );
    assert!(
        text(&ok.stdout).starts_with("ok\tlive-pg\t"),
        "{}",
        text(&ok.stdout)
    );
    let failed = run(db, &["test", "refused-pg", "--json"]);
    assert_eq!(failed.status.code(), Some(1), "{}", text(&failed.stderr));
    assert_eq!(json_out(&failed)["error"]["reason"], "refused");

    // An invalid entry: exit 2, every problem with its line, nothing changed.
    let bad = dir.join("bad.yaml");
    std::fs::write(
        &bad,
        std::fs::read_to_string(yaml)
            .unwrap()
            .replace(&format!("port: {refused}"), "port: 0"),
    )
    .unwrap();
    let out = run(db, &["apply", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("line 4: /profiles/1/config/port"), "{err}");
    assert!(
        err.contains("nothing was changed") && !err.contains(SECRET),
        "{err}"
    );

    let export = run(db, &["export"]);
    assert!(export.status.success());
    let exported = text(&export.stdout);
    assert!(!exported.contains(SECRET), "{exported}");
    assert!(
        exported.contains("PATCHBAY_SECRET_LIVE_PG_PASSWORD"),
        "{exported}"
    );
    let missing = run(db, &["test", "no-such-profile"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        text(&missing.stderr).contains("NOT_FOUND"),
        "{}",
        text(&missing.stderr)
    );
}

#[test]
fn profile_commands_over_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("p.db").display());
    session(&["--database-url", &url], dir.path());
    // Export, then import into an empty database: the same names.
    let exported = dir.path().join("export.yaml");
    std::fs::write(
        &exported,
        run(&["--database-url", &url], &["export"]).stdout,
    )
    .unwrap();
    let other = format!("sqlite://{}", dir.path().join("q.db").display());
    let out = run(
        &[
            "--database-url",
            &other,
            "--secret-env-prefix",
            "PATCHBAY_SECRET_",
        ],
        &["import", exported.to_str().unwrap(), "--json"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        json_out(&out)["report"]["created"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn profile_commands_over_postgres() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("seal.key");
    let out = run(&[], &["key", "new", "--out", key.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let schema = format!(
        "cli_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
            % 1_000_000_000
    );
    let db = [
        "--database-url",
        "postgres://postgres@127.0.0.1:5432/test",
        "--pg-schema",
        &schema,
        "--key-file",
        key.to_str().unwrap(),
    ];
    session(&db, dir.path());
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        use sqlx::Connection;
        let mut c = sqlx::PgConnection::connect("postgres://postgres@127.0.0.1:5432/test")
            .await
            .unwrap();
        sqlx::query(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
            .execute(&mut c)
            .await
            .unwrap();
    });
}

/// The `PREFIX: done/total` lines `prefix` printed on stderr.
fn progress_lines(out: &Output, prefix: &str) -> Vec<String> {
    text(&out.stderr)
        .lines()
        .filter(|l| l.starts_with(prefix))
        .map(str::to_owned)
        .collect()
}

/// Long operations on a stderr that is not a terminal (a pipe here) print a
/// plain progress line per tenth; with `--json`, nothing extra.
#[test]
fn long_operations_print_plain_progress_lines() {
    const N: usize = 250;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("p.db").display());
    let db = ["--database-url", url.as_str()];
    let mut yaml = String::from("profiles:\n");
    for i in 0..N {
        yaml +=
            &format!("  - name: p{i:03}\n    uri: postgresql://app:{SECRET}@db{i}.internal/app\n");
    }
    let path = dir.path().join("many.yaml");
    std::fs::write(&path, yaml).unwrap();
    let path = path.to_str().unwrap();

    let out = run(&db, &["import", path]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines = progress_lines(&out, "importing: ");
    let tenths: Vec<String> = (0..=10)
        .map(|t| format!("importing: {}/{N}", t * N / 10))
        .collect();
    assert_eq!(lines, tenths, "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).matches("created\t").count(), N);
    assert!(!text(&out.stderr).contains(SECRET));

    let out = run(&db, &["import", path, "--overwrite", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr), "", "nothing but the JSON with --json");
    let unchanged = &json_out(&out)["report"]["unchanged"];
    assert_eq!(unchanged.as_array().unwrap().len(), N);

    // Resealing every profile under a new key, then again as JSON.
    let key = |name: &str| {
        let path = dir.path().join(name);
        let out = run(&[], &["key", "new", "--out", path.to_str().unwrap()]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        path.to_str().unwrap().to_owned()
    };
    let (new, newer) = (key("new.key"), key("newer.key"));
    let out = run(&db, &["key", "rotate", "--new-key", &new, "--retire"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines = progress_lines(&out, "resealing: ");
    assert_eq!(lines.first().map(String::as_str), Some("resealing: 0/250"));
    assert_eq!(lines.last().map(String::as_str), Some("resealing: 250/250"));
    assert_eq!(lines.len(), 11, "{lines:?}");
    assert!(text(&out.stdout).contains("resealed 250 profile(s)"));

    let db = [&db[..], &["--key-file", &new]].concat();
    let out = run(&db, &["key", "rotate", "--new-key", &newer, "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr), "", "nothing but the JSON with --json");
    assert_eq!(json_out(&out)["resealed"], N);
}

/// On a terminal (a pty from util-linux `script`) the same import draws a bar.
#[test]
fn a_terminal_gets_a_progress_bar() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("SKIPPED: no `script` (util-linux) to give the server a pty");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut yaml = String::from("profiles:\n");
    for i in 0..120 {
        yaml += &format!("  - name: p{i:03}\n    uri: postgresql://app@db{i}.internal/app\n");
    }
    let path = dir.path().join("many.yaml");
    std::fs::write(&path, yaml).unwrap();
    let shell = format!(
        "timeout 120 {} --database-url sqlite://{} import {} > {}",
        server_bin().display(),
        dir.path().join("p.db").display(),
        path.display(),
        dir.path().join("report.txt").display(),
    );
    let out = Command::new("script")
        .args(["-qec", &shell, "/dev/null"])
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .expect("script");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let tty = text(&out.stdout);
    assert!(tty.contains("importing ["), "{tty}");
    assert!(tty.contains("] 120/120"), "{tty}");
    assert!(!tty.contains("importing: "), "no plain lines on a terminal");
}
