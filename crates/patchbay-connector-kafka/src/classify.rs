//! Turns librdkafka's error callbacks into classified probe failures.
//!
//! A bare metadata fetch only ever says "transport failure" or "timed out";
//! the real cause arrives earlier as an error event on the client's main
//! queue, with a code and a text like
//! `127.0.0.1:9/bootstrap: Connect to ipv4#127.0.0.1:9 failed: Connection
//! refused (after 0ms in state CONNECT)`.

use patchbay_core::FailureReason;
use rdkafka::types::RDKafkaErrorCode as Code;

/// What one error event means for the probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Signal {
    /// One address refused the connection; the probe fails only once every
    /// address has.
    Unreachable {
        /// Broker name and address (`localhost:9/bootstrap ipv4#127.0.0.1:9`).
        address: String,
        /// Always `Refused` today; kept so `Watch` reports what it counted.
        reason: FailureReason,
        /// librdkafka's text.
        message: String,
    },
    /// The broker answered and said no (credentials, TLS): no other address
    /// will say otherwise, so the probe fails now.
    Fatal(FailureReason, String),
    /// The broker hung up on an open connection; what that means depends
    /// on the client's protocol (see `Watch`).
    Hangup {
        /// The client's connection state then, such as `APIVERSION_QUERY`.
        state: String,
        /// librdkafka's text.
        message: String,
    },
    /// Worth quoting if the probe times out; not decisive.
    Note(String),
}

/// Classifies a `FAIL` log line below error level (connection closes are
/// logged, not raised as error events).
pub(crate) fn classify_log(line: &str) -> Option<Signal> {
    // Log lines start with `[thrd:<thread>]: `.
    let text = match line.strip_prefix("[thrd:") {
        Some(rest) => rest.split_once("]: ").map_or(rest, |(_, t)| t),
        None => line,
    };
    let body = strip_broker(strip_suffix(text));
    if !body.starts_with("Disconnected") {
        return None;
    }
    let state = text
        .rsplit_once(" in state ")
        .map(|(_, s)| s.split([',', ')']).next().unwrap_or_default().to_owned())
        .unwrap_or_default();
    Some(Signal::Hangup {
        state,
        message: body.to_owned(),
    })
}

/// Classifies one error event (`code` from librdkafka, `reason` its text).
pub(crate) fn classify(code: Option<Code>, reason: &str) -> Option<Signal> {
    let text = strip_suffix(reason);
    let body = strip_broker(text);
    match code {
        Some(Code::AllBrokersDown) => None,
        Some(Code::Authentication | Code::SaslAuthenticationFailed) => {
            let said = body
                .strip_prefix("SASL authentication error: ")
                .unwrap_or(body);
            Some(Signal::Fatal(FailureReason::Auth, said.to_owned()))
        }
        Some(Code::SSL) => Some(Signal::Fatal(FailureReason::Tls, body.to_owned())),
        // The connector resolved every host itself first and counts only
        // the addresses found: librdkafka's view of a bad host is a note.
        Some(Code::Resolve) => Some(Signal::Note(body.to_owned())),
        _ if body.starts_with("Connect to ") && body.contains("Connection refused") => {
            let address = body["Connect to ".len()..]
                .split(" failed")
                .next()
                .unwrap_or_default();
            Some(Signal::Unreachable {
                address: format!("{} {address}", broker_name(text)),
                reason: FailureReason::Refused,
                message: body.to_owned(),
            })
        }
        // A TLS listener hangs up on a plaintext ApiVersion request.
        _ if body.contains("connecting to a SSL listener") => Some(Signal::Fatal(
            FailureReason::Tls,
            format!("{body}: the broker expects TLS (security_protocol SSL or SASL_SSL)"),
        )),
        // librdkafka appends this hint when the broker hangs up right after
        // the connection came up: it wants SASL and the client did not.
        _ if body.contains("broker might require SASL authentication") => {
            Some(Signal::Fatal(FailureReason::Auth, body.to_owned()))
        }
        _ => Some(Signal::Note(body.to_owned())),
    }
}

/// Drops librdkafka's ` (after 3ms in state X…)` suffix.
fn strip_suffix(reason: &str) -> &str {
    match reason.rfind(" (after ") {
        Some(i) if reason.ends_with(')') => &reason[..i],
        _ => reason,
    }
}

/// The `host:port/bootstrap` prefix, if any.
fn broker_name(text: &str) -> &str {
    text.split_once(": ").map_or("", |(name, _)| name)
}

/// The text after the `host:port/bootstrap: ` prefix.
fn strip_broker(text: &str) -> &str {
    match text.split_once(": ") {
        Some((name, rest)) if name.contains('/') => rest,
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_keeps_the_address() {
        let s = classify(
            Some(Code::BrokerTransportFailure),
            "localhost:9/bootstrap: Connect to ipv6#[::1]:9 failed: Connection refused (after 0ms in state CONNECT)",
        );
        assert_eq!(
            s,
            Some(Signal::Unreachable {
                address: "localhost:9/bootstrap ipv6#[::1]:9".into(),
                reason: FailureReason::Refused,
                message: "Connect to ipv6#[::1]:9 failed: Connection refused".into(),
            })
        );
    }

    #[test]
    fn auth_quotes_the_broker() {
        let s = classify(
            Some(Code::Authentication),
            "127.0.0.1:1/bootstrap: SASL authentication error: SASL Authentication failed. (after 3ms in state AUTH_REQ)",
        );
        assert_eq!(
            s,
            Some(Signal::Fatal(
                FailureReason::Auth,
                "SASL Authentication failed.".into()
            ))
        );
    }

    #[test]
    fn hangups_keep_the_state() {
        let s = classify_log(
            "[thrd:127.0.0.1:1/bootstrap]: 127.0.0.1:1/bootstrap: Disconnected: connection reset by peer \
             (after 1ms in state APIVERSION_QUERY, 1 identical error(s) suppressed)",
        );
        assert_eq!(
            s,
            Some(Signal::Hangup {
                state: "APIVERSION_QUERY".into(),
                message: "Disconnected: connection reset by peer".into(),
            })
        );
        assert_eq!(classify_log("[thrd:app]: something else"), None);
    }

    #[test]
    fn tls_and_protocol_mismatches() {
        let s = classify(
            Some(Code::SSL),
            "b:1/bootstrap: SSL handshake failed: wrong version number",
        );
        assert!(matches!(s, Some(Signal::Fatal(FailureReason::Tls, _))));
        let s = classify(
            Some(Code::BrokerTransportFailure),
            "b:1/bootstrap: Disconnected while requesting ApiVersion: might be caused by incorrect \
             security.protocol configuration (connecting to a SSL listener?) or broker version is < 0.10",
        );
        assert!(
            matches!(s, Some(Signal::Fatal(FailureReason::Tls, _))),
            "{s:?}"
        );
        assert_eq!(
            classify(Some(Code::AllBrokersDown), "1/1 brokers are down"),
            None
        );
        let s = classify(
            Some(Code::Resolve),
            "nohost:1/bootstrap: Failed to resolve 'nohost:1': x",
        );
        assert!(matches!(s, Some(Signal::Note(_))), "{s:?}");
    }
}
