//! The client context of a probe: reads librdkafka's error events and
//! `FAIL` log lines and decides when a failure is decisive.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use patchbay_core::FailureReason;
use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::error::KafkaError;
use rdkafka::producer::{NoCustomPartitioner, ProducerContext};

use crate::classify::{classify, classify_log, Signal};

/// The client context: records what librdkafka reports while a probe runs.
pub(crate) struct Watch {
    events: AtomicUsize,
    /// Distinct addresses the probe may try; all must fail to fail fast.
    addresses: usize,
    /// Whether the client speaks TLS / SASL (to read hangups).
    tls: bool,
    sasl: bool,
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
    pub(crate) fn new(addresses: usize, tls: bool, sasl: bool) -> Self {
        Self {
            events: AtomicUsize::new(0),
            addresses,
            tls,
            sasl,
            state: Mutex::new(State::default()),
        }
    }

    /// Log and error events served so far.
    pub(crate) fn events(&self) -> usize {
        self.events.load(Ordering::Relaxed)
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
        self.events.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(target: "librdkafka", ?level, fac, message);
        // Error-level FAIL lines also arrive as error events.
        if fac == "FAIL" && (level as i32) > (RDKafkaLogLevel::Error as i32) {
            if let Some(signal) = classify_log(message) {
                self.record(signal);
            }
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        self.events.fetch_add(1, Ordering::Relaxed);
        if let Some(signal) = classify(error.rdkafka_error_code(), reason) {
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

impl ProducerContext<NoCustomPartitioner> for Watch {
    type DeliveryOpaque = ();

    fn delivery(&self, _: &rdkafka::producer::DeliveryResult<'_>, _: Self::DeliveryOpaque) {}
}
