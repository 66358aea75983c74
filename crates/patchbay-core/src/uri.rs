//! Connection URIs (`postgres://user:pass@host/db?sslmode=require`): the grammar
//! every connector's schemes share, parsed with the `url` crate. Connectors map
//! the parts to their config (`Connector::config_from_uri`) and back
//! (`Connector::uri_of`, never with a secret).
//!
//! Several hosts are allowed (`kafka://a:9092,b:9092`, NATS and Redis cluster
//! seeds): the `url` crate parses one authority, so the host list is split off
//! first and each host is parsed as a URL host on its own. Every error points
//! at `/uri`, names the part and never quotes the user info.

use std::fmt;

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, CONTROLS};
use url::Url;

use crate::error::FieldError;

const POINTER: &str = "/uri";

/// Characters escaped in user info and path segments: everything but RFC 3986
/// unreserved characters, so any password survives a round trip.
const COMPONENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'&')
    .add(b'+')
    .add(b',')
    .add(b'/')
    .add(b':')
    .add(b';')
    .add(b'<')
    .add(b'=')
    .add(b'>')
    .add(b'?')
    .add(b'@')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}')
    .add(b'\'');

/// Percent-encodes `s` for user info, a path segment or a query value.
pub fn encode_component(s: &str) -> String {
    utf8_percent_encode(s, COMPONENT).to_string()
}

/// One host of a URI's authority, as a config names it (`[::1]` bracketed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UriHost {
    /// Host name, IPv4 address, or bracketed IPv6 address.
    pub host: String,
    /// The port, when the URI gave one.
    pub port: Option<u16>,
}

impl UriHost {
    /// `host:port`, with `default` when the URI gave no port.
    pub fn with_port(&self, default: u16) -> String {
        format!("{}:{}", self.host, self.port.unwrap_or(default))
    }
}

/// A parsed connection URI. `Debug` hides the password.
#[derive(Clone, PartialEq, Eq)]
pub struct ConnectionUri {
    /// Lower-case scheme, such as `postgresql`.
    pub scheme: String,
    /// Decoded user name, when given and not empty.
    pub username: Option<String>,
    /// Decoded password, when given.
    pub password: Option<String>,
    /// At least one host.
    pub hosts: Vec<UriHost>,
    /// Decoded path without its leading `/`; `None` when absent or `/` alone.
    pub path: Option<String>,
    /// Decoded query pairs, in order.
    pub query: Vec<(String, String)>,
}

impl fmt::Debug for ConnectionUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectionUri")
            .field("scheme", &self.scheme)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "[redacted]"))
            .field("hosts", &self.hosts)
            .field("path", &self.path)
            .field("query", &self.query)
            .finish()
    }
}

fn err(message: impl Into<String>) -> FieldError {
    FieldError::new(POINTER, message)
}

fn decode(part: &str, what: &str) -> Result<String, FieldError> {
    percent_decode_str(part)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| {
            err(format!(
                "the URI's {what} is not valid UTF-8 once percent-decoded"
            ))
        })
}

/// The scheme of `text` (lower case), if it has the form `scheme://…`.
pub fn scheme_of(text: &str) -> Option<String> {
    let (scheme, _) = text.split_once("://")?;
    let ok = !scheme.is_empty()
        && scheme
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    ok.then(|| scheme.to_ascii_lowercase())
}

impl ConnectionUri {
    /// Parses `scheme://[user[:password]@]host[:port][,host[:port]…][/path][?query]`.
    ///
    /// # Errors
    /// A [`FieldError`] at `/uri` naming the part that is wrong.
    pub fn parse(text: &str) -> Result<Self, FieldError> {
        if text.chars().any(char::is_control) {
            return Err(err("the URI holds a control character"));
        }
        let scheme = scheme_of(text).ok_or_else(|| err("the URI must start with `scheme://`"))?;
        let rest = &text[scheme.len() + 3..];
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(end);
        if tail.contains('#') {
            return Err(err(
                "the URI has a fragment (`#`); percent-encode `#` as %23",
            ));
        }
        let (userinfo, host_list) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        if host_list.is_empty() {
            return Err(err("the URI names no host"));
        }
        let hosts = host_list
            .split(',')
            .enumerate()
            .map(|(i, h)| parse_host(h, i + 1))
            .collect::<Result<Vec<_>, _>>()?;
        // One authority for `url` to check the user info, path and query.
        let single = match userinfo {
            Some(u) => format!("{scheme}://{u}@h{tail}"),
            None => format!("{scheme}://h{tail}"),
        };
        let url = Url::parse(&single).map_err(|e| match userinfo {
            Some(_) => err(format!(
                "the URI's user info, path or query is malformed ({e})"
            )),
            None => err(format!("the URI's path or query is malformed ({e})")),
        })?;
        let username = Some(decode(url.username(), "user name")?).filter(|u| !u.is_empty());
        // `user:@host` has an empty password (not none): NATS tells a user
        // from a token (`token@host`) by it.
        let password = match userinfo {
            Some(u) if u.contains(':') => Some(decode(url.password().unwrap_or(""), "password")?),
            _ => None,
        };
        let path = match url.path().trim_start_matches('/') {
            "" => None,
            p => Some(decode(p, "path")?),
        };
        let query = url
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        Ok(Self {
            scheme,
            username,
            password,
            hosts,
            path,
            query,
        })
    }

    /// The value of query parameter `key` (the last one when repeated).
    pub fn query_value(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// An error for each query parameter not in `known`.
    pub fn unknown_query(&self, known: &[&str]) -> Vec<FieldError> {
        self.query
            .iter()
            .filter(|(k, _)| !known.contains(&k.as_str()))
            .map(|(k, _)| {
                err(format!(
                    "unknown query parameter `{k}` (known: {})",
                    known.join(", ")
                ))
            })
            .collect()
    }

    /// An error when the URI names more than one host.
    pub fn single_host(&self) -> Result<&UriHost, FieldError> {
        match self.hosts.as_slice() {
            [one] => Ok(one),
            _ => Err(err(format!(
                "`{}://` takes one host, not {}",
                self.scheme,
                self.hosts.len()
            ))),
        }
    }

    /// The URI as text **without the password**: what a profile renders as.
    pub fn render(&self) -> String {
        let mut out = format!("{}://", self.scheme);
        if let Some(u) = &self.username {
            out.push_str(&encode_component(u));
            out.push('@');
        }
        let hosts: Vec<String> = self
            .hosts
            .iter()
            .map(|h| match h.port {
                Some(p) => format!("{}:{p}", h.host),
                None => h.host.clone(),
            })
            .collect();
        out.push_str(&hosts.join(","));
        if let Some(p) = &self.path {
            out.push('/');
            out.push_str(&encode_component(p));
        }
        for (i, (k, v)) in self.query.iter().enumerate() {
            out.push(if i == 0 { '?' } else { '&' });
            out.push_str(&encode_component(k));
            out.push('=');
            out.push_str(&encode_component(v));
        }
        out
    }
}

fn parse_host(text: &str, n: usize) -> Result<UriHost, FieldError> {
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let (h, after) = rest
            .split_once(']')
            .ok_or_else(|| err(format!("host {n}: unclosed `[`")))?;
        (format!("[{h}]"), after.strip_prefix(':'))
    } else {
        match text.rsplit_once(':') {
            Some((h, p)) => (h.to_owned(), Some(p)),
            None => (text.to_owned(), None),
        }
    };
    let port = port
        .map(|p| match p.parse::<u16>() {
            Ok(0) | Err(_) => Err(err(format!(
                "host {n}: the port must be a number from 1 to 65535"
            ))),
            Ok(p) => Ok(p),
        })
        .transpose()?;
    let parsed = url::Host::parse(&host)
        .map_err(|e| err(format!("host {n}: not a valid host name or address ({e})")))?;
    let host = match parsed {
        url::Host::Domain(d) => d,
        url::Host::Ipv4(a) => a.to_string(),
        url::Host::Ipv6(a) => format!("[{a}]"),
    };
    Ok(UriHost { host, port })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_and_hosts() {
        let u =
            ConnectionUri::parse("Kafka://u%40x:p%3A%2F@a:9092,[::1]:9093,b?x=1&y=%20").unwrap();
        assert_eq!(u.scheme, "kafka");
        assert_eq!(u.username.as_deref(), Some("u@x"));
        assert_eq!(u.password.as_deref(), Some("p:/"));
        assert_eq!(
            u.hosts[1],
            UriHost {
                host: "[::1]".into(),
                port: Some(9093)
            }
        );
        assert_eq!(u.hosts[2].port, None);
        assert_eq!(u.query_value("y"), Some(" "));
        assert!(!format!("{u:?}").contains("p:/"));
        assert!(!u.render().contains("p%3A"));
    }

    #[test]
    fn errors_name_the_part_never_the_password() {
        for (uri, part) in [
            ("postgres://u:hunter2@h:99999/db", "port"),
            ("postgres://u:hunter2@/db", "no host"),
            ("postgres://u:hunter2@h/db#x", "fragment"),
            ("postgres//u:hunter2@h", "scheme://"),
            ("postgres://u:hunter2@h\u{0}/db", "control"),
            ("postgres://u:hunter2@[::1/db", "unclosed"),
        ] {
            let e = ConnectionUri::parse(uri).unwrap_err();
            assert_eq!(e.path, "/uri");
            assert!(e.message.contains(part), "{uri}: {}", e.message);
            assert!(!e.message.contains("hunter2"), "{}", e.message);
        }
    }
}
