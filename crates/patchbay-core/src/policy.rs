//! Which addresses a probe may contact.
//!
//! A test-connection endpoint lets its caller make the server connect
//! anywhere; the policy keeps that from reaching cloud metadata services or,
//! when the host asks, any internal network.

use std::net::{IpAddr, Ipv4Addr};
use std::ops::RangeInclusive;

use ipnet::IpNet;

/// Allow/deny rules for probe targets. Deny rules win over allow rules.
///
/// The default denies link-local and cloud-metadata addresses
/// (`169.254.0.0/16`, `fe80::/10`, `fd00:ec2::254`, `100.100.100.200`) and
/// unspecified addresses, and allows everything else, loopback and private
/// ranges included. [`deny_private_networks`](Self::deny_private_networks)
/// refuses those too. An IPv6 address carrying an IPv4 one (mapped,
/// compatible, NAT64, 6to4) is judged in both forms.
#[derive(Debug, Clone)]
pub struct NetworkPolicy {
    allow: Vec<IpNet>,
    deny: Vec<IpNet>,
    ports: Vec<RangeInclusive<u16>>,
    host_names: Vec<String>,
}

const ALWAYS_DENIED: &[&str] = &[
    "169.254.0.0/16",
    "fe80::/10",
    "fd00:ec2::254/128",
    "100.100.100.200/32",
    "0.0.0.0/32",
    "::/128",
];

const PRIVATE: &[&str] = &[
    "127.0.0.0/8",
    "::1/128",
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "100.64.0.0/10",
    "fc00::/7",
    "0.0.0.0/8",
];

fn nets(list: &'static [&'static str]) -> impl Iterator<Item = IpNet> {
    list.iter().map(|s| s.parse().expect("built-in CIDR"))
}

impl Default for NetworkPolicy {
    fn default() -> Self {
        Self {
            allow: Vec::new(),
            deny: nets(ALWAYS_DENIED).collect(),
            ports: Vec::new(),
            host_names: Vec::new(),
        }
    }
}

impl NetworkPolicy {
    /// A policy that allows every address, metadata services included. Only
    /// for tests that need it.
    pub fn allow_all() -> Self {
        Self {
            allow: Vec::new(),
            deny: Vec::new(),
            ports: Vec::new(),
            host_names: Vec::new(),
        }
    }

    /// Also denies loopback, RFC 1918, CGNAT and unique-local ranges.
    pub fn deny_private_networks(mut self) -> Self {
        self.deny.extend(nets(PRIVATE));
        self
    }

    /// Denies a network.
    pub fn deny(mut self, net: IpNet) -> Self {
        self.deny.push(net);
        self
    }

    /// Allows a network. Once any network is allowed, only allowed networks
    /// are (deny rules still win).
    pub fn allow(mut self, net: IpNet) -> Self {
        self.allow.push(net);
        self
    }

    /// Allows a port range. Once any range is given, only those ports are.
    pub fn allow_ports(mut self, ports: RangeInclusive<u16>) -> Self {
        self.ports.push(ports);
        self
    }

    /// Allows a host name: exact (`db.example.com`, any case), a suffix
    /// pattern (`*.example.com`) or an IP literal (`10.0.0.5`, `::1`). Once
    /// any is given, other names are refused before they are even resolved,
    /// so no DNS query leaves for them, and so are IP literals not listed
    /// themselves: an allow-list of names is not bypassed by writing an
    /// address. The address rules apply on top.
    pub fn allow_host_name(mut self, pattern: &str) -> Self {
        self.host_names.push(pattern.to_ascii_lowercase());
        self
    }

    /// Whether `host` (a name or an IP literal) may be resolved and probed.
    pub fn permits_host(&self, host: &str) -> bool {
        if self.host_names.is_empty() {
            return true;
        }
        if let Ok(ip) = host.parse::<IpAddr>() {
            let ip = ip.to_canonical();
            return self
                .host_names
                .iter()
                .any(|p| p.parse::<IpAddr>().is_ok_and(|q| q.to_canonical() == ip));
        }
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.host_names.iter().any(|p| match p.strip_prefix("*.") {
            Some(suffix) => {
                host.len() > suffix.len()
                    && host.ends_with(suffix)
                    && host[..host.len() - suffix.len()].ends_with('.')
            }
            None => *p == host,
        })
    }

    /// Whether a probe may contact `addr:port`.
    pub fn permits(&self, addr: IpAddr, port: u16) -> bool {
        // An IPv6 address can carry an IPv4 one that the host or a gateway
        // then reaches (::ffff:169.254.169.254 is 169.254.169.254): both
        // forms are judged, and a deny of either wins.
        let forms = [Some(addr), embedded_v4(addr).map(IpAddr::V4)];
        let mut forms = forms.iter().flatten();
        if forms
            .clone()
            .any(|a| self.deny.iter().any(|n| n.contains(a)))
        {
            return false;
        }
        if !self.allow.is_empty() && !forms.any(|a| self.allow.iter().any(|n| n.contains(a))) {
            return false;
        }
        self.ports.is_empty() || self.ports.iter().any(|r| r.contains(&port))
    }
}

/// The IPv4 address inside an IPv6 one: IPv4-mapped (`::ffff:a.b.c.d`),
/// IPv4-compatible (`::a.b.c.d`, but not `::` or `::1`), NAT64 with the
/// well-known prefix (`64:ff9b::a.b.c.d`) and 6to4 (`2002:AABB:CCDD::/48`).
fn embedded_v4(addr: IpAddr) -> Option<Ipv4Addr> {
    let IpAddr::V6(v6) = addr else { return None };
    let o = v6.octets();
    let tail = Ipv4Addr::new(o[12], o[13], o[14], o[15]);
    match v6.segments() {
        [0, 0, 0, 0, 0, 0xffff, _, _] | [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Some(tail),
        [0, 0, 0, 0, 0, 0, hi, lo] if hi != 0 || lo > 1 => Some(tail),
        [0x2002, ..] => Some(Ipv4Addr::new(o[2], o[3], o[4], o[5])),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn defaults() {
        let p = NetworkPolicy::default();
        assert!(!p.permits(ip("169.254.169.254"), 80));
        assert!(!p.permits(ip("::ffff:169.254.169.254"), 80));
        assert!(!p.permits(ip("fd00:ec2::254"), 80));
        assert!(p.permits(ip("127.0.0.1"), 5432));
        assert!(p.permits(ip("10.1.2.3"), 5432));
        let strict = NetworkPolicy::default().deny_private_networks();
        assert!(!strict.permits(ip("127.0.0.1"), 5432));
        assert!(!strict.permits(ip("::ffff:10.0.0.1"), 5432));
        assert!(strict.permits(ip("93.184.216.34"), 5432));
    }

    #[test]
    fn allow_lists_and_ports() {
        let p = NetworkPolicy::default()
            .allow("10.0.0.0/8".parse().unwrap())
            .allow_ports(5432..=5433);
        assert!(p.permits(ip("10.0.0.1"), 5432));
        assert!(!p.permits(ip("10.0.0.1"), 22));
        assert!(!p.permits(ip("192.168.0.1"), 5432));
    }

    #[test]
    fn host_names() {
        let p = NetworkPolicy::default()
            .allow_host_name("localhost")
            .allow_host_name("*.Example.com");
        for ok in [
            "localhost",
            "LOCALHOST",
            "db.example.com",
            "a.b.example.com.",
        ] {
            assert!(p.permits_host(ok), "{ok}");
        }
        for bad in [
            "example.com",
            "evilexample.com",
            "metadata.google.internal",
            "localhost.evil",
            "10.0.0.1",
            "::1",
            "169.254.169.254",
        ] {
            assert!(!p.permits_host(bad), "{bad}");
        }
        let listed = NetworkPolicy::default()
            .allow_host_name("10.0.0.1")
            .allow_host_name("::1");
        assert!(listed.permits_host("10.0.0.1"));
        assert!(listed.permits_host("::ffff:10.0.0.1"));
        assert!(listed.permits_host("0:0:0:0:0:0:0:1"));
        assert!(!listed.permits_host("10.0.0.2"));
        assert!(NetworkPolicy::default().permits_host("anything.at.all"));
    }
}
