//! An autocomplete query checked before any connection is made; each
//! connector runs it with its own catalog statements.

use patchbay_core::{AutocompleteQuery, Error, Result};

use crate::like::like_prefix;
use crate::suggest;

/// A validated catalog request: the prefix already a `LIKE` pattern, the
/// limit already capped.
#[derive(Debug)]
pub enum CatalogRequest {
    /// `type=schemas`.
    Schemas {
        /// Escaped `LIKE` pattern.
        pattern: String,
        /// Row limit.
        limit: i64,
    },
    /// `type=tables`, optionally within `parent`.
    Tables {
        /// The schema, if one was given.
        schema: Option<String>,
        /// Escaped `LIKE` pattern.
        pattern: String,
        /// Row limit.
        limit: i64,
    },
    /// `type=columns` of `parent` = `schema.table`.
    Columns {
        /// Schema of the table.
        schema: String,
        /// The table.
        table: String,
        /// Escaped `LIKE` pattern.
        pattern: String,
        /// Row limit.
        limit: i64,
    },
}

impl CatalogRequest {
    /// Checks `query` for the connector of `kind`.
    ///
    /// # Errors
    /// `Unsupported` for another type; `Validation` for a bad `parent`.
    pub fn new(query: &AutocompleteQuery, kind: &str) -> Result<Self> {
        let pattern = like_prefix(query.prefix.as_deref());
        let limit = suggest::limit(query.limit);
        match query.kind.as_str() {
            "schemas" => Ok(Self::Schemas { pattern, limit }),
            "tables" => Ok(Self::Tables {
                schema: query.parent.clone().filter(|p| !p.is_empty()),
                pattern,
                limit,
            }),
            "columns" => {
                let (schema, table) = suggest::split_parent(query.parent.as_deref())?;
                Ok(Self::Columns {
                    schema,
                    table,
                    pattern,
                    limit,
                })
            }
            other => Err(Error::Unsupported(format!(
                "the {kind} connector offers no autocomplete of type {other:?}"
            ))),
        }
    }
}
