//! The audit trail under SIGKILL: a child process writes from four tasks
//! (create, three updates, every other profile deleted, each with its audit
//! event) and prints every acknowledged write; the parent kills it after a
//! set number of acknowledgements, several times over one file, then checks
//! both ways: every acknowledged write has its event, and every event its
//! write (the rows are exactly what the events describe).

use std::collections::{BTreeMap, BTreeSet};
use std::process::Stdio;
use std::time::Duration;

use patchbay_core::repository::MAX_PAGE_SIZE;
use patchbay_core::{
    AuditAction, AuditEvent, AuditOutcome, AuditQuery, ListQuery, Profile, ProfileRepository,
    TenantId,
};
use patchbay_store_sqlite::SqliteStore;
use patchbay_testkit::repository::tenants::fixture_in;
use patchbay_testkit::repository::unique;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::time::{timeout, Instant};

/// Set for the child: the database URL to write to.
const CHILD_ENV: &str = "PATCHBAY_SQLITE_AUDIT_CRASH_CHILD";
const TASKS: usize = 4;
/// The child of round `r` is killed once it has acknowledged
/// `KILL_AFTER[r]` writes (counts, not time: the same on any machine).
const KILL_AFTER: [usize; 5] = [20, 55, 90, 125, 160];

fn tenant() -> TenantId {
    TenantId::new("crash").expect("tenant")
}

fn event(p: &Profile, action: AuditAction, who: &str) -> AuditEvent {
    AuditEvent {
        seq: 0,
        at: p.updated_at,
        tenant: p.tenant.clone(),
        principal: Some(who.to_owned()),
        action,
        profile_id: Some(p.id.clone()),
        version: Some(p.version),
        outcome: AuditOutcome::Success,
        error_code: None,
    }
}

/// `ACK <action> <id> <version>`, printed only after the write returned Ok.
fn ack(action: AuditAction, p: &Profile) {
    println!("ACK {action} {} {}", p.id, p.version);
}

/// One writer: profiles one after another, each created, updated to
/// version 4 (its description names the version), and deleted when odd.
async fn writer(store: SqliteStore, task: usize, deadline: Instant) {
    let who = format!("task-{task}");
    let mut n = 0_usize;
    while Instant::now() < deadline {
        let mut p = fixture_in(&tenant(), &unique(&format!("crash-{task}")), "fake");
        p.description = Some("v1".into());
        let e = event(&p, AuditAction::Create, &who);
        store.create_audited(&p, &e).await.expect("create");
        ack(AuditAction::Create, &p);
        for _ in 0..3 {
            let expected = p.version;
            p.version += 1;
            p.description = Some(format!("v{}", p.version));
            let e = event(&p, AuditAction::Update, &who);
            store
                .update_audited(&p, expected, &e)
                .await
                .expect("update");
            ack(AuditAction::Update, &p);
        }
        if n % 2 == 1 {
            let e = event(&p, AuditAction::Delete, &who);
            store
                .delete_audited(&p.tenant, &p.id, &e)
                .await
                .expect("delete");
            ack(AuditAction::Delete, &p);
        }
        n += 1;
    }
}

/// The child: writes until killed (or for 30 s, so it never outlives a
/// lost parent).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run only as the child of sigkill_keeps_writes_and_events_together"]
async fn audit_crash_child() {
    let url = std::env::var(CHILD_ENV).expect("run by sigkill_keeps_writes_and_events_together");
    let store = SqliteStore::open(&url).await.expect("open");
    let deadline = Instant::now() + Duration::from_secs(30);
    let tasks: Vec<_> = (0..TASKS)
        .map(|t| tokio::spawn(writer(store.clone(), t, deadline)))
        .collect();
    for t in tasks {
        t.await.expect("writer");
    }
}

type Write = (String, String, u64);

/// Runs one child and kills it after `kill_after` acknowledgements; returns
/// every write it acknowledged (including lines still in the pipe).
async fn run_child(url: &str, kill_after: usize) -> Vec<Write> {
    let exe = std::env::current_exe().expect("test binary");
    let mut child = tokio::process::Command::new(exe)
        .args([
            "audit_crash_child",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, url)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn child");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut acked = Vec::new();
    let parse = |line: &str| -> Option<Write> {
        let mut f = line.strip_prefix("ACK ")?.split(' ');
        let (action, id, version) = (f.next()?, f.next()?, f.next()?);
        Some((action.to_owned(), id.to_owned(), version.parse().ok()?))
    };
    while acked.len() < kill_after {
        let line = timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("the child keeps writing")
            .expect("read")
            .expect("the child exited before it was killed");
        acked.extend(parse(&line));
    }
    child.start_kill().expect("SIGKILL");
    // What the child printed before dying is still in the pipe.
    while let Some(line) = lines.next_line().await.expect("read") {
        acked.extend(parse(&line));
    }
    let status = child.wait().await.expect("wait");
    assert!(!status.success(), "the child was meant to be killed");
    acked
}

async fn all_events(store: &SqliteStore) -> Vec<AuditEvent> {
    let trail = store.audit().expect("the store keeps a trail");
    let mut q = AuditQuery {
        limit: MAX_PAGE_SIZE,
        ..AuditQuery::default()
    };
    let mut out = Vec::new();
    loop {
        let page = trail.events(&tenant(), &q).await.expect("events");
        out.extend(page.items);
        match page.next_cursor {
            Some(c) => q.after = Some(c),
            None => return out,
        }
    }
}

async fn all_profiles(store: &SqliteStore) -> BTreeMap<String, Profile> {
    let mut q = ListQuery {
        limit: MAX_PAGE_SIZE,
        ..ListQuery::default()
    };
    let mut out = BTreeMap::new();
    loop {
        let page = store.list(&tenant(), &q).await.expect("list");
        out.extend(page.items.into_iter().map(|p| (p.id.to_string(), p)));
        match page.next_cursor {
            Some(c) => q.after = Some(c),
            None => return out,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_keeps_writes_and_events_together() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}", dir.path().join("audit.db").display());
    let mut acked = Vec::new();
    for n in KILL_AFTER {
        acked.extend(run_child(&url, n).await);
    }

    let store = SqliteStore::open(&url).await.expect("reopen");
    let check: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(store.pool())
        .await
        .expect("integrity_check");
    assert_eq!(check, "ok");
    let events = all_events(&store).await;
    let profiles = all_profiles(&store).await;

    let mut recorded: BTreeSet<Write> = BTreeSet::new();
    let mut by_profile: BTreeMap<String, Vec<(AuditAction, u64)>> = BTreeMap::new();
    for e in &events {
        assert_eq!(e.outcome, AuditOutcome::Success, "{e:?}");
        let id = e.profile_id.as_ref().expect("profile id").to_string();
        let version = e.version.expect("version");
        let fresh = recorded.insert((e.action.to_string(), id.clone(), version));
        assert!(fresh, "a write recorded twice: {e:?}");
        by_profile.entry(id).or_default().push((e.action, version));
    }
    // Every acknowledged write has its event.
    for w in &acked {
        assert!(
            recorded.contains(w),
            "acknowledged write without event: {w:?}"
        );
    }
    // Every event has its write: a profile's events are its create, one
    // update per version it reached, and a delete exactly when it is gone.
    for (id, evs) in &by_profile {
        let updates: Vec<u64> = evs
            .iter()
            .filter(|(a, _)| *a == AuditAction::Update)
            .map(|(_, v)| *v)
            .collect();
        let last = updates.last().copied().unwrap_or(1);
        assert_eq!(
            evs.first(),
            Some(&(AuditAction::Create, 1)),
            "{id}: {evs:?}"
        );
        assert_eq!(updates, (2..=last).collect::<Vec<_>>(), "{id}: {evs:?}");
        let deleted = evs.contains(&(AuditAction::Delete, last));
        assert_eq!(
            evs.len(),
            1 + updates.len() + usize::from(deleted),
            "{id}: {evs:?}"
        );
        match profiles.get(id) {
            Some(p) => {
                assert!(!deleted, "{id}: deleted by its events, yet present");
                assert_eq!(p.version, last, "{id}: row and events disagree");
                assert_eq!(p.description.as_deref(), Some(&*format!("v{last}")));
            }
            None => assert!(deleted, "{id}: events of a write that is not there"),
        }
    }
    // And no row was written without its event.
    for id in profiles.keys() {
        assert!(
            by_profile.contains_key(id),
            "{id}: a profile without events"
        );
    }
    let deletes = recorded.iter().filter(|w| w.0 == "delete").count();
    assert!(
        deletes > 0 && !profiles.is_empty(),
        "too few writes to judge"
    );
    eprintln!(
        "{} acknowledged writes, {} events, {} profiles after {} SIGKILLs",
        acked.len(),
        events.len(),
        profiles.len(),
        KILL_AFTER.len()
    );
}
