//! The fast check of a bootstrap list that is already in the form
//! librdkafka gets (the usual case): one pass over the bytes, no allocation.
//! Anything else takes the general path (`KafkaConfig::endpoints`), which
//! names the problem or writes the list out.

use crate::config::MAX_BOOTSTRAP_SERVERS;

/// Whether `list` is exactly what `KafkaConfig::endpoints` writes back: at
/// most [`MAX_BOOTSTRAP_SERVERS`] entries, each valid for `Endpoint::parse`
/// and written as `Endpoint` displays it, none twice. Two such entries name
/// the same endpoint exactly when their text is equal.
pub(crate) fn is_canonical_list(list: &str) -> bool {
    // One pass: each entry checked once and compared with the ones before
    // (kept on the stack), instead of splitting the prefix again per entry.
    let mut seen: [&[u8]; MAX_BOOTSTRAP_SERVERS] = [&[]; MAX_BOOTSTRAP_SERVERS];
    let mut n = 0;
    for entry in list.as_bytes().split(|&b| b == b',') {
        if n == MAX_BOOTSTRAP_SERVERS || !is_canonical_entry(entry) || seen[..n].contains(&entry) {
            return false;
        }
        seen[n] = entry;
        n += 1;
    }
    true
}

/// Bytes of a host name: ASCII letters, digits, `.`, `-` and `_` (a table:
/// one load per byte).
const NAME_BYTE: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        table[i] = b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_';
        i += 1;
    }
    table
};

/// `host:port` with a host of name characters, or `[v6]:port` with a host
/// that has a colon; a port from 1 to 65535 without leading zeros.
fn is_canonical_entry(entry: &[u8]) -> bool {
    let name_byte = |b: &u8| NAME_BYTE[usize::from(*b)];
    let (host, rest) = match entry.strip_prefix(b"[") {
        Some(inner) => {
            let Some(close) = inner.iter().position(|&b| b == b']') else {
                return false;
            };
            let host = &inner[..close];
            let v6 = host.contains(&b':') && host.iter().all(|b| name_byte(b) || *b == b':');
            (v6.then_some(host), &inner[close + 1..])
        }
        None => {
            let end = entry
                .iter()
                .position(|b| !name_byte(b))
                .unwrap_or(entry.len());
            (Some(&entry[..end]), &entry[end..])
        }
    };
    if !host.is_some_and(|h| !h.is_empty() && h.len() <= 253) {
        return false;
    }
    let Some(port) = rest.strip_prefix(b":") else {
        return false;
    };
    matches!(port.first(), Some(b'1'..=b'9'))
        && port.len() <= 5
        && port.iter().all(u8::is_ascii_digit)
        && port.iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0')) <= 65535
}

#[cfg(test)]
mod tests {
    use super::*;
    use patchbay_core::Endpoint;

    /// The general path: every entry parsed, written out, duplicates dropped.
    fn written_out(list: &str) -> Option<String> {
        let mut out: Vec<String> = Vec::new();
        for entry in list.split(',') {
            let e = Endpoint::parse(entry, None)?.to_string();
            if !out.contains(&e) {
                out.push(e);
            }
        }
        (out.len() <= MAX_BOOTSTRAP_SERVERS).then(|| out.join(","))
    }

    #[test]
    fn canonical_exactly_when_the_general_path_writes_the_same_text() {
        let parts = [
            "a:9092",
            "b.internal:1",
            "[::1]:9092",
            "127.0.0.1:65535",
            " a:9092",
            "a:9092 ",
            "[host]:9092",
            "a:09092",
            "a:+9092",
            "a:0",
            "a:65536",
            "a",
            "",
            "[::1]",
            "[::1:1",
            "a b:1",
            "a:1:2",
            "::1:9092",
            "[::1]:09",
            "xn--bcher-kva.example:9092",
            "é:1",
            "[fe80::1%eth0]:1",
        ];
        let mut lists: Vec<String> = parts.iter().map(|p| (*p).to_owned()).collect();
        for a in parts {
            for b in parts {
                lists.push(format!("{a},{b}"));
            }
        }
        lists.push(vec!["h:1"; MAX_BOOTSTRAP_SERVERS].join(","));
        lists.push(
            (1..=MAX_BOOTSTRAP_SERVERS)
                .map(|i| format!("h:{i}"))
                .collect::<Vec<_>>()
                .join(","),
        );
        lists.push(
            (0..=MAX_BOOTSTRAP_SERVERS)
                .map(|i| format!("h:{}", i + 1))
                .collect::<Vec<_>>()
                .join(","),
        );
        for list in &lists {
            let general = written_out(list);
            assert_eq!(
                is_canonical_list(list),
                general.as_deref() == Some(list.as_str()),
                "{list:?} (general path: {general:?})"
            );
        }
    }
}
