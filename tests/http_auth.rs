//! The server example's authentication, run as users run it: the example
//! binary as a subprocess. Tokens minted by `server token new` (the file
//! keeps digests only); missing, wrong and too-weak tokens; the refusal to
//! listen beyond loopback without tokens; Host/Origin checks on loopback.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use reqwest::{Client, RequestBuilder};
use serde_json::{json, Value};

/// The example binary, built by `cargo test` / `cargo nextest` beside the tests.
fn server_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .expect("target dir")
        .join("examples")
        .join(format!("server{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is missing: `cargo build --example server`",
        bin.display()
    );
    bin
}

fn server(args: &[&str]) -> Command {
    let mut c = Command::new(server_bin());
    c.args(args).env("RUST_LOG", "warn");
    for var in [
        "PATCHBAY_LISTEN",
        "PATCHBAY_DATABASE_URL",
        "PATCHBAY_KEY_FILE",
        "PATCHBAY_TOKEN_FILE",
    ] {
        c.env_remove(var);
    }
    c
}

fn run(args: &[&str]) -> Output {
    server(args).output().expect("run the server example")
}

/// `server token new --role <role> --append <file>`: the token printed.
fn mint(role: &str, file: &Path) -> String {
    let out = run(&[
        "token",
        "new",
        "--role",
        role,
        "--name",
        role,
        "--append",
        file.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(
        token.starts_with("pbt_") && !token.contains('\n'),
        "{token}"
    );
    token
}

/// A running server; killed when dropped.
struct Running {
    child: Child,
    base: String,
    port: u16,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the server on `listen` and waits for its ready line.
fn start(dir: &Path, listen: &str, extra: &[&str]) -> Running {
    let db = format!("sqlite://{}", dir.join("auth.db").display());
    let mut args = vec!["--listen", listen, "--database-url", &db];
    args.extend_from_slice(extra);
    let mut child = server(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn the server example");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix("patchbay listening on ") {
                let _ = tx.send(url.to_owned());
            }
        }
    });
    // The ready line is the event waited on; the bound is for a broken build.
    let url = rx
        .recv_timeout(Duration::from_secs(120))
        .expect("the server did not get ready");
    let port = url
        .rsplit(':')
        .next()
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    Running {
        child,
        base: format!("http://127.0.0.1:{port}/api/v1"),
        port,
    }
}

async fn reply(req: RequestBuilder) -> (u16, Value) {
    let res = req.send().await.expect("request");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread")]
async fn tokens_are_required_and_their_roles_enforced() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tokens");
    let read = mint("read", &file);
    let test = mint("test", &file);
    let write = mint("write", &file);
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(text.lines().count(), 3, "{text}");
    for t in [&read, &test, &write] {
        assert!(
            !text.contains(&t[4..]) && !text.contains(&t[4..20]),
            "the file holds a token"
        );
    }

    let s = start(
        dir.path(),
        "127.0.0.1:0",
        &["--token-file", file.to_str().unwrap()],
    );
    let c = Client::new();
    let list = format!("{}/connection_profiles", s.base);

    let (status, body) = reply(c.get(&list)).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (401, &json!("UNAUTHENTICATED"))
    );
    let res = c.get(&list).send().await.unwrap();
    assert_eq!(res.headers()["www-authenticate"], "Bearer");
    let mut altered = read.clone().into_bytes();
    let last = altered.len() - 1;
    altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(altered).unwrap();
    for wrong in [
        "pbt_nope",
        &read[..read.len() - 1],
        &altered,
        &format!("{read}A"),
        &write[..20],
    ] {
        let (status, body) = reply(c.get(&list).bearer_auth(wrong)).await;
        assert_eq!(
            (status, &body["error"]["code"]),
            (401, &json!("UNAUTHENTICATED")),
            "{wrong}"
        );
    }
    let (status, _) = reply(c.get(&list).basic_auth("x", Some(&read))).await;
    assert_eq!(status, 401);

    // read: reads, nothing else.
    assert_eq!(reply(c.get(&list).bearer_auth(&read)).await.0, 200);
    assert_eq!(
        reply(c.get(format!("{}/connectors", s.base)).bearer_auth(&read))
            .await
            .0,
        200
    );
    let profile = json!({ "name": "auth-pg", "connector": "postgres",
        "config": { "host": "127.0.0.1", "port": 5432, "database": "test",
                    "username": "postgres", "password": "unused-by-trust" } });
    let unsaved = {
        let mut p = profile.clone();
        p["name"] = json!("");
        p
    };
    let probe = format!("{}/connection_profiles/test", s.base);
    for (who, token) in [("read", &read)] {
        let (status, body) = reply(c.post(&list).bearer_auth(token).json(&profile)).await;
        assert_eq!(
            (status, &body["error"]["code"]),
            (403, &json!("FORBIDDEN")),
            "{who}"
        );
        assert_eq!(body["error"]["details"]["required_role"], "write");
        let (status, body) = reply(c.post(&probe).bearer_auth(token).json(&unsaved)).await;
        assert_eq!(
            (status, &body["error"]["code"]),
            (403, &json!("FORBIDDEN")),
            "{who}"
        );
    }
    // test: may probe, may not write.
    let (status, _) = reply(c.post(&list).bearer_auth(&test).json(&profile)).await;
    assert_eq!(status, 403);
    let (status, body) = reply(c.post(&probe).bearer_auth(&test).json(&unsaved)).await;
    assert_ne!(status, 401, "{body}");
    assert_ne!(status, 403, "{body}");
    let postgres = std::net::TcpStream::connect("127.0.0.1:5432");
    if patchbay::testkit::net::require(
        "PostgreSQL",
        "a local PostgreSQL on 127.0.0.1:5432",
        postgres,
    )
    .is_some()
    {
        assert_eq!(status, 200, "{body}");
    }
    // write: creates, attaches (the server's own route), deletes.
    let (status, body) = reply(c.post(&list).bearer_auth(&write).json(&profile)).await;
    assert_eq!(status, 201, "{body}");
    let id = body["data"]["id"].as_str().unwrap().to_owned();
    let tables = format!("{}/connection_tables", s.base);
    let table = json!({ "name": "auth-orders", "profile_id": id });
    assert_eq!(
        reply(c.post(&tables).bearer_auth(&read).json(&table))
            .await
            .0,
        403
    );
    assert_eq!(reply(c.get(&tables)).await.0, 401);
    assert_eq!(reply(c.get(&tables).bearer_auth(&read)).await.0, 200);
    assert!(
        reply(c.post(&tables).bearer_auth(&write).json(&table))
            .await
            .0
            < 300
    );
    let one = format!("{tables}/auth-orders");
    assert_eq!(reply(c.delete(&one).bearer_auth(&test)).await.0, 403);
    assert_eq!(reply(c.delete(&one).bearer_auth(&write)).await.0, 200);
    let profile_url = format!("{list}/{id}");
    assert_eq!(
        reply(c.delete(&profile_url).bearer_auth(&read)).await.0,
        403
    );
    assert_eq!(
        reply(c.delete(&profile_url).bearer_auth(&write)).await.0,
        200
    );

    // Host checks stay on for loopback with tokens too.
    let (status, body) = reply(
        c.get(&list)
            .bearer_auth(&read)
            .header("host", "evil.example"),
    )
    .await;
    assert_eq!((status, &body["error"]["code"]), (403, &json!("FORBIDDEN")));
}

#[tokio::test(flavor = "multi_thread")]
async fn loopback_without_tokens_checks_host_and_origin() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path(), "127.0.0.1:0", &[]);
    let c = Client::new();
    let url = format!("{}/connection_profiles", s.base);
    // Anyone on this machine is admin: what scripts/check-openapi relies on.
    assert_eq!(reply(c.get(&url)).await.0, 200);
    let port = s.port;
    for host in [format!("localhost:{port}"), format!("127.0.0.1:{port}")] {
        assert_eq!(
            reply(c.get(&url).header("host", host.as_str())).await.0,
            200,
            "{host}"
        );
    }
    // DNS rebinding: a page on evil.example whose name now resolves to 127.0.0.1.
    for host in [
        "evil.example".to_owned(),
        format!("evil.example:{port}"),
        "127.0.0.1".to_owned(),
        format!("127.0.0.1:{}", port.wrapping_add(1)),
    ] {
        let (status, body) = reply(c.get(&url).header("host", host.as_str())).await;
        assert_eq!(
            (status, &body["error"]["code"]),
            (403, &json!("FORBIDDEN")),
            "{host}"
        );
        assert_eq!(body["error"]["details"]["header"], "host");
    }
    let post = |origin: &str| {
        c.post(&url).header("origin", origin).json(
            &json!({ "name": "from-a-page", "connector": "postgres",
                "config": { "host": "127.0.0.1", "port": 5432, "database": "test",
                            "username": "postgres", "password": "pw" } }),
        )
    };
    let (status, body) = reply(post("http://evil.example")).await;
    assert_eq!(
        (status, &body["error"]["details"]["header"]),
        (403, &json!("origin"))
    );
    let (status, _) = reply(post("null")).await;
    assert_eq!(status, 403);
    // Refused before anything was stored.
    let (_, list) = reply(c.get(&url)).await;
    assert_eq!(list["data"], json!([]));
    let (status, body) = reply(post(&format!("http://localhost:{port}"))).await;
    assert_eq!(status, 201, "{body}");
}

#[test]
fn without_tokens_only_loopback_is_served() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("never.db").display());
    for listen in ["0.0.0.0:0", "[::]:0"] {
        let out = run(&["--listen", listen, "--database-url", &db]);
        assert_eq!(out.status.code(), Some(2), "{listen}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("refusing to listen") && stderr.contains("--token-file"),
            "{stderr}"
        );
        assert!(out.stdout.is_empty());
    }
    // Refused before the database was opened.
    assert!(!dir.path().join("never.db").exists());

    // A token file that cannot be used is refused too, naming the line.
    let file = dir.path().join("tokens");
    std::fs::write(&file, "# nothing yet\n").unwrap();
    let out = run(&[
        "--listen",
        "127.0.0.1:0",
        "--database-url",
        &db,
        "--token-file",
        file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("lists no token"));
    let minted = run(&["token", "new", "--role", "admin"]);
    let printed = String::from_utf8(minted.stdout).unwrap();
    let (token, line) = printed.trim().split_once('\n').expect("token, then line");
    assert!(
        line.starts_with("sha256:")
            && line.ends_with(" admin default")
            && !line.contains(&token[4..])
    );
    std::fs::write(&file, format!("{token}\n")).unwrap();
    let out = run(&[
        "--listen",
        "127.0.0.1:0",
        "--database-url",
        &db,
        "--token-file",
        file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("line 1") && !stderr.contains(&token[4..]),
        "{stderr}"
    );

    let help = String::from_utf8(run(&["--help"]).stdout).unwrap();
    assert!(
        help.contains("Threat model") && help.contains("--token-file"),
        "{help}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn with_tokens_any_address_is_served() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tokens");
    let admin = mint("admin", &file);
    let s = start(
        dir.path(),
        "0.0.0.0:0",
        &["--token-file", file.to_str().unwrap()],
    );
    let c = Client::new();
    let url = format!("{}/connectors", s.base);
    assert_eq!(reply(c.get(&url)).await.0, 401);
    assert_eq!(reply(c.get(&url).bearer_auth(&admin)).await.0, 200);
}
