//! Live autocomplete against the local Postgres: shapes, metadata, views,
//! columns, literal prefixes, limits, 10,000 tables, no session left open.

mod common;

use std::time::Duration;

use common::{admin, assert_no_sessions, config, role, unique, Cleanup, BULK_SCHEMA};
use patchbay_connector_postgres::PostgresConnector;
use patchbay_core::{AutocompleteQuery, Connector, Error, ResolvedConfig, Suggestion};
use serde_json::{json, Value};
use sqlx::{Executor, PgConnection};
use tokio::time::Instant;

async fn suggest(
    user: &str,
    kind: &str,
    parent: Option<&str>,
    prefix: Option<&str>,
    limit: usize,
) -> Vec<Suggestion> {
    try_suggest(config(user), kind, parent, prefix, limit)
        .await
        .unwrap_or_else(|e| panic!("{kind} {parent:?} {prefix:?}: {e}"))
}

async fn try_suggest(
    config: Value,
    kind: &str,
    parent: Option<&str>,
    prefix: Option<&str>,
    limit: usize,
) -> Result<Vec<Suggestion>, Error> {
    let query = AutocompleteQuery {
        kind: kind.to_owned(),
        parent: parent.map(str::to_owned),
        prefix: prefix.map(str::to_owned),
        limit,
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    PostgresConnector
        .autocomplete(&ResolvedConfig::new(config), &query, deadline)
        .await
}

fn labels(s: &[Suggestion]) -> Vec<&str> {
    s.iter().map(|s| s.label.as_str()).collect()
}

/// A schema with tables whose names exercise LIKE wildcards, quotes and
/// unicode, plus a view and a materialized view; dropped afterwards.
async fn fixture(admin: &mut PgConnection) -> (String, Cleanup) {
    let schema = unique("ac");
    let guard = Cleanup(vec![format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE")]);
    let sql = format!(
        r#"CREATE SCHEMA "{schema}";
        CREATE TABLE "{schema}".users (id bigint PRIMARY KEY, email text NOT NULL, "Nick Name" varchar(40));
        INSERT INTO "{schema}".users SELECT i, 'u' || i || '@x' FROM generate_series(1, 5000) i;
        ANALYZE "{schema}".users;
        CREATE TABLE "{schema}".user_roles (id int);
        CREATE TABLE "{schema}".userxroles (id int);
        CREATE TABLE "{schema}"."100%_done" (id int);
        CREATE TABLE "{schema}"."100x_done" (id int);
        CREATE TABLE "{schema}"."back\slash" (id int);
        CREATE TABLE "{schema}"."backxslash" (id int);
        CREATE TABLE "{schema}"."it's ""quoted""" (id int);
        CREATE TABLE "{schema}"."café_ünï" (id int);
        CREATE TABLE "{schema}"."cafe_uni" (id int);
        CREATE TABLE "{schema}"."Users_Upper" (id int);
        CREATE VIEW "{schema}".active_users AS SELECT id FROM "{schema}".users;
        CREATE MATERIALIZED VIEW "{schema}".user_counts AS SELECT count(*) AS n FROM "{schema}".users;
        ANALYZE "{schema}".user_counts;"#
    );
    admin.execute(sql.as_str()).await.unwrap();
    (schema, guard)
}

#[tokio::test]
async fn schemas_leave_out_system_schemas() {
    let Some(mut admin) = admin().await else {
        return;
    };
    let (user, _r) = role(&mut admin, "acs").await;
    let (schema, _s) = fixture(&mut admin).await;
    let all = suggest(&user, "schemas", None, None, 1000).await;
    let names = labels(&all);
    assert!(names.contains(&schema.as_str()), "{names:?}");
    assert!(names.contains(&"public"));
    for system in ["pg_catalog", "information_schema", "pg_toast"] {
        assert!(!names.contains(&system), "{system} listed");
    }
    assert!(names.iter().all(|n| !n.starts_with("pg_")));
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    let only = suggest(&user, "schemas", None, Some(&schema), 10).await;
    assert_eq!(labels(&only), [schema.as_str()]);
    assert_eq!(only[0].value, schema);
    assert_eq!(only[0].kind, "schema");
    assert_no_sessions(&mut admin, &user).await;
}

#[tokio::test]
async fn tables_carry_schema_rows_and_size_and_views_say_so() {
    let Some(mut admin) = admin().await else {
        return;
    };
    let (user, _r) = role(&mut admin, "act").await;
    let (schema, _s) = fixture(&mut admin).await;
    let all = suggest(&user, "tables", Some(&schema), None, 100).await;
    assert_eq!(all.len(), 13, "{:?}", labels(&all));
    let mut sorted = labels(&all);
    sorted.sort();
    assert_eq!(labels(&all), sorted, "bytewise order");

    let users = all.iter().find(|s| s.label == "users").unwrap();
    assert_eq!(users.value, format!("{schema}.users"));
    assert_eq!(users.kind, "table");
    assert_eq!(users.metadata["schema"], json!(schema));
    assert_eq!(
        users.metadata["rows"],
        json!(5000),
        "reltuples after ANALYZE"
    );
    let size = users.metadata["size"].as_str().unwrap();
    assert!(size.ends_with("KB") || size.ends_with("MB"), "{size}");

    let fresh = all.iter().find(|s| s.label == "user_roles").unwrap();
    assert_eq!(
        fresh.metadata["rows"],
        Value::Null,
        "never analyzed: unknown"
    );
    assert_eq!(fresh.metadata["size"], json!("0B"));

    let view = all.iter().find(|s| s.label == "active_users").unwrap();
    assert_eq!(view.kind, "view");
    assert_eq!(view.metadata["rows"], Value::Null);
    assert_eq!(view.metadata["size"], Value::Null);
    let matview = all.iter().find(|s| s.label == "user_counts").unwrap();
    assert_eq!(matview.kind, "view");
    assert_eq!(matview.metadata["rows"], json!(1));

    // Without a parent, every user schema is searched.
    let anywhere = suggest(&user, "tables", None, Some("café_"), 1000).await;
    assert!(anywhere
        .iter()
        .any(|s| s.value == format!("{schema}.café_ünï")));
    assert_no_sessions(&mut admin, &user).await;
}

#[tokio::test]
async fn prefixes_match_literally() {
    let Some(mut admin) = admin().await else {
        return;
    };
    let (user, _r) = role(&mut admin, "acp").await;
    let (schema, _s) = fixture(&mut admin).await;
    let cases: &[(&str, &[&str])] = &[
        ("user_", &["user_counts", "user_roles"]),
        ("100%", &["100%_done"]),
        ("100%_", &["100%_done"]),
        (r"back\", &[r"back\slash"]),
        ("it's \"q", &["it's \"quoted\""]),
        ("café", &["café_ünï"]),
        ("Users", &["Users_Upper"]),
        ("users", &["users"]),
        ("%", &[]),
        ("_", &[]),
        ("'; DROP TABLE users; --", &[]),
    ];
    for (prefix, expected) in cases {
        let got = suggest(&user, "tables", Some(&schema), Some(prefix), 100).await;
        assert_eq!(labels(&got), *expected, "prefix {prefix:?}");
    }
    let empty = suggest(&user, "tables", Some(&schema), Some(""), 100).await;
    assert_eq!(empty.len(), 13);
    let none = suggest(&user, "tables", Some(&unique("no_schema")), None, 100).await;
    assert!(none.is_empty());
}

#[tokio::test]
async fn columns_come_with_their_types() {
    let Some(mut admin) = admin().await else {
        return;
    };
    let (user, _r) = role(&mut admin, "acc").await;
    let (schema, _s) = fixture(&mut admin).await;
    let parent = format!("{schema}.users");
    let cols = suggest(&user, "columns", Some(&parent), None, 100).await;
    assert_eq!(labels(&cols), ["Nick Name", "email", "id"]);
    let email = &cols[1];
    assert_eq!(email.kind, "column");
    assert_eq!(email.value, "email");
    assert_eq!(email.metadata["data_type"], json!("text"));
    assert_eq!(email.metadata["nullable"], json!(false));
    assert_eq!(email.metadata["table"], json!("users"));
    assert_eq!(
        cols[0].metadata["data_type"],
        json!("character varying(40)")
    );
    assert_eq!(cols[2].metadata["data_type"], json!("bigint"));
    let e = suggest(&user, "columns", Some(&parent), Some("e"), 100).await;
    assert_eq!(labels(&e), ["email"]);
    match try_suggest(config(&user), "columns", Some("nodot"), None, 10).await {
        Err(Error::Validation(v)) => assert_eq!(v.0[0].path, "/parent"),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[tokio::test]
async fn ten_thousand_tables_one_page_at_a_time() {
    let Some(mut admin) = admin().await else {
        return;
    };
    common::ensure_bulk_schema(&mut admin).await;
    let (user, _r) = role(&mut admin, "acb").await;
    let default = suggest(&user, "tables", Some(BULK_SCHEMA), None, 100).await;
    assert_eq!(default.len(), 100);
    assert_eq!(default[0].label, "t00001");
    assert_eq!(default[99].label, "t00100");
    let capped = suggest(&user, "tables", Some(BULK_SCHEMA), None, 1000).await;
    assert_eq!(capped.len(), 1000);
    assert_eq!(capped[999].label, "t01000");
    let tail = suggest(&user, "tables", Some(BULK_SCHEMA), Some("t0999"), 100).await;
    assert_eq!(
        labels(&tail),
        (9990..=9999)
            .map(|i| format!("t{i:05}"))
            .collect::<Vec<_>>()
    );
    let last = suggest(&user, "tables", Some(BULK_SCHEMA), Some("t1"), 100).await;
    assert_eq!(labels(&last), ["t10000"]);
    assert_eq!(last[0].metadata["size"], json!("0B"));
    assert_no_sessions(&mut admin, &user).await;
}

#[tokio::test]
async fn failures_are_classified_for_autocomplete_too() {
    let mut cfg = config("postgres");
    cfg["port"] = json!(patchbay_testkit::net::refused_port());
    match try_suggest(cfg, "schemas", None, None, 10).await {
        Err(Error::ConnectionFailed(f)) => {
            assert_eq!(f.reason, patchbay_core::FailureReason::Refused, "{f}")
        }
        other => panic!("expected refused, got {other:?}"),
    }
}

// A probe that times out mid-query drops its socket, but a backend waiting
// on a lock does not notice that; statement_timeout makes the server end it
// by the deadline. The lock is held well past the probe, so a lingering
// session would be counted.
#[tokio::test]
async fn a_timed_out_query_leaves_no_session_behind() {
    let Some(mut admin) = admin().await else {
        return;
    };
    let (user, _r) = role(&mut admin, "acl").await;
    let (schema, _s) = fixture(&mut admin).await;
    let mut locker = common::admin().await.unwrap();
    locker.execute("BEGIN").await.unwrap();
    locker
        .execute(format!("LOCK TABLE \"{schema}\".users IN ACCESS EXCLUSIVE MODE").as_str())
        .await
        .unwrap();

    let query = AutocompleteQuery {
        kind: "tables".into(),
        parent: Some(schema.clone()),
        prefix: Some("users".into()),
        limit: 10,
    };
    let start = Instant::now();
    let budget = Duration::from_millis(1500);
    let result = PostgresConnector
        .autocomplete(&ResolvedConfig::new(config(&user)), &query, start + budget)
        .await;
    match result {
        Err(Error::ConnectionFailed(f)) => {
            assert_eq!(f.reason, patchbay_core::FailureReason::Timeout, "{f}")
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    // Bounded by the deadline (generous margin for a loaded machine); the
    // lock alone would hold the query until ROLLBACK.
    assert!(
        start.elapsed() < budget * 2 + Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
    assert_no_sessions(&mut admin, &user).await;
    locker.execute("ROLLBACK").await.unwrap();
}
