//! Key autocomplete: a bounded `SCAN … MATCH prefix*`, then `TYPE` per key.

use std::collections::BTreeMap;

use patchbay_core::{AutocompleteQuery, CheckedAddrs, Error, Result, Suggestion};
use serde_json::{Map, Value};
use tokio::time::Instant;

use crate::config::RedisConfig;
use crate::connect::{by_deadline, classify, connect};

/// Keys asked for per `SCAN` call.
const SCAN_COUNT: usize = 500;
/// Most `SCAN` calls per node, so a huge keyspace cannot keep us busy.
const MAX_SCAN_CALLS: usize = 200;

/// Escapes glob metacharacters so `prefix` matches literally.
pub fn escape_glob(prefix: &str) -> String {
    let mut out = String::with_capacity(prefix.len() + 1);
    for c in prefix.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('*');
    out
}

/// Up to `query.limit` keys starting with `query.prefix`, sorted, each with
/// its type. Scanning stops at the limit, after [`MAX_SCAN_CALLS`], or
/// halfway to the deadline, so a large keyspace yields a partial answer in
/// time instead of a timeout.
pub async fn keys(
    config: &RedisConfig,
    checked: &CheckedAddrs,
    query: &AutocompleteQuery,
    deadline: Instant,
) -> Result<Vec<Suggestion>> {
    if query.parent.is_some() {
        return Err(Error::invalid(
            "/parent",
            "keys take no parent; set `database` in the profile",
        ));
    }
    let pattern = escape_glob(query.prefix.as_deref().unwrap_or(""));
    let now = Instant::now();
    let soft = now + deadline.saturating_duration_since(now) / 2;
    let mut found = BTreeMap::new();
    for ep in config.endpoints() {
        by_deadline(deadline, "scanning keys", async {
            let mut conn = connect(config, checked, &ep).await?;
            let classify = |e| classify(e, config.tls.enabled);
            let mut cursor = 0u64;
            let mut keys: Vec<Vec<u8>> = Vec::new();
            for _ in 0..MAX_SCAN_CALLS {
                let (next, batch): (u64, Vec<Vec<u8>>) = redis::cmd("SCAN")
                    .arg(cursor)
                    .arg("MATCH")
                    .arg(&pattern)
                    .arg("COUNT")
                    .arg(SCAN_COUNT)
                    .query_async(&mut conn)
                    .await
                    .map_err(classify)?;
                keys.extend(batch);
                cursor = next;
                if cursor == 0 || keys.len() + found.len() >= query.limit || Instant::now() >= soft
                {
                    break;
                }
            }
            // JSON cannot carry arbitrary bytes: non-UTF-8 keys are skipped.
            let keys: Vec<String> = keys
                .into_iter()
                .filter_map(|k| String::from_utf8(k).ok())
                .collect();
            let mut pipe = redis::pipe();
            for k in &keys {
                pipe.cmd("TYPE").arg(k);
            }
            let types: Vec<String> = if keys.is_empty() {
                Vec::new()
            } else {
                pipe.query_async(&mut conn).await.map_err(classify)?
            };
            found.extend(keys.into_iter().zip(types));
            Ok(())
        })
        .await?;
        if found.len() >= query.limit || Instant::now() >= soft {
            break;
        }
    }
    Ok(found
        .into_iter()
        // A key deleted between SCAN and TYPE reports `none`.
        .filter(|(_, ty)| ty != "none")
        .take(query.limit)
        .map(|(key, ty)| {
            let mut metadata = Map::new();
            metadata.insert("type".to_owned(), Value::String(ty));
            Suggestion {
                value: key.clone(),
                label: key,
                kind: "key".to_owned(),
                metadata,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::escape_glob;

    #[test]
    fn escapes_glob_metacharacters() {
        assert_eq!(escape_glob(""), "*");
        assert_eq!(escape_glob("user:"), "user:*");
        assert_eq!(escape_glob(r"a*b?c[d]e\f"), r"a\*b\?c\[d\]e\\f*");
    }
}
