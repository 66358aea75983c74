//! The client context of a probe: reads librdkafka's error events and
//! `FAIL` log lines and decides when a failure is decisive.

use std::sync::Mutex;

use patchbay_core::secrecy::SecretString;
use patchbay_core::FailureReason;
use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::error::KafkaError;

use patchbay_core::scrub::scrub;

use crate::classify::{classify, classify_log, Signal};
use crate::guard::{BrokerGuard, GuardedContext};

/// The client context: records what librdkafka reports while a probe runs,
/// and guards the addresses it contacts.
pub(crate) struct Watch {
    guard: BrokerGuard,
    /// Distinct addresses the probe may try; all must fail to fail fast.
    addresses: usize,
    /// Whether the client speaks TLS / SASL (to read hangups).
    tls: bool,
    sasl: bool,
    /// The config's secret values: scrubbed out of every log line and error
    /// reason before they are logged or kept.
    secrets: Vec<SecretString>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    unreachable: Vec<(String, FailureReason, String)>,
    fatal: Option<(FailureReason, String)>,
    last: Option<String>,
}

impl Watch {
    /// A context for a client that may try `addresses` addresses.
    pub(crate) fn new(
        guard: BrokerGuard,
        addresses: usize,
        tls: bool,
        sasl: bool,
        secrets: Vec<SecretString>,
    ) -> Self {
        Self {
            guard,
            addresses,
            tls,
            sasl,
            secrets,
            state: Mutex::new(State::default()),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A failure that ends the probe now, if one was seen.
    pub(crate) fn decisive(&self) -> Option<(FailureReason, String)> {
        let state = self.state();
        if let Some(f) = &state.fatal {
            return Some(f.clone());
        }
        if state.unreachable.len() >= self.addresses {
            let (_, reason, message) = state.unreachable.last()?;
            let all: Vec<&str> = state
                .unreachable
                .iter()
                .map(|(_, _, m)| m.as_str())
                .collect();
            let message = if all.len() > 1 {
                all.join("; ")
            } else {
                message.clone()
            };
            return Some((*reason, message));
        }
        None
    }

    /// ` (last error: …)` for a timeout message, or nothing.
    pub(crate) fn note(&self) -> String {
        self.state()
            .last
            .as_ref()
            .map(|m| format!(" (last error: {m})"))
            .unwrap_or_default()
    }
}

impl ClientContext for Watch {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, message: &str) {
        let message = scrub(message, &self.secrets);
        tracing::debug!(target: "librdkafka", ?level, fac, message);
        // Error-level FAIL lines also arrive as error events.
        if fac == "FAIL" && (level as i32) > (RDKafkaLogLevel::Error as i32) {
            if let Some(signal) = classify_log(&message) {
                self.record(signal);
            }
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        let reason = scrub(reason, &self.secrets);
        if let Some(signal) = classify(error.rdkafka_error_code(), &reason) {
            self.record(signal);
        }
    }
}

impl Watch {
    fn record(&self, signal: Signal) {
        let mut state = self.state();
        match signal {
            Signal::Fatal(reason, message) => {
                state.last = Some(message.clone());
                state.fatal.get_or_insert((reason, message));
            }
            Signal::Unreachable {
                address,
                reason,
                message,
            } => {
                state.last = Some(message.clone());
                if !state.unreachable.iter().any(|(a, _, _)| *a == address) {
                    state.unreachable.push((address, reason, message));
                }
            }
            Signal::Hangup { state: at, message } => {
                let fatal = match at.as_str() {
                    // A TLS listener resets a plaintext ApiVersion request.
                    "APIVERSION_QUERY" if !self.tls => Some((
                        FailureReason::Tls,
                        format!("{message} while requesting ApiVersion: the listener may expect TLS (security_protocol SSL or SASL_SSL)"),
                    )),
                    // The broker answered ApiVersions, then hung up on the
                    // first real request: it wants SASL first.
                    "UP" if !self.sasl => Some((
                        FailureReason::Auth,
                        format!("{message} right after connecting: the broker may require SASL authentication"),
                    )),
                    _ => None,
                };
                state.last = Some(message);
                if let Some(f) = fatal {
                    state.fatal.get_or_insert(f);
                }
            }
            Signal::Note(message) => state.last = Some(message),
        }
    }
}

impl GuardedContext for Watch {
    fn guard(&self) -> &BrokerGuard {
        &self.guard
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use rdkafka::client::ClientContext;
    use rdkafka::config::RDKafkaLogLevel;
    use rdkafka::error::KafkaError;

    use super::Watch;

    const SECRET: &str = "k@fka p%ss/\"wörd";

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

    /// librdkafka's log lines and error reasons reach tracing and failure
    /// messages only after scrubbing, raw or encoded.
    #[test]
    fn log_lines_and_errors_are_scrubbed() {
        let logs = Captured::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || writer.clone())
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        let guard = crate::BrokerGuard::new(Default::default());
        let watch = Watch::new(guard, 1, false, true, vec![SECRET.into()]);
        let encoded = "k%40fka%20p%25ss%2F%22w%C3%B6rd";
        let escaped = "k@fka p%ss/\\\"wörd";
        for line in [SECRET, encoded, escaped] {
            watch.log(
                RDKafkaLogLevel::Info,
                "SASL",
                &format!("sasl.password={line}"),
            );
            watch.log(
                RDKafkaLogLevel::Warning,
                "FAIL",
                &format!("127.0.0.1:1/bootstrap: SASL authentication error: Authentication failed for {line} (after 3ms in state AUTH_REQ)"),
            );
        }
        watch.error(
            KafkaError::ClientCreation("x".into()),
            &format!("SASL authentication error: bad {SECRET}"),
        );
        let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
        assert!(text.contains("sasl.password=****"), "{text}");
        let failure = format!("{:?} {}", watch.decisive(), watch.note());
        for spelled in [SECRET, encoded, escaped, "k@fka", "p%ss"] {
            assert!(!text.contains(spelled), "log leaked {spelled}: {text}");
            assert!(
                !failure.contains(spelled),
                "failure leaked {spelled}: {failure}"
            );
        }
    }
}
