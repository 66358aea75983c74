//! `information_schema` queries behind autocomplete: one statement per
//! request, whatever the number of tables, every user input bound.
//!
//! A schema is a database. Tables take two short statements, see below. `information_schema` compares names with a
//! case- and accent-insensitive collation; `LIKE BINARY` and
//! `ORDER BY BINARY` make prefixes literal and the order bytewise, as in
//! the Postgres connector.

use std::collections::HashMap;

use patchbay_connector_sql::suggest::{self, TableRow};
use patchbay_core::Suggestion;
use sqlx::{MySqlConnection, Row};

const SCHEMAS: &str = "\
SELECT SCHEMA_NAME FROM information_schema.SCHEMATA
WHERE SCHEMA_NAME NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys')
  AND SCHEMA_NAME LIKE BINARY ? ESCAPE '!'
ORDER BY BINARY SCHEMA_NAME LIMIT ?";

// Tables take two statements, both bounded by the limit, never by the
// number of tables: MariaDB fills information_schema.TABLES completely before
// ORDER BY/LIMIT, opening every matching table to read TABLE_ROWS and the
// lengths (1.5 s for 10,000 tables here), but it filters on TABLE_SCHEMA /
// TABLE_NAME conditions *before* opening a table. So: the page of names
// first (no table opened), then the facts for exactly those names.
//
// An equality on TABLE_SCHEMA also lets the server read a single database
// directory, which `(? IS NULL OR …)` would defeat: hence two variants.
const NAMES_SELECT: &str = "\
SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES
WHERE TABLE_NAME LIKE BINARY ? ESCAPE '!' AND ";
const IN_SCHEMA: &str = "TABLE_SCHEMA = ?";
const IN_USER_SCHEMAS: &str =
    "TABLE_SCHEMA NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys')";
const NAMES_ORDER: &str = " ORDER BY BINARY TABLE_SCHEMA, BINARY TABLE_NAME LIMIT ?";

// TABLE_ROWS is InnoDB's estimate (exact for MyISAM/Aria), NULL for views.
const FACTS_SELECT: &str = "\
SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE LIKE '%VIEW',
       CAST(TABLE_ROWS AS SIGNED), CAST(DATA_LENGTH + INDEX_LENGTH AS SIGNED)
FROM information_schema.TABLES WHERE ";

const COLUMNS: &str = "\
SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE
FROM information_schema.COLUMNS
WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND COLUMN_NAME LIKE BINARY ? ESCAPE '!'
ORDER BY BINARY COLUMN_NAME LIMIT ?";

pub(crate) use patchbay_connector_sql::CatalogRequest as Request;

/// Runs the catalog statement(s).
pub(crate) async fn run(
    request: Request,
    conn: &mut MySqlConnection,
) -> sqlx::Result<Vec<Suggestion>> {
    match request {
        Request::Schemas { pattern, limit } => {
            let rows = sqlx::query(SCHEMAS)
                .bind(pattern)
                .bind(limit)
                .fetch_all(conn)
                .await?;
            rows.iter()
                .map(|r| Ok(suggest::schema(r.try_get(0)?)))
                .collect()
        }
        Request::Tables {
            schema,
            pattern,
            limit,
        } => tables(conn, schema, pattern, limit).await,
        Request::Columns {
            schema,
            table,
            pattern,
            limit,
        } => {
            let rows = sqlx::query(COLUMNS)
                .bind(&schema)
                .bind(&table)
                .bind(pattern)
                .bind(limit)
                .fetch_all(conn)
                .await?;
            rows.iter()
                .map(|r| {
                    let nullable = r.try_get::<String, _>(2)? == "YES";
                    Ok(suggest::column(
                        &schema,
                        &table,
                        r.try_get(0)?,
                        r.try_get(1)?,
                        nullable,
                    ))
                })
                .collect()
        }
    }
}

/// The page of names, then the facts for those names (see `NAMES_SELECT`).
async fn tables(
    conn: &mut MySqlConnection,
    schema: Option<String>,
    pattern: String,
    limit: i64,
) -> sqlx::Result<Vec<Suggestion>> {
    let filter = if schema.is_some() {
        IN_SCHEMA
    } else {
        IN_USER_SCHEMAS
    };
    let sql = format!("{NAMES_SELECT}{filter}{NAMES_ORDER}");
    let mut query = sqlx::query(&sql).bind(pattern);
    if let Some(schema) = schema {
        query = query.bind(schema);
    }
    let names: Vec<(String, String)> = query
        .bind(limit)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect::<sqlx::Result<_>>()?;
    if names.is_empty() {
        return Ok(Vec::new());
    }

    let mut schemas: Vec<&str> = names.iter().map(|(s, _)| s.as_str()).collect();
    schemas.sort_unstable();
    schemas.dedup();
    let sql = format!(
        "{FACTS_SELECT}TABLE_SCHEMA IN ({}) AND TABLE_NAME IN ({})",
        placeholders(schemas.len()),
        placeholders(names.len())
    );
    let mut query = sqlx::query(&sql);
    for s in &schemas {
        query = query.bind(*s);
    }
    for (_, n) in &names {
        query = query.bind(n.as_str());
    }
    let mut facts: HashMap<(String, String), TableRow> = HashMap::with_capacity(names.len());
    for r in query.fetch_all(&mut *conn).await? {
        let row = TableRow {
            schema: r.try_get(0)?,
            name: r.try_get(1)?,
            is_view: r.try_get::<i64, _>(2)? != 0,
            rows: r.try_get(3)?,
            bytes: r.try_get(4)?,
        };
        facts.insert((row.schema.clone(), row.name.clone()), row);
    }
    // In the names' order; a table dropped in between is simply left out,
    // and cross-product extras of the two IN lists are never looked up.
    Ok(names
        .into_iter()
        .filter_map(|key| facts.remove(&key))
        .map(suggest::table)
        .collect())
}

fn placeholders(n: usize) -> String {
    let mut s = "?,".repeat(n);
    s.pop();
    s
}
