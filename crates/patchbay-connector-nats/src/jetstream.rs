//! JetStream autocomplete: `streams` by name prefix, and `subjects` either
//! configured on any stream or, with `parent` = a stream, stored in it.

use std::collections::BTreeMap;

use async_nats::jetstream::{self, context::GetStreamErrorKind};
use futures_util::StreamExt;
use patchbay_core::{AutocompleteQuery, CheckedAddrs, Error, FailureReason, Result, Suggestion};
use serde_json::{json, Map, Value};
use tokio::time::Instant;

use crate::config::NatsConfig;
use crate::connect::{by_deadline, connect};

/// Most items read from one listing, so a huge account cannot keep us busy.
const MAX_SCANNED: usize = 10_000;

/// Suggestions for `streams` or `subjects`, sorted, at most `query.limit`.
/// Listing stops after [`MAX_SCANNED`] items or halfway to the deadline, so
/// a big account yields a partial answer in time rather than a timeout.
pub async fn suggest(
    config: &NatsConfig,
    checked: &CheckedAddrs,
    query: &AutocompleteQuery,
    deadline: Instant,
) -> Result<Vec<Suggestion>> {
    let client = connect(config, checked, deadline).await?;
    let js = match &config.jetstream_domain {
        Some(domain) => jetstream::with_domain(client.clone(), domain),
        None => jetstream::new(client.clone()),
    };
    let now = Instant::now();
    let soft = now + deadline.saturating_duration_since(now) / 2;
    let prefix = query.prefix.clone().unwrap_or_default();
    let found = by_deadline(deadline, "listing JetStream", async {
        match (query.kind.as_str(), &query.parent) {
            ("streams", None) => streams(&js, &prefix, soft).await,
            ("streams", Some(_)) => Err(Error::invalid("/parent", "streams take no parent")),
            ("subjects", None) => configured_subjects(&js, &prefix, soft).await,
            ("subjects", Some(stream)) => stored_subjects(&js, stream, &prefix, soft).await,
            (other, _) => Err(Error::Unsupported(format!(
                "the nats connector offers no autocomplete of type {other:?}"
            ))),
        }
    })
    .await;
    drop(js);
    let _ = client.drain().await;
    drop(client);
    let found = found?;
    let kind = if query.kind == "streams" {
        "stream"
    } else {
        "subject"
    };
    Ok(found
        .into_iter()
        .take(query.limit)
        .map(|(value, metadata)| Suggestion {
            label: value.clone(),
            value,
            kind: kind.to_owned(),
            metadata,
        })
        .collect())
}

type Found = BTreeMap<String, Map<String, Value>>;

fn js_error(e: impl std::fmt::Display) -> Error {
    let text = e.to_string();
    let reason = if text.contains("no responders") || text.contains("not enabled") {
        FailureReason::NotFound
    } else if text.to_lowercase().contains("permission") || text.contains("authorization") {
        FailureReason::Auth
    } else {
        FailureReason::Other
    };
    Error::connection_failed(reason, format!("JetStream: {text}"))
}

fn meta(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

async fn streams(js: &jetstream::Context, prefix: &str, soft: Instant) -> Result<Found> {
    let mut found = Found::new();
    let mut list = js.streams();
    let mut seen = 0;
    while let Some(info) = list.next().await {
        let info = info.map_err(js_error)?;
        seen += 1;
        if info.config.name.starts_with(prefix) {
            let m = json!({
                "messages": info.state.messages,
                "bytes": info.state.bytes,
                "consumers": info.state.consumer_count,
                "subjects": info.config.subjects,
            });
            found.insert(info.config.name.clone(), meta(m));
        }
        if seen >= MAX_SCANNED || Instant::now() >= soft {
            break;
        }
    }
    Ok(found)
}

async fn configured_subjects(
    js: &jetstream::Context,
    prefix: &str,
    soft: Instant,
) -> Result<Found> {
    let mut found = Found::new();
    let mut list = js.streams();
    let mut seen = 0;
    while let Some(info) = list.next().await {
        let info = info.map_err(js_error)?;
        seen += 1;
        for subject in info
            .config
            .subjects
            .iter()
            .filter(|s| s.starts_with(prefix))
        {
            found.insert(subject.clone(), meta(json!({ "stream": info.config.name })));
        }
        if seen >= MAX_SCANNED || Instant::now() >= soft {
            break;
        }
    }
    Ok(found)
}

async fn stored_subjects(
    js: &jetstream::Context,
    stream: &str,
    prefix: &str,
    soft: Instant,
) -> Result<Found> {
    let handle = js.get_stream(stream).await.map_err(|e| match e.kind() {
        GetStreamErrorKind::JetStream(j) if j.code() == 404 => {
            Error::invalid("/parent", format!("no JetStream stream named {stream:?}"))
        }
        GetStreamErrorKind::InvalidStreamName => {
            Error::invalid("/parent", "not a valid stream name")
        }
        _ => js_error(e),
    })?;
    // A filter ending at a token boundary narrows the server's answer.
    let filter = if prefix.is_empty() || prefix.ends_with('.') {
        format!("{prefix}>")
    } else {
        ">".to_owned()
    };
    let mut subjects = handle.info_with_subjects(filter).await.map_err(js_error)?;
    let mut found = Found::new();
    let mut seen = 0;
    while let Some(item) = subjects.next().await {
        let (subject, count) = item.map_err(js_error)?;
        seen += 1;
        if subject.starts_with(prefix) {
            found.insert(
                subject,
                meta(json!({ "stream": stream, "messages": count })),
            );
        }
        if seen >= MAX_SCANNED || Instant::now() >= soft {
            break;
        }
    }
    Ok(found)
}
