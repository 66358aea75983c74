//! DNS-rebinding protection for a server on loopback: a web page the user
//! visits can make the browser send requests to `127.0.0.1` under the page's
//! own host name, so a request whose `Host` (or `Origin`, when present) does
//! not name the loopback address the server listens on is refused.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error::{codes, ApiError};

/// The `Host` values (and `http://` origins) that name a loopback listener.
#[derive(Debug, Clone)]
pub struct HostCheck {
    /// Lowercase authorities such as `127.0.0.1:8080` and `localhost:8080`.
    allowed: Arc<[String]>,
}

impl HostCheck {
    /// For a server listening on `addr`: its IP literal and `localhost`, with
    /// the port (also without it on port 80). `None` unless `addr` is a
    /// loopback address: on any other, which names reach the server is the
    /// operator's knowledge, and the server example requires tokens there.
    pub fn loopback(addr: SocketAddr) -> Option<Self> {
        if !addr.ip().is_loopback() {
            return None;
        }
        let port = addr.port();
        let ip = match addr {
            SocketAddr::V4(a) => a.ip().to_string(),
            SocketAddr::V6(a) => format!("[{}]", a.ip()),
        };
        let mut allowed = Vec::new();
        for name in [ip, "localhost".to_owned()] {
            allowed.push(format!("{name}:{port}"));
            if port == 80 {
                allowed.push(name);
            }
        }
        Some(Self {
            allowed: allowed.into(),
        })
    }

    /// Whether `host` (a `Host` header value) names this server.
    pub fn allows_host(&self, host: &str) -> bool {
        self.allowed.iter().any(|a| a.eq_ignore_ascii_case(host))
    }

    /// Whether `origin` (an `Origin` header value) is this server's own.
    pub fn allows_origin(&self, origin: &str) -> bool {
        origin
            .get(..7)
            .is_some_and(|scheme| scheme.eq_ignore_ascii_case("http://"))
            && self.allows_host(&origin[7..])
    }
}

/// Middleware: 403 `FORBIDDEN` for a request whose `Host` (or, for HTTP/2,
/// URI authority) or `Origin` does not name the loopback address served.
///
/// ```no_run
/// # fn demo(app: axum::Router, addr: std::net::SocketAddr) {
/// if let Some(check) = patchbay_http::HostCheck::loopback(addr) {
///     let app = app.layer(axum::middleware::from_fn_with_state(check, patchbay_http::check_host));
/// }
/// # }
/// ```
pub async fn check_host(State(check): State<HostCheck>, req: Request, next: Next) -> Response {
    let host = match req.headers().get(header::HOST) {
        Some(h) => h.to_str().ok(),
        None => req.uri().authority().map(|a| a.as_str()),
    };
    if !host.is_some_and(|h| check.allows_host(h)) {
        return refuse("host", "The Host header does not name this server");
    }
    if let Some(origin) = req.headers().get(header::ORIGIN) {
        if !origin.to_str().is_ok_and(|o| check.allows_origin(o)) {
            return refuse("origin", "The Origin header is not this server's");
        }
    }
    next.run(req).await
}

fn refuse(header: &str, message: &str) -> Response {
    ApiError::new(
        codes::FORBIDDEN,
        format!("{message} (DNS rebinding protection)"),
        json!({ "header": header }),
    )
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_served_loopback_address_and_localhost_pass() {
        let v4 = HostCheck::loopback("127.0.0.1:8080".parse().unwrap()).unwrap();
        for ok in ["127.0.0.1:8080", "localhost:8080", "LOCALHOST:8080"] {
            assert!(v4.allows_host(ok), "{ok}");
        }
        for bad in [
            "evil.example",
            "evil.example:8080",
            "127.0.0.1",
            "127.0.0.1:8081",
            "localhost",
            "127.0.0.2:8080",
            "localhost.evil.example:8080",
            "",
            "[::1]:8080",
        ] {
            assert!(!v4.allows_host(bad), "{bad}");
        }
        assert!(v4.allows_origin("http://localhost:8080"));
        assert!(v4.allows_origin("HTTP://127.0.0.1:8080"));
        for bad in [
            "null",
            "https://localhost:8080",
            "http://evil.example",
            "http://",
            "http:/",
        ] {
            assert!(!v4.allows_origin(bad), "{bad}");
        }

        let v6 = HostCheck::loopback("[::1]:80".parse().unwrap()).unwrap();
        for ok in ["[::1]:80", "[::1]", "localhost", "localhost:80"] {
            assert!(v6.allows_host(ok), "{ok}");
        }
        assert!(HostCheck::loopback("0.0.0.0:8080".parse().unwrap()).is_none());
        assert!(HostCheck::loopback("192.168.1.2:8080".parse().unwrap()).is_none());
    }
}
