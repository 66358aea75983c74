//! Durability: a child process creating profiles is killed with SIGKILL at
//! random moments; every create it reported as done must survive, and the
//! file must pass `PRAGMA integrity_check`.

use std::collections::BTreeSet;
use std::process::Stdio;
use std::time::Duration;

use patchbay_core::{ProfileId, ProfileRepository};
use patchbay_store_sqlite::SqliteStore;
use patchbay_testkit::repository::{fixture, unique};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::time::{timeout, Instant};

/// Set for the child: the database URL to write to.
const CHILD_ENV: &str = "PATCHBAY_SQLITE_DURABILITY_CHILD";
const KILLS: usize = 12;

/// The child: four writers create profiles and print each id after `Ok`,
/// until killed (or after 30 s, so it never outlives a lost parent).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run only as the child of sigkill_loses_no_acknowledged_create"]
async fn durability_child() {
    let url = std::env::var(CHILD_ENV).expect("run by sigkill_loses_no_acknowledged_create");
    let store = SqliteStore::open(&url).await.expect("open");
    let deadline = Instant::now() + Duration::from_secs(30);
    let writers: Vec<_> = (0..4)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                while Instant::now() < deadline {
                    let p = fixture(&unique("dur"), "fake");
                    store.create(&p).await.expect("create");
                    println!("CREATED {}", p.id);
                }
            })
        })
        .collect();
    for w in writers {
        w.await.expect("writer");
    }
}

fn random_below(n: u64) -> u64 {
    (uuid::Uuid::new_v4().as_u128() % u128::from(n)) as u64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_loses_no_acknowledged_create() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}", dir.path().join("durable.db").display());
    let exe = std::env::current_exe().expect("test binary");
    let mut acknowledged = BTreeSet::new();
    for round in 0..KILLS {
        let mut child = tokio::process::Command::new(&exe)
            .args([
                "durability_child",
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, &url)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn child");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let mut record = |line: &str| {
            if let Some(id) = line.strip_prefix("CREATED ") {
                acknowledged.insert(id.to_owned());
            }
        };
        // Wait until the child is writing, then let it run a random while.
        loop {
            let line = timeout(Duration::from_secs(30), lines.next_line())
                .await
                .expect("child started writing")
                .expect("read")
                .unwrap_or_else(|| panic!("round {round}: child exited before writing"));
            record(&line);
            if line.starts_with("CREATED ") {
                break;
            }
        }
        let kill_at = Instant::now() + Duration::from_millis(5 + random_below(250));
        while let Ok(Ok(Some(line))) = tokio::time::timeout_at(kill_at, lines.next_line()).await {
            record(&line);
        }
        child.start_kill().expect("SIGKILL");
        // Lines the child printed before dying are still in the pipe.
        while let Some(line) = lines.next_line().await.expect("read") {
            record(&line);
        }
        let status = child.wait().await.expect("wait");
        assert!(
            !status.success(),
            "round {round}: the child was meant to be killed"
        );
    }
    assert!(
        acknowledged.len() >= KILLS,
        "too few creates to judge: {}",
        acknowledged.len()
    );

    let store = SqliteStore::open(&url).await.expect("reopen");
    let check: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(store.pool())
        .await
        .expect("integrity_check");
    assert_eq!(check, "ok");
    for id in &acknowledged {
        let id = ProfileId::parse(id).expect("id");
        store
            .get(&patchbay_core::TenantId::default(), &id)
            .await
            .unwrap_or_else(|e| panic!("acknowledged create {id} lost: {e}"));
    }
    eprintln!(
        "{} acknowledged creates survived {KILLS} SIGKILLs",
        acknowledged.len()
    );
}
