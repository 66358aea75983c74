//! The connection test: TCP (+TLS), AMQP handshake with SASL PLAIN, open the
//! virtual host, read the broker's properties, close.

use amqprs::connection::Connection;
use patchbay_core::{CheckedAddrs, Error, FailureReason, Result, TestReport};
use tokio::time::{timeout_at, Instant};

use crate::client::open_connection_arguments_via;
use crate::config::RabbitMqConfig;

/// Opens and closes one connection by `deadline`, to the `checked`
/// addresses in turn (the next only when one refuses).
pub async fn test(
    config: &RabbitMqConfig,
    checked: &CheckedAddrs,
    deadline: Instant,
) -> Result<TestReport> {
    let start = Instant::now();
    let ep = config
        .endpoint()
        .ok_or_else(|| Error::invalid("/config/host", "not a host name or IP address"))?;
    // The profile's own arguments, named so a broker admin can tell the
    // probe's connection apart.
    let mut all = open_connection_arguments_via(config, checked)?;
    for args in &mut all {
        args.connection_name("patchbay connection test");
    }
    let work = async {
        if checked.get(&ep).is_empty() {
            // Resolve first so a bad name is told apart from other I/O errors.
            let _addrs = tokio::net::lookup_host((ep.host.as_str(), ep.port))
                .await
                .map_err(|e| {
                    Error::connection_failed(
                        FailureReason::Dns,
                        format!("cannot resolve {}: {e}", ep.host),
                    )
                })?;
        }
        let mut conn = None;
        for (i, args) in all.iter().enumerate() {
            match Connection::open(args).await {
                Ok(c) => {
                    conn = Some(c);
                    break;
                }
                Err(e) => {
                    let e = classify(&e, config.tls.enabled);
                    let refused = matches!(&e, Error::ConnectionFailed(f) if f.reason == FailureReason::Refused);
                    if !refused || i + 1 == all.len() {
                        return Err(e);
                    }
                }
            }
        }
        let conn = conn.expect("the last attempt returns unless it connected");
        let ms = u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX);
        let props = conn.server_properties();
        let mut report = TestReport::success(ms)
            .with_version(props.version())
            .with_detail("product", props.product());
        if props.cluster_name() != "unknown" {
            report = report.with_detail("cluster_name", props.cluster_name());
        }
        // Close-Ok ends the client's reader and writer tasks.
        conn.close()
            .await
            .map_err(|e| classify(&e, config.tls.enabled))?;
        Ok(report)
    };
    timeout_at(deadline, work).await.unwrap_or_else(|_| {
        Err(Error::connection_failed(
            FailureReason::Timeout,
            format!("no AMQP handshake with {ep} before the deadline"),
        ))
    })
}

/// Classifies an amqprs error, which carries only text.
pub fn classify(e: &amqprs::error::Error, tls: bool) -> Error {
    let text = e.to_string();
    let lower = text.to_lowercase();
    let reason = if lower.contains("connection refused") {
        FailureReason::Refused
    } else if lower.contains("access_refused")
        || lower.contains("access refused")
        || lower.contains("login was refused")
    {
        FailureReason::Auth
    } else if lower.contains("not_allowed") && lower.contains("not found") {
        FailureReason::NotFound
    } else if lower.contains("not_allowed") {
        // RabbitMQ: "access to vhost '…' refused for user '…'".
        FailureReason::Auth
    } else if tls
        && (lower.contains("tls")
            || lower.contains("certificate")
            || lower.contains("network io error"))
    {
        FailureReason::Tls
    } else if lower.contains("peer shutdown") || lower.contains("connection reset") {
        // Without the `authentication_failure_close` capability (amqprs does
        // not ask for it) RabbitMQ answers bad credentials by hanging up.
        return Error::connection_failed(
            FailureReason::Auth,
            format!("the broker closed the connection during login, as RabbitMQ does for rejected credentials ({text})"),
        );
    } else {
        FailureReason::Other
    };
    // amqprs formats the broker's Close with Debug: keep the broker's words.
    let message = reply_text(&text).map_or(text.clone(), str::to_owned);
    Error::connection_failed(reason, message)
}

/// The `reply_text` of a `Connection.Close` in amqprs's Debug output.
fn reply_text(text: &str) -> Option<&str> {
    let rest = &text[text.find("reply_text: ")?..];
    let rest = &rest[rest.find('"')? + 1..];
    Some(&rest[..rest.find("\")")?])
}

#[cfg(test)]
mod tests {
    use super::reply_text;

    #[test]
    fn extracts_the_brokers_reply_text() {
        let text = r#"failed, reason: Close(MethodHeader { class_id: 10 }, Close { reply_code: 530, reply_text: ShortStr(9, "NOT_ALLOWED - x"), class_id: 10 })"#;
        assert_eq!(reply_text(text), Some("NOT_ALLOWED - x"));
        assert_eq!(reply_text("peer shutdown"), None);
    }
}
