//! Suggestions in the seed's shape, built the same way by both connectors.

use patchbay_core::connector::MAX_SUGGESTION_LIMIT;
use patchbay_core::{Error, Result, Suggestion};
use serde_json::{Map, Value};

use crate::size::human_size;

/// `query.limit` clamped to 1..=1000 (the service validates it already).
pub fn limit(requested: usize) -> i64 {
    requested.clamp(1, MAX_SUGGESTION_LIMIT) as i64
}

/// A schema (for MySQL: a database).
pub fn schema(name: String) -> Suggestion {
    Suggestion {
        value: name.clone(),
        label: name,
        kind: "schema".to_owned(),
        metadata: Map::new(),
    }
}

/// One row of a tables listing, as read from the catalog.
#[derive(Debug, Clone, PartialEq)]
pub struct TableRow {
    /// Schema (MySQL: database).
    pub schema: String,
    /// Table or view name.
    pub name: String,
    /// Whether it is a view (materialized or not).
    pub is_view: bool,
    /// The catalog's row estimate; `None` when it has none (views, tables
    /// never analyzed).
    pub rows: Option<i64>,
    /// Bytes on disk (data + indexes), when the catalog knows.
    pub bytes: Option<i64>,
}

/// `value` `schema.table`, `label` `table`, `type` `table` or `view`;
/// `metadata` with `schema`, `rows` (estimate or null) and `size` (human, or
/// null when unknown).
pub fn table(row: TableRow) -> Suggestion {
    let mut metadata = Map::new();
    metadata.insert("schema".to_owned(), Value::from(row.schema.clone()));
    metadata.insert("rows".to_owned(), row.rows.filter(|r| *r >= 0).into());
    let size = row
        .bytes
        .and_then(|b| u64::try_from(b).ok())
        .map(human_size);
    metadata.insert("size".to_owned(), size.into());
    Suggestion {
        value: format!("{}.{}", row.schema, row.name),
        label: row.name,
        kind: if row.is_view { "view" } else { "table" }.to_owned(),
        metadata,
    }
}

/// A column, with its type as the server spells it.
pub fn column(
    schema: &str,
    table: &str,
    name: String,
    data_type: String,
    nullable: bool,
) -> Suggestion {
    let mut metadata = Map::new();
    metadata.insert("schema".to_owned(), Value::from(schema));
    metadata.insert("table".to_owned(), Value::from(table));
    metadata.insert("data_type".to_owned(), Value::from(data_type));
    metadata.insert("nullable".to_owned(), Value::from(nullable));
    Suggestion {
        value: name.clone(),
        label: name,
        kind: "column".to_owned(),
        metadata,
    }
}

/// Splits a `columns` parent `schema.table` at its first dot.
///
/// # Errors
/// `Validation` at `/parent` when there is no parent or no dot.
pub fn split_parent(parent: Option<&str>) -> Result<(String, String)> {
    parent
        .and_then(|p| p.split_once('.'))
        .filter(|(s, t)| !s.is_empty() && !t.is_empty())
        .map(|(s, t)| (s.to_owned(), t.to_owned()))
        .ok_or_else(|| Error::invalid("/parent", "columns need a parent written schema.table"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let s = table(TableRow {
            schema: "public".into(),
            name: "users".into(),
            is_view: false,
            rows: Some(1_000_000),
            bytes: Some(120 * 1024 * 1024),
        });
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"value": "public.users", "label": "users", "type": "table",
                "metadata": {"schema": "public", "rows": 1_000_000, "size": "120MB"}})
        );
        let v = table(TableRow {
            schema: "s".into(),
            name: "v".into(),
            is_view: true,
            rows: Some(-1),
            bytes: None,
        });
        assert_eq!(v.kind, "view");
        assert_eq!(v.metadata["rows"], Value::Null);
        assert_eq!(v.metadata["size"], Value::Null);
        assert_eq!(
            split_parent(Some("a.b.c")).unwrap(),
            ("a".into(), "b.c".into())
        );
        assert!(split_parent(Some("nodot")).is_err());
        assert!(split_parent(None).is_err());
        assert_eq!(limit(5000), 1000);
    }
}
