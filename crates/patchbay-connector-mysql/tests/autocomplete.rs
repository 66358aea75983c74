//! Live autocomplete against the local MariaDB: shapes, metadata, views,
//! columns, literal prefixes, limits, 10,000 tables, no session left open.

mod common;

use std::time::Duration;

use common::{admin, assert_no_sessions, config, grant, unique, user, Cleanup, BULK_SCHEMA};
use patchbay_connector_mysql::MySqlConnector;
use patchbay_core::{AutocompleteQuery, Connector, Error, ResolvedConfig, Suggestion};
use serde_json::{json, Value};
use sqlx::{Executor, MySqlConnection};
use tokio::time::Instant;

const PW: &str = "ac-pw";

async fn suggest(
    user: &str,
    kind: &str,
    parent: Option<&str>,
    prefix: Option<&str>,
    limit: usize,
) -> Vec<Suggestion> {
    try_suggest(config(user, PW), kind, parent, prefix, limit)
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
    MySqlConnector
        .autocomplete(&ResolvedConfig::new(config), &query, deadline)
        .await
}

fn labels(s: &[Suggestion]) -> Vec<&str> {
    s.iter().map(|s| s.label.as_str()).collect()
}

/// A user with SELECT on a fresh database whose table names exercise LIKE
/// wildcards, quotes, case and unicode, plus a view; all dropped afterwards.
async fn fixture(admin: &mut MySqlConnection, stem: &str) -> (String, String, Cleanup, Cleanup) {
    let (name, drop_user) = user(admin, stem, PW).await;
    let db = unique("ac");
    let drop_db = Cleanup(vec![format!("DROP DATABASE IF EXISTS `{db}`")]);
    let statements = [
        format!("CREATE DATABASE `{db}` CHARACTER SET utf8mb4"),
        format!("CREATE TABLE `{db}`.users (id BIGINT PRIMARY KEY, email TEXT NOT NULL, `Nick Name` VARCHAR(40)) ENGINE=InnoDB"),
        format!("INSERT INTO `{db}`.users SELECT seq, CONCAT('u', seq, '@x'), NULL FROM seq_1_to_5000"),
        format!("ANALYZE TABLE `{db}`.users"),
        format!("CREATE TABLE `{db}`.user_roles (id INT)"),
        format!("CREATE TABLE `{db}`.userxroles (id INT)"),
        format!("CREATE TABLE `{db}`.`100%_done` (id INT)"),
        format!("CREATE TABLE `{db}`.`100x_done` (id INT)"),
        format!("CREATE TABLE `{db}`.`back\\slash` (id INT)"),
        format!("CREATE TABLE `{db}`.`backxslash` (id INT)"),
        format!("CREATE TABLE `{db}`.`it's \"quoted\"` (id INT)"),
        format!("CREATE TABLE `{db}`.`café_ünï` (id INT)"),
        format!("CREATE TABLE `{db}`.`cafe_uni` (id INT)"),
        format!("CREATE TABLE `{db}`.`Users_Upper` (id INT)"),
        format!("CREATE VIEW `{db}`.active_users AS SELECT id FROM `{db}`.users"),
    ];
    for s in statements {
        admin
            .execute(s.as_str())
            .await
            .unwrap_or_else(|e| panic!("{s}: {e}"));
    }
    grant(admin, &name, &db).await;
    (name, db, drop_user, drop_db)
}

#[tokio::test]
async fn schemas_leave_out_system_schemas() {
    let Some(mut admin) = admin().await else {
        return;
    };
    let (name, db, _u, _d) = fixture(&mut admin, "acs").await;
    // root sees every database; the probe user only those it has rights on.
    let all = try_suggest(config("root", ""), "schemas", None, None, 1000)
        .await
        .unwrap();
    let names = labels(&all);
    assert!(
        names.contains(&db.as_str()) && names.contains(&"test"),
        "{names:?}"
    );
    for system in ["mysql", "information_schema", "performance_schema", "sys"] {
        assert!(!names.contains(&system), "{system} listed");
    }
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    let mine = suggest(&name, "schemas", None, Some(&db), 10).await;
    assert_eq!(labels(&mine), [db.as_str()]);
    assert_eq!(mine[0].kind, "schema");
    assert_eq!(mine[0].value, db);
    assert_no_sessions(&mut admin, &name).await;
}

#[tokio::test]
async fn tables_carry_schema_rows_and_size_and_views_say_so() {
    let Some(mut admin) = admin().await else {
        return;
    };
    let (name, db, _u, _d) = fixture(&mut admin, "act").await;
    let all = suggest(&name, "tables", Some(&db), None, 100).await;
    assert_eq!(all.len(), 12, "{:?}", labels(&all));
    let mut sorted = labels(&all);
    sorted.sort();
    assert_eq!(labels(&all), sorted, "bytewise order");

    let users = all.iter().find(|s| s.label == "users").unwrap();
    assert_eq!(users.value, format!("{db}.users"));
    assert_eq!(users.kind, "table");
    assert_eq!(users.metadata["schema"], json!(db));
    let rows = users.metadata["rows"].as_i64().unwrap();
    assert!((4000..=6000).contains(&rows), "InnoDB estimate {rows}");
    let size = users.metadata["size"].as_str().unwrap();
    assert!(size.ends_with("KB") || size.ends_with("MB"), "{size}");

    let view = all.iter().find(|s| s.label == "active_users").unwrap();
    assert_eq!(view.kind, "view");
    assert_eq!(view.metadata["rows"], Value::Null);
    assert_eq!(view.metadata["size"], Value::Null);

    let anywhere = suggest(&name, "tables", None, Some("café_"), 1000).await;
    assert_eq!(anywhere.len(), 1);
    assert_eq!(anywhere[0].value, format!("{db}.café_ünï"));
    assert_no_sessions(&mut admin, &name).await;
}

#[tokio::test]
async fn prefixes_match_literally() {
    let Some(mut admin) = admin().await else {
        return;
    };
    let (name, db, _u, _d) = fixture(&mut admin, "acp").await;
    let cases: &[(&str, &[&str])] = &[
        ("user_", &["user_roles"]),
        ("100%", &["100%_done"]),
        ("100%_", &["100%_done"]),
        (r"back\", &[r"back\slash"]),
        ("it's \"q", &["it's \"quoted\""]),
        ("café", &["café_ünï"]),
        ("cafe", &["cafe_uni"]),
        ("Users", &["Users_Upper"]),
        ("users", &["users"]),
        ("%", &[]),
        ("_", &[]),
        ("!", &[]),
        ("'; DROP TABLE users; --", &[]),
    ];
    for (prefix, expected) in cases {
        let got = suggest(&name, "tables", Some(&db), Some(prefix), 100).await;
        assert_eq!(labels(&got), *expected, "prefix {prefix:?}");
    }
    assert_eq!(
        suggest(&name, "tables", Some(&db), Some(""), 100)
            .await
            .len(),
        12
    );
    assert!(suggest(&name, "tables", Some(&unique("nodb")), None, 100)
        .await
        .is_empty());
}

#[tokio::test]
async fn columns_come_with_their_types() {
    let Some(mut admin) = admin().await else {
        return;
    };
    let (name, db, _u, _d) = fixture(&mut admin, "acc").await;
    let parent = format!("{db}.users");
    let cols = suggest(&name, "columns", Some(&parent), None, 100).await;
    assert_eq!(labels(&cols), ["Nick Name", "email", "id"]);
    assert_eq!(cols[1].kind, "column");
    assert_eq!(cols[1].metadata["data_type"], json!("text"));
    assert_eq!(cols[1].metadata["nullable"], json!(false));
    assert_eq!(cols[0].metadata["data_type"], json!("varchar(40)"));
    assert_eq!(cols[0].metadata["nullable"], json!(true));
    assert!(cols[2].metadata["data_type"]
        .as_str()
        .unwrap()
        .starts_with("bigint"));
    let e = suggest(&name, "columns", Some(&parent), Some("e"), 100).await;
    assert_eq!(labels(&e), ["email"]);
    match try_suggest(config(&name, PW), "columns", None, None, 10).await {
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
    let (name, _u) = user(&mut admin, "acb", PW).await;
    grant(&mut admin, &name, BULK_SCHEMA).await;
    let default = suggest(&name, "tables", Some(BULK_SCHEMA), None, 100).await;
    assert_eq!(default.len(), 100);
    assert_eq!(default[0].label, "t00001");
    assert_eq!(default[99].label, "t00100");
    assert_eq!(default[0].metadata["rows"], json!(0));
    let capped = suggest(&name, "tables", Some(BULK_SCHEMA), None, 1000).await;
    assert_eq!(capped.len(), 1000);
    assert_eq!(capped[999].label, "t01000");
    let tail = suggest(&name, "tables", Some(BULK_SCHEMA), Some("t0999"), 100).await;
    assert_eq!(
        labels(&tail),
        (9990..=9999)
            .map(|i| format!("t{i:05}"))
            .collect::<Vec<_>>()
    );
    let last = suggest(&name, "tables", Some(BULK_SCHEMA), Some("t1"), 100).await;
    assert_eq!(labels(&last), ["t10000"]);
    assert_no_sessions(&mut admin, &name).await;
}

#[tokio::test]
async fn wrong_password_fails_autocomplete_as_auth() {
    let Some(mut admin) = admin().await else {
        return;
    };
    let (name, _u) = user(&mut admin, "acw", PW).await;
    match try_suggest(config(&name, "nope"), "schemas", None, None, 10).await {
        Err(Error::ConnectionFailed(f)) => {
            assert_eq!(f.reason, patchbay_core::FailureReason::Auth, "{f}")
        }
        other => panic!("expected auth, got {other:?}"),
    }
}
