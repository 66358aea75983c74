//! Catalog queries behind autocomplete: one statement per request, whatever
//! the number of tables, with every user input bound as a parameter.
//!
//! System schemas are `information_schema` and every `pg_*` one
//! (`pg_catalog`, `pg_toast`, `pg_temp_N`…: Postgres reserves the prefix).
//! Names are compared and sorted as `name`, i.e. bytewise (C collation).

use patchbay_connector_sql::suggest::{self, TableRow};
use patchbay_core::Suggestion;
use sqlx::{PgConnection, Row};

const SCHEMAS: &str = "\
SELECT n.nspname::text FROM pg_catalog.pg_namespace n
WHERE n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg!_%' ESCAPE '!'
  AND n.nspname LIKE $1 ESCAPE '!'
ORDER BY n.nspname LIMIT $2";

// The inner query picks the page; sizes are computed for that page only.
// Plain views have neither rows nor storage; reltuples < 0 means "never
// analyzed" (PG 14+), reported as unknown.
const TABLES: &str = "\
SELECT t.nspname::text, t.relname::text, t.relkind IN ('v', 'm'),
       CASE WHEN t.relkind = 'v' OR t.reltuples < 0 THEN NULL ELSE t.reltuples::int8 END,
       CASE WHEN t.relkind = 'v' THEN NULL ELSE pg_catalog.pg_total_relation_size(t.oid) END
FROM (
  SELECT n.nspname, c.relname, c.relkind, c.reltuples, c.oid
  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
    AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg!_%' ESCAPE '!'
    AND ($1::text IS NULL OR n.nspname = $1::text)
    AND c.relname LIKE $2 ESCAPE '!'
  ORDER BY n.nspname, c.relname LIMIT $3
) t
ORDER BY t.nspname, t.relname";

const COLUMNS: &str = "\
SELECT a.attname::text, pg_catalog.format_type(a.atttypid, a.atttypmod), NOT a.attnotnull
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped
  AND a.attname LIKE $3 ESCAPE '!'
ORDER BY a.attname LIMIT $4";

pub(crate) use patchbay_connector_sql::CatalogRequest as Request;

/// Runs the one catalog statement.
pub(crate) async fn run(
    request: Request,
    conn: &mut PgConnection,
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
        } => {
            let rows = sqlx::query(TABLES)
                .bind(schema)
                .bind(pattern)
                .bind(limit)
                .fetch_all(conn)
                .await?;
            rows.iter()
                .map(|r| {
                    Ok(suggest::table(TableRow {
                        schema: r.try_get(0)?,
                        name: r.try_get(1)?,
                        is_view: r.try_get(2)?,
                        rows: r.try_get(3)?,
                        bytes: r.try_get(4)?,
                    }))
                })
                .collect()
        }
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
                    Ok(suggest::column(
                        &schema,
                        &table,
                        r.try_get(0)?,
                        r.try_get(1)?,
                        r.try_get(2)?,
                    ))
                })
                .collect()
        }
    }
}
