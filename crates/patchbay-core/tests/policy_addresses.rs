//! The network policy through its public API: every spelling of a denied
//! address is denied, and deny rules win over allow rules.

use std::net::IpAddr;

use patchbay_core::NetworkPolicy;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap_or_else(|_| panic!("{s} is an address"))
}

fn denied(policy: &NetworkPolicy, addrs: &[&str]) {
    for a in addrs {
        for port in [0, 80, 443, 5432, 65535] {
            assert!(
                !policy.permits(ip(a), port),
                "{a} port {port} was permitted"
            );
        }
    }
}

fn permitted(policy: &NetworkPolicy, addrs: &[&str]) {
    for a in addrs {
        assert!(policy.permits(ip(a), 5432), "{a} was denied");
    }
}

/// Cloud metadata services and link-local, in every spelling a resolver can
/// return: plain, IPv4-mapped, IPv4-compatible, NAT64 (RFC 6052 well-known
/// prefix) and 6to4.
const METADATA: &[&str] = &[
    "169.254.169.254",
    "169.254.0.1",
    "169.254.255.255",
    "100.100.100.200",
    "fd00:ec2::254",
    "::ffff:169.254.169.254",
    "::ffff:a9fe:a9fe",
    "::ffff:100.100.100.200",
    "::169.254.169.254",
    "::a9fe:a9fe",
    "::100.100.100.200",
    "64:ff9b::a9fe:a9fe",
    "64:ff9b::169.254.169.254",
    "64:ff9b::6464:64c8",
    "2002:a9fe:a9fe::",
    "2002:a9fe:a9fe:1::1",
];

#[test]
fn the_default_denies_metadata_in_every_spelling() {
    denied(&NetworkPolicy::default(), METADATA);
}

#[test]
fn the_default_denies_unspecified_addresses() {
    denied(
        &NetworkPolicy::default(),
        &[
            "0.0.0.0",
            "::",
            "::ffff:0.0.0.0",
            "64:ff9b::",
            "0:0:0:0:0:0:0:0",
        ],
    );
}

#[test]
fn the_default_denies_all_of_fe80_10() {
    let p = NetworkPolicy::default();
    denied(
        &p,
        &[
            "fe80::",
            "fe80::1",
            "fe80::a9fe:a9fe",
            "febf:ffff::1",
            "fe9a::1",
        ],
    );
    // Just outside the /10 on either side.
    permitted(&p, &["fe7f:ffff::1", "fec0::1"]);
}

#[test]
fn the_default_allows_ordinary_and_private_addresses() {
    permitted(
        &NetworkPolicy::default(),
        &[
            "127.0.0.1",
            "::1",
            "10.0.0.1",
            "192.168.1.1",
            "93.184.216.34",
            "2606:4700::1111",
            "169.253.255.255",
            "169.255.0.0",
            "100.100.100.199",
            "100.100.100.201",
            "64:ff9b::808:808",
            "::ffff:8.8.8.8",
        ],
    );
}

#[test]
fn private_networks_are_denied_in_every_spelling_when_asked() {
    let p = NetworkPolicy::default().deny_private_networks();
    denied(
        &p,
        &[
            "127.0.0.1",
            "127.255.255.254",
            "::1",
            "::ffff:127.0.0.1",
            "64:ff9b::7f00:1",
            "10.1.2.3",
            "::ffff:10.1.2.3",
            "::10.1.2.3",
            "64:ff9b::a01:203",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.0.1",
            "100.64.0.1",
            "fc00::1",
            "fd12:3456::1",
            "0.1.2.3",
        ],
    );
    denied(&p, METADATA);
    permitted(&p, &["93.184.216.34", "172.32.0.1", "64:ff9b::808:808"]);
}

#[test]
fn deny_wins_over_allow() {
    // Allowing the very network that holds metadata does not let it through.
    let p = NetworkPolicy::default()
        .allow("169.254.0.0/16".parse().unwrap())
        .allow("::/0".parse().unwrap())
        .allow("0.0.0.0/0".parse().unwrap());
    denied(&p, METADATA);
    denied(&p, &["0.0.0.0", "::", "fe80::1"]);
    permitted(&p, &["10.0.0.1", "2606:4700::1111"]);
    // An explicit deny inside an allowed network wins too, in any order.
    let p = NetworkPolicy::allow_all()
        .deny("10.0.0.0/24".parse().unwrap())
        .allow("10.0.0.0/8".parse().unwrap());
    denied(&p, &["10.0.0.7", "::ffff:10.0.0.7", "64:ff9b::a00:7"]);
    permitted(&p, &["10.0.1.7"]);
    let p = NetworkPolicy::allow_all()
        .allow("10.0.0.0/8".parse().unwrap())
        .deny("10.0.0.7/32".parse().unwrap());
    denied(&p, &["10.0.0.7"]);
    permitted(&p, &["10.0.0.8"]);
}

#[test]
fn an_allow_list_refuses_everything_else() {
    let p = NetworkPolicy::allow_all().allow("10.0.0.0/8".parse().unwrap());
    permitted(&p, &["10.0.0.1", "::ffff:10.0.0.1"]);
    denied(&p, &["11.0.0.1", "127.0.0.1", "::1", "2606:4700::1111"]);
}

#[test]
fn allow_all_allows_metadata_only_because_it_says_so() {
    permitted(&NetworkPolicy::allow_all(), METADATA);
}

#[test]
fn a_deny_all_policy_denies_every_family() {
    let p = NetworkPolicy::allow_all()
        .deny("0.0.0.0/0".parse().unwrap())
        .deny("::/0".parse().unwrap());
    denied(
        &p,
        &["127.0.0.1", "::1", "93.184.216.34", "2606:4700::1111"],
    );
    denied(&p, METADATA);
}

#[test]
fn port_rules_do_not_open_denied_addresses() {
    let p = NetworkPolicy::default().allow_ports(0..=65535);
    denied(&p, METADATA);
    let p = NetworkPolicy::default().allow_ports(5432..=5432);
    assert!(p.permits(ip("10.0.0.1"), 5432));
    assert!(!p.permits(ip("10.0.0.1"), 5433));
    assert!(!p.permits(ip("10.0.0.1"), 5431));
}
