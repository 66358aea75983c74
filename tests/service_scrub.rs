//! Scrubbing, branch by branch: a connector that fails in every way the
//! service's `finish` handles (`ConnectionFailed`, `Unsupported`, `Storage`
//! with a source, `Validation`, `SecretUnavailable`) and quotes its secret in
//! every spelling a driver produces (raw, percent-encoded, JSON- and
//! `Debug`-escaped, `\u` escapes). No spelling may reach an error's
//! `Display`, `Debug`, details or source, an HTTP response, or a log line.

#[path = "http_support.rs"]
mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use patchbay::{
    async_trait, AutocompleteQuery, Connector, Endpoint, Error, FailureReason, FieldError,
    ResolvedConfig, Suggestion, TestReport,
};
use patchbay_testkit::spellings::spellings;
use serde_json::{json, Value};
use tokio::time::Instant;

/// Characters a driver escapes or percent-encodes: `@ % / : ' " \`, a space
/// and non-ASCII (two- and three-byte UTF-8, and one outside the BMP).
const SECRET: &str = "Xq7:p@ss %2F/w'o\"r\\d-ü☃😀-e41b";

/// Fails, by branch, quoting its password in every spelling.
struct Leaky;

fn leak(config: &ResolvedConfig) -> (String, String) {
    let password = config.expose()["password"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let branch = config.expose()["branch"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let all = spellings(&password).join(" | ");
    (branch, format!("upstream said: {all}"))
}

fn failure(config: &ResolvedConfig) -> Error {
    let (branch, text) = leak(config);
    match branch.as_str() {
        "connection_failed" => Error::connection_failed(FailureReason::Auth, text),
        "unsupported" => Error::Unsupported(text),
        "storage" => Error::storage(text.clone(), std::io::Error::other(format!("io: {text}"))),
        "validation" => Error::Validation(patchbay::ValidationErrors(vec![
            FieldError::new("/config/host", text.clone()),
            FieldError::new("/config/password", text),
        ])),
        "secret_unavailable" => Error::SecretUnavailable {
            field: "/config/password".into(),
            kind: "sealed".into(),
            message: text,
        },
        other => panic!("unknown branch {other}"),
    }
}

#[async_trait]
impl Connector for Leaky {
    fn kind(&self) -> &'static str {
        "leaky"
    }
    fn description(&self) -> &'static str {
        "fails quoting its secret"
    }
    fn config_schema(&self) -> Value {
        json!({"type": "object", "additionalProperties": false, "required": ["branch"],
               "properties": {"branch": {"type": "string"},
                              "password": {"type": "string", "writeOnly": true}}})
    }
    fn autocomplete_types(&self) -> &'static [&'static str] {
        &["things"]
    }
    fn endpoints(&self, _: &ResolvedConfig) -> patchbay::Result<Vec<Endpoint>> {
        Ok(vec![Endpoint::new("127.0.0.1", 9)])
    }
    async fn test(&self, config: &ResolvedConfig, _: Instant) -> patchbay::Result<TestReport> {
        Err(failure(config))
    }
    async fn autocomplete(
        &self,
        config: &ResolvedConfig,
        _: &AutocompleteQuery,
        _: Instant,
    ) -> patchbay::Result<Vec<Suggestion>> {
        Err(failure(config))
    }
}

const BRANCHES: &[&str] = &[
    "connection_failed",
    "unsupported",
    "storage",
    "validation",
    "secret_unavailable",
];

/// Everything tracing writes while a test runs.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// Fails naming every spelling of the secret found in `text`.
fn assert_clean(what: &str, text: &str) {
    let leaked: Vec<String> = spellings(SECRET)
        .into_iter()
        .filter(|s| text.contains(s.as_str()))
        .collect();
    assert!(leaked.is_empty(), "{what} leaked {leaked:?} in: {text}");
}

/// Display, Debug, details and the whole source chain of an error.
fn everything(err: &Error) -> String {
    let mut text = format!("{err} | {err:?} | {}", err.details());
    let mut next = std::error::Error::source(err);
    while let Some(e) = next {
        text.push_str(&format!(" | {e} | {e:?}"));
        next = e.source();
    }
    text
}

#[tokio::test]
async fn no_branch_leaks_through_the_service() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let svc = patchbay::ProfileService::builder(Arc::new(patchbay::memory::MemoryStore::new()))
        .connector(Leaky)
        .build()
        .unwrap();
    for branch in BRANCHES {
        let new = patchbay::NewProfile {
            name: format!("leaky-{branch}").replace('_', "-"),
            connector: "leaky".into(),
            description: None,
            config: json!({"branch": branch, "password": SECRET}),
            labels: Default::default(),
        };
        let saved = svc.create(new.clone()).await.unwrap();
        let query = AutocompleteQuery::new("things");
        for err in [
            svc.test_config(&new, None).await.unwrap_err(),
            svc.test_profile(&saved.id, None).await.unwrap_err(),
            svc.autocomplete(&saved.id, &query).await.unwrap_err(),
        ] {
            let text = everything(&err);
            assert_clean(&format!("{branch}: error"), &text);
            // Scrubbed, not dropped: the upstream text is still there.
            assert!(text.contains("upstream said: ****"), "{branch}: {text}");
            assert_eq!(
                err.code(),
                match *branch {
                    "connection_failed" => "CONNECTION_FAILED",
                    "unsupported" => "UNSUPPORTED",
                    "storage" => "STORAGE",
                    "validation" => "VALIDATION_FAILED",
                    _ => "SECRET_UNAVAILABLE",
                }
            );
        }
    }
    assert_clean("tracing", &logs.text());
}

#[tokio::test]
async fn no_branch_leaks_through_http_responses_or_logs() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    // The server runs on this test's (current-thread) runtime: its logs are
    // captured by this thread's default subscriber.
    let _guard = tracing::subscriber::set_default(subscriber);

    let s = support::start_with_connector(Arc::new(Leaky)).await;
    for branch in BRANCHES {
        let body = json!({"name": format!("h-{branch}").replace('_', "-"), "connector": "leaky",
                          "config": {"branch": branch, "password": SECRET}});
        let created = s.post("/connection_profiles", body.clone()).await;
        assert_eq!(created.status, 201, "{}", created.text);
        let id = created.json["data"]["id"].as_str().unwrap().to_owned();
        for reply in [
            s.post("/connection_profiles/test", body).await,
            s.post(&format!("/connection_profiles/{id}/test"), json!({}))
                .await,
            s.get(&format!(
                "/connection_profiles/{id}/autocomplete?type=things"
            ))
            .await,
        ] {
            assert!(reply.status >= 400, "{branch}: {}", reply.text);
            assert_clean(&format!("{branch}: HTTP {}", reply.status), &reply.text);
        }
    }
    let logs = logs.text();
    // The storage branch is a 500 whose source is logged: it must be there,
    // scrubbed.
    assert!(logs.contains("upstream said: ****"), "{logs}");
    assert_clean("server logs", &logs);
}
