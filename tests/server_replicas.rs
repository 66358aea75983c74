//! Two server example processes on one Postgres schema, as a replica set:
//! uniqueness, versions, deletes and connection tables hold across them, and
//! one restarts under load with no failed request but the restarted one's
//! connection errors. Each test has its own fresh schema.

mod replica_set;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

use replica_set::{Pair, DEADLINE};

async fn call(req: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let r = req.send().await.expect("request");
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn profile(name: &str) -> Value {
    json!({ "name": name, "connector": "postgres",
            "config": { "host": "127.0.0.1", "port": 5432, "database": "test",
                        "username": "postgres", "password": "s3cret" } })
}

async fn create(c: &Client, base: &str, name: &str) -> String {
    let (status, body) = call(
        c.post(format!("{base}/connection_profiles"))
            .json(&profile(name)),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["data"]["id"].as_str().expect("id").to_owned()
}

/// `n` concurrent POSTs of `body` to `url`, alternating between the bases,
/// released together; the statuses and codes.
async fn race(
    c: &Client,
    bases: [&str; 2],
    path: &str,
    body: Value,
    n: usize,
) -> Vec<(u16, Value)> {
    let start = Arc::new(tokio::sync::Barrier::new(n));
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let (c, start, body) = (c.clone(), start.clone(), body.clone());
            let url = format!("{}{path}", bases[i % 2]);
            tokio::spawn(async move {
                start.wait().await;
                let (s, b) = call(c.post(url).json(&body)).await;
                (s.as_u16(), b["error"]["code"].clone())
            })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.expect("task"));
    }
    out
}

fn one_wins(results: &[(u16, Value)]) {
    let wins = results.iter().filter(|(s, _)| *s == 201).count();
    assert_eq!(wins, 1, "{results:?}");
    assert!(
        results
            .iter()
            .all(|(s, code)| *s == 201 || (*s == 409 && code == "ALREADY_EXISTS")),
        "{results:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_name_created_on_both_replicas_at_once_one_wins() {
    let Some(p) = Pair::start("rep_names") else {
        return;
    };
    let c = Client::new();
    let (a, b) = (p.a.base(), p.b.base());
    for round in 0..5 {
        let results = race(
            &c,
            [&a, &b],
            "/connection_profiles",
            profile(&format!("orders-{round}")),
            8,
        )
        .await;
        one_wins(&results);
    }
    let (status, list) = call(c.get(format!("{b}/connection_profiles?prefix=orders-"))).await;
    assert_eq!(status, 200);
    assert_eq!(list["data"].as_array().expect("data").len(), 5, "{list}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_if_match_from_the_other_replica_is_a_conflict() {
    let Some(p) = Pair::start("rep_versions") else {
        return;
    };
    let c = Client::new();
    let (a, b) = (p.a.base(), p.b.base());
    let id = create(&c, &a, "orders").await;
    let one = |base: &str| format!("{base}/connection_profiles/{id}");
    // Read on A, so a cache (there must be none over Postgres) would hold v1.
    let (_, list) = call(c.get(format!("{a}/connection_profiles"))).await;
    assert_eq!(list["data"][0]["version"], 1, "{list}");
    let (status, got) = call(c.get(one(&a))).await;
    assert_eq!(
        (status.as_u16(), got["data"]["version"].as_u64()),
        (200, Some(1))
    );
    let patch = |d: &str| json!({ "description": d });
    let (status, body) = call(
        c.patch(one(&b))
            .header("If-Match", "\"1\"")
            .json(&patch("on b")),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = call(
        c.patch(one(&a))
            .header("If-Match", "\"1\"")
            .json(&patch("on a")),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["code"], "VERSION_CONFLICT");
    // A's reads follow B's write: the response cache (on by default) is off
    // over Postgres.
    let (_, got) = call(c.get(one(&a))).await;
    assert_eq!(got["data"]["version"], 2, "{got}");
    assert_eq!(got["data"]["description"], "on b", "{got}");
    let (_, list) = call(c.get(format!("{a}/connection_profiles"))).await;
    assert_eq!(list["data"][0]["version"], 2, "{list}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delete_on_one_replica_is_seen_on_the_other() {
    let Some(p) = Pair::start("rep_delete") else {
        return;
    };
    let c = Client::new();
    let (a, b) = (p.a.base(), p.b.base());
    let id = create(&c, &b, "orders").await;
    let (status, _) = call(c.get(format!("{b}/connection_profiles/{id}"))).await;
    assert_eq!(status, 200);
    let (status, body) = call(c.delete(format!("{a}/connection_profiles/{id}"))).await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = call(c.get(format!("{b}/connection_profiles/{id}"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, list) = call(c.get(format!("{b}/connection_profiles"))).await;
    assert_eq!(list["data"], json!([]), "{list}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_tables_are_shared_by_the_replicas_and_survive_a_restart() {
    let Some(mut p) = Pair::start("rep_tables") else {
        return;
    };
    let c = Client::new();
    let (a, b) = (p.a.base(), p.b.base());
    let id = create(&c, &a, "orders-db").await;
    let table = json!({ "name": "orders", "profile_id": id });
    let (status, body) = call(c.post(format!("{a}/connection_tables")).json(&table)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let listed = json!([{ "name": "orders", "profile_id": id }]);
    let (_, list) = call(c.get(format!("{b}/connection_tables"))).await;
    assert_eq!(list["data"], listed);
    // Delete versus attach holds across replicas.
    let (status, body) = call(c.delete(format!("{b}/connection_profiles/{id}"))).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(
        body["error"]["details"]["dependents"],
        json!([{ "kind": "connection_table", "id": "orders" }])
    );
    // One name, claimed on both at once: one wins.
    let other = create(&c, &b, "other-db").await;
    for round in 0..3 {
        let t = json!({ "name": format!("t{round}"), "profile_id": if round % 2 == 0 { &id } else { &other } });
        one_wins(&race(&c, [&a, &b], "/connection_tables", t, 8).await);
    }

    p.a.restart();
    let a = p.a.base();
    let (_, list) = call(c.get(format!("{a}/connection_tables"))).await;
    let names: Vec<&str> = list["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(names, ["orders", "t0", "t1", "t2"], "{list}");
    for name in names {
        let (status, body) = call(c.delete(format!("{b}/connection_tables/{name}"))).await;
        assert_eq!(status, 200, "{name}: {body}");
    }
    let (status, _) = call(c.delete(format!("{a}/connection_tables/orders"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, list) = call(c.get(format!("{a}/connection_tables"))).await;
    assert_eq!(list["data"], json!([]));
    let (status, body) = call(c.delete(format!("{a}/connection_profiles/{id}"))).await;
    assert_eq!(status, 200, "{body}");
}

/// What the load saw, per replica.
struct Tally {
    ok: [AtomicUsize; 2],
    /// Requests that got no HTTP response (refused, reset, closed).
    transport: [AtomicUsize; 2],
    /// Anything else: a wrong status or body. Must stay empty.
    failures: std::sync::Mutex<Vec<String>>,
    /// Moves after every request, for waiters.
    progress: tokio::sync::watch::Sender<()>,
}

impl Tally {
    fn new() -> Self {
        Self {
            ok: Default::default(),
            transport: Default::default(),
            failures: Default::default(),
            progress: tokio::sync::watch::channel(()).0,
        }
    }

    fn fail(&self, what: String) {
        self.failures.lock().unwrap().push(what);
    }

    fn ok(&self, r: usize) -> usize {
        self.ok[r].load(Ordering::Relaxed)
    }

    /// Waits (bounded) until `done` holds, re-checked after every request.
    async fn until(&self, what: &str, done: impl Fn(&Self) -> bool) {
        let mut rx = self.progress.subscribe();
        let waited = tokio::time::timeout(DEADLINE, rx.wait_for(|_| done(self))).await;
        assert!(matches!(waited, Ok(Ok(_))), "timed out waiting for {what}");
    }
}

/// One request; `Some(body)` on the expected status, `None` when it got no
/// response (counted), a failure recorded otherwise.
async fn step(t: &Tally, r: usize, req: reqwest::RequestBuilder, want: u16) -> Option<Value> {
    let outcome = send(t, r, req, want).await;
    t.progress.send_replace(());
    outcome
}

async fn send(t: &Tally, r: usize, req: reqwest::RequestBuilder, want: u16) -> Option<Value> {
    match req.send().await {
        Ok(resp) => {
            let status = resp.status().as_u16();
            let body: Value = resp.json().await.unwrap_or(Value::Null);
            if status == want {
                t.ok[r].fetch_add(1, Ordering::Relaxed);
                Some(body)
            } else {
                t.fail(format!("replica {r}: {status} (wanted {want}): {body}"));
                None
            }
        }
        Err(_) => {
            t.transport[r].fetch_add(1, Ordering::Relaxed);
            None
        }
    }
}

/// Creates on one replica and reads it back on the other, then lists,
/// alternating, until stopped (bounded in rounds and time).
async fn load(worker: usize, bases: [String; 2], t: Arc<Tally>, stop: Arc<AtomicBool>) {
    let c = Client::new();
    let started = Instant::now();
    for i in 0..20_000 {
        if stop.load(Ordering::Relaxed) || started.elapsed() > DEADLINE {
            break;
        }
        let (w, r) = (i % 2, (i + 1) % 2);
        let name = format!("load-{worker}-{i}");
        let req = c
            .post(format!("{}/connection_profiles", bases[w]))
            .json(&profile(&name));
        if let Some(body) = step(&t, w, req, 201).await {
            let id = body["data"]["id"].as_str().unwrap_or_default();
            let req = c.get(format!("{}/connection_profiles/{id}", bases[r]));
            step(&t, r, req, 200).await;
        }
        step(
            &t,
            r,
            c.get(format!("{}/connection_profiles?limit=20", bases[r])),
            200,
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rolling_restart_under_load_fails_no_request_but_the_restarted_ones_connections() {
    let Some(mut p) = Pair::start("rep_rolling") else {
        return;
    };
    let bases = [p.a.base(), p.b.base()];
    let (tally, stop) = (Arc::new(Tally::new()), Arc::new(AtomicBool::new(false)));
    let workers: Vec<_> = (0..4)
        .map(|w| tokio::spawn(load(w, bases.clone(), tally.clone(), stop.clone())))
        .collect();
    tally
        .until("load on both replicas", |t| t.ok(0) >= 50 && t.ok(1) >= 50)
        .await;

    // B goes down and comes back on its port while A keeps serving.
    let before = tally.ok(1);
    let restart = tokio::task::spawn_blocking(move || {
        p.b.restart();
        p
    });
    let p = restart.await.expect("restart");
    tally
        .until("load on the restarted replica", |t| t.ok(1) >= before + 100)
        .await;
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.await.expect("worker");
    }

    let failures = tally.failures.lock().unwrap();
    assert!(
        failures.is_empty(),
        "{} failed: {:?}",
        failures.len(),
        &failures[..failures.len().min(10)]
    );
    let transport = |r: usize| tally.transport[r].load(Ordering::Relaxed);
    assert_eq!(
        transport(0),
        0,
        "the replica that stayed up dropped requests"
    );
    eprintln!(
        "rolling restart: A {} ok, B {} ok, {} connection errors on B while it restarted",
        tally.ok(0),
        tally.ok(1),
        transport(1)
    );
    drop(p);
}
