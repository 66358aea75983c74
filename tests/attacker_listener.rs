//! An API caller names its own listener as the host of a real (Redis)
//! profile. The listener must receive no byte of a server file, an
//! environment variable or a stored secret it should not.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use patchbay::memory::MemoryStore;
use patchbay::{NewProfile, ProfileService, ProfileServiceBuilder, ProfileUpdate, SecretAccess};
use patchbay_connector_redis::RedisConnector;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const STORED: &str = "St0red-Secret-9b1e";
const KEY: &str = "Seal1ng-Key-Bytes-44d0";
const ENV_VALUE: &str = "Env-Secret-Value-71c2";

/// A loopback listener standing in for the caller's host: counts
/// connections, records every byte, answers `+OK` to each command so a
/// client goes on to send what it would.
struct Trap {
    port: u16,
    connections: Arc<AtomicUsize>,
    bytes: Arc<Mutex<Vec<u8>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Trap {
    async fn bind() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = Arc::new(AtomicUsize::new(0));
        let bytes = Arc::new(Mutex::new(Vec::new()));
        let (count, record) = (connections.clone(), bytes.clone());
        let task = tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                let record = record.clone();
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    while let Ok(n) = socket.read(&mut buf).await {
                        if n == 0 {
                            break;
                        }
                        record.lock().unwrap().extend_from_slice(&buf[..n]);
                        let commands = buf[..n]
                            .split(|b| *b == b'\n')
                            .filter(|l| l.first() == Some(&b'*'))
                            .count();
                        let reply = "+OK\r\n".repeat(commands.max(1));
                        if socket.write_all(reply.as_bytes()).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        Self {
            port,
            connections,
            bytes,
            task,
        }
    }

    fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn received(&self) -> String {
        String::from_utf8_lossy(&self.bytes.lock().unwrap()).into_owned()
    }

    fn assert_untouched(&self) {
        assert_eq!(
            self.connections.load(Ordering::SeqCst),
            0,
            "the caller's listener was contacted; it received {:?}",
            self.received()
        );
    }
}

impl Drop for Trap {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn builder() -> ProfileServiceBuilder {
    ProfileService::builder(Arc::new(MemoryStore::new()))
        .connector(RedisConnector)
        .probe_timeout(Duration::from_secs(3))
}

fn redis(name: &str, address: &str, password: &str) -> NewProfile {
    NewProfile {
        name: name.into(),
        connector: "redis".into(),
        description: None,
        config: json!({ "addresses": [address], "password": password }),
        labels: Default::default(),
    }
}

fn error_paths(err: &patchbay::Error) -> Vec<String> {
    match err {
        patchbay::Error::Validation(v) => v.0.iter().map(|e| e.path.clone()).collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_files_and_variables_never_reach_the_callers_host() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("patchbay.key");
    std::fs::write(&key_file, KEY).unwrap();
    std::env::set_var("PBTRAP_SECRET", ENV_VALUE);
    let trap = Trap::bind().await;
    let references = [
        format!("{{{{ file:{} }}}}", key_file.display()),
        "{{ file:/proc/self/environ }}".to_owned(),
        "{{ env:PBTRAP_SECRET }}".to_owned(),
    ];
    // The default service: no reference is allowed, to save or to test.
    let svc = builder().build().unwrap();
    for reference in &references {
        let new = redis("trap", &trap.address(), reference);
        let err = svc.test_config(&new, None).await.unwrap_err();
        assert_eq!(error_paths(&err), ["/config/password"], "{reference}");
        let err = svc.create(new).await.unwrap_err();
        assert_eq!(error_paths(&err), ["/config/password"], "{reference}");
    }
    trap.assert_untouched();
    // Files allowed in the key's own directory: the key file stays forbidden.
    let svc = builder()
        .secret_access(
            SecretAccess::none()
                .allow_dir(dir.path())
                .forbid_path(&key_file),
        )
        .build()
        .unwrap();
    let new = redis("trap", &trap.address(), &references[0]);
    let err = svc.test_config(&new, None).await.unwrap_err();
    assert_eq!(err.code(), "SECRET_UNAVAILABLE", "{err:?}");
    assert!(!format!("{err} {err:?}").contains(KEY));
    trap.assert_untouched();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_password_never_follows_the_profile_to_a_new_host() {
    let legit = Trap::bind().await;
    let attacker = Trap::bind().await;
    let svc = builder().build().unwrap();
    let p = svc
        .create(redis("moved", &legit.address(), STORED))
        .await
        .unwrap();
    let moving: Value = json!({ "addresses": [attacker.address()] });
    let err = svc
        .update(
            &p.id,
            ProfileUpdate {
                config: Some(moving.clone()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(error_paths(&err), ["/config/password"]);
    // The saved profile still goes where it went: nothing new is sent.
    let _ = svc.test_profile(&p.id, None).await;
    attacker.assert_untouched();
    assert!(legit.received().contains(STORED), "the probe was real");

    // Moving with the password entered again is allowed, and only the new
    // password travels.
    let mut with_password = moving;
    with_password["password"] = json!("fresh-password");
    svc.update(
        &p.id,
        ProfileUpdate {
            config: Some(with_password),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let _ = svc.test_profile(&p.id, None).await;
    let seen = attacker.received();
    assert!(seen.contains("fresh-password"), "{seen:?}");
    assert!(!seen.contains(STORED), "{seen:?}");
}
