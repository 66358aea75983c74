//! The config both SQL connectors publish.

use std::net::SocketAddr;
use std::time::Duration;

use patchbay_core::{CheckedAddrs, Endpoint, Error, FieldError, Result, Secret};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

/// How the connection uses TLS; the names and meanings are libpq's `sslmode`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum TlsMode {
    /// Plain TCP only.
    Disable,
    /// TLS when the server offers it (certificate not checked), else plain.
    #[default]
    Prefer,
    /// TLS or fail; the certificate is not checked.
    Require,
    /// TLS with a certificate signed by `ca_certificate` (or a public CA).
    VerifyCa,
    /// As `verify-ca`, and the certificate must name `host`.
    VerifyFull,
}

impl TlsMode {
    /// The config spelling (`verify-full`).
    pub fn as_str(self) -> &'static str {
        match self {
            TlsMode::Disable => "disable",
            TlsMode::Prefer => "prefer",
            TlsMode::Require => "require",
            TlsMode::VerifyCa => "verify-ca",
            TlsMode::VerifyFull => "verify-full",
        }
    }

    /// Whether a server without TLS must be refused.
    pub fn requires_tls(self) -> bool {
        !matches!(self, TlsMode::Disable | TlsMode::Prefer)
    }
}

/// Config of the `postgres` and `mysql` connectors.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SqlConfig {
    /// Server host name or IP address.
    #[schemars(length(min = 1, max = 253), regex(pattern = patchbay_core::schema::patterns::HOST))]
    pub host: String,
    /// TCP port; 5432 for Postgres, 3306 for MySQL when absent.
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub port: Option<u16>,
    /// Database to connect to (Postgres: defaults to `username`; MySQL: none).
    #[serde(default)]
    #[schemars(length(min = 1, max = 128))]
    pub database: Option<String>,
    /// User to log in as.
    #[schemars(length(min = 1, max = 128))]
    pub username: String,
    /// Password; may be a `{{ env:NAME }}` reference, resolved by the service.
    #[serde(default = "no_password")]
    pub password: Secret,
    /// TLS mode: `disable`, `prefer` (default), `require`, `verify-ca`, `verify-full`.
    #[serde(default)]
    pub tls_mode: TlsMode,
    /// PEM text of the CA certificate(s) that `verify-ca` / `verify-full` trust.
    #[serde(default)]
    #[schemars(regex(pattern = patchbay_core::schema::patterns::PEM_CERTIFICATE))]
    pub ca_certificate: Option<String>,
    /// Upper bound for establishing the connection (TCP, TLS, login), in ms;
    /// the probe's own deadline applies too.
    #[serde(default)]
    #[schemars(range(min = 1, max = 600_000))]
    pub connect_timeout_ms: Option<u64>,
}

fn no_password() -> Secret {
    Secret::from("")
}

impl SqlConfig {
    /// The fields that decide where the password goes (see
    /// `Connector::endpoint_fields`).
    pub const ENDPOINT_FIELDS: &'static [&'static str] =
        &["host", "port", "tls_mode", "ca_certificate"];

    /// The JSON Schema of this config, with `port`'s default filled in.
    pub fn schema(default_port: u16) -> Value {
        let mut schema = patchbay_core::schema::schema_for::<SqlConfig>();
        schema["properties"]["port"]["default"] = Value::from(default_port);
        schema["properties"]["tls_mode"]["default"] = Value::from("prefer");
        schema
    }

    /// Checks beyond the schema: host syntax and CA PEM shape. `config` is
    /// the raw JSON; when it does not even parse, the schema has already
    /// said why, so nothing more is reported.
    pub fn check(config: &Value, default_port: u16) -> Vec<FieldError> {
        let Ok(parsed) = serde_json::from_value::<SqlConfig>(config.clone()) else {
            return Vec::new();
        };
        let mut errors = Vec::new();
        if parsed.endpoint(default_port).is_err() {
            errors.push(FieldError::new(
                "/host",
                "must be a host name or an IP address (no port, scheme or path)",
            ));
        }
        if let Some(pem) = &parsed.ca_certificate {
            if !pem.contains("-----BEGIN CERTIFICATE-----") {
                errors.push(FieldError::new(
                    "/ca_certificate",
                    "must be PEM text with at least one -----BEGIN CERTIFICATE----- block",
                ));
            }
        }
        errors
    }

    /// The one endpoint a probe contacts.
    ///
    /// # Errors
    /// `Validation` when `host` is not a bare host name or address.
    pub fn endpoint(&self, default_port: u16) -> Result<Endpoint> {
        let (host, port) = self.host_port(default_port)?;
        Ok(Endpoint::new(host, port))
    }

    /// [`endpoint`](Self::endpoint) without allocating: the host (trimmed)
    /// and the port, checked by the same rules.
    ///
    /// # Errors
    /// As [`endpoint`](Self::endpoint).
    pub fn host_port(&self, default_port: u16) -> Result<(&str, u16)> {
        let port = self.port.unwrap_or(default_port);
        let host = self.host.trim();
        // A colon is only allowed in an IPv6 literal: the port has its own field.
        let ok = if host.contains(':') {
            host.parse::<std::net::Ipv6Addr>().is_ok()
        } else {
            Endpoint::split(host, Some(port)).is_some()
        };
        if ok {
            Ok((host, port))
        } else {
            Err(Error::invalid(
                "/host",
                "must be a host name or an IP address",
            ))
        }
    }

    /// The checked addresses of [`endpoint`](Self::endpoint) a client may
    /// connect to in place of the host name; empty means "connect to the
    /// name". sqlx takes one host for TCP and TLS alike (nothing like
    /// libpq's `hostaddr`), and checks the certificate against it with
    /// `verify-full` and, in sqlx 0.8 with rustls 0.23.24 or later, with
    /// `verify-ca` too (launchbadge/sqlx#3793). Those two modes keep the
    /// name, which sqlx resolves once more; `disable`, `prefer` and
    /// `require` connect to the checked addresses.
    pub fn pinnable_addrs<'a>(
        &self,
        default_port: u16,
        checked: &'a CheckedAddrs,
    ) -> &'a [SocketAddr] {
        match self.endpoint(default_port) {
            Ok(ep) if !matches!(self.tls_mode, TlsMode::VerifyCa | TlsMode::VerifyFull) => {
                checked.get(&ep)
            }
            _ => &[],
        }
    }

    /// The configured connect timeout.
    pub fn connect_timeout(&self) -> Option<Duration> {
        self.connect_timeout_ms.map(Duration::from_millis)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn endpoint_and_check() {
        let c: SqlConfig =
            serde_json::from_value(json!({"host": "db.local", "username": "u"})).unwrap();
        assert_eq!(c.endpoint(5432).unwrap(), Endpoint::new("db.local", 5432));
        assert_eq!(c.tls_mode, TlsMode::Prefer);
        let v6: SqlConfig =
            serde_json::from_value(json!({"host": "::1", "port": 1, "username": "u"})).unwrap();
        assert_eq!(v6.endpoint(5432).unwrap(), Endpoint::new("::1", 1));
        for bad in ["db:5432", "db/x", "postgres://db", "[::1]:5"] {
            let errs = SqlConfig::check(&json!({"host": bad, "username": "u"}), 5432);
            assert_eq!(errs.len(), 1, "{bad}: {errs:?}");
            assert_eq!(errs[0].path, "/host");
        }
        let errs = SqlConfig::check(
            &json!({"host": "h", "username": "u", "ca_certificate": "nope"}),
            5432,
        );
        assert_eq!(errs[0].path, "/ca_certificate");
    }

    #[test]
    fn modes_without_a_name_check_connect_to_the_checked_addresses() {
        let ep = Endpoint::new("db.local", 5432);
        let addrs: Vec<SocketAddr> = vec!["10.1.2.3:5432".parse().unwrap()];
        let checked = CheckedAddrs::default().with(ep, addrs.clone());
        for (mode, pinned) in [
            ("disable", true),
            ("prefer", true),
            ("require", true),
            ("verify-ca", false),
            ("verify-full", false),
        ] {
            let c: SqlConfig = serde_json::from_value(
                json!({"host": "db.local", "username": "u", "tls_mode": mode}),
            )
            .unwrap();
            let expected: &[SocketAddr] = if pinned { &addrs } else { &[] };
            assert_eq!(c.pinnable_addrs(5432, &checked), expected, "{mode}");
            // Another port is another endpoint: not checked.
            assert!(c.pinnable_addrs(5433, &checked).is_empty(), "{mode}");
        }
    }

    #[test]
    fn debug_hides_the_password() {
        let c: SqlConfig =
            serde_json::from_value(json!({"host": "h", "username": "u", "password": "s3cr3t"}))
                .unwrap();
        assert!(!format!("{c:?}").contains("s3cr3t"));
        assert_eq!(c.password.expose(), "s3cr3t");
    }
}
