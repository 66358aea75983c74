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
    // One scan: each entry read once (up to its comma) and compared with the
    // ones before, kept on the stack.
    let bytes = list.as_bytes();
    let mut seen: [&[u8]; MAX_BOOTSTRAP_SERVERS] = [&[]; MAX_BOOTSTRAP_SERVERS];
    let mut start = 0;
    for n in 0..MAX_BOOTSTRAP_SERVERS {
        let Some(len) = canonical_entry_len(&bytes[start..]) else {
            return false;
        };
        let entry = &bytes[start..start + len];
        if seen[..n].iter().any(|e| same(e, entry)) {
            return false;
        }
        seen[n] = entry;
        match bytes.get(start + len) {
            None => return true,
            // `canonical_entry_len` stops only at a comma or the end.
            Some(_) => start += len + 1,
        }
    }
    false
}

/// Byte equality inline: entries are short and usually differ early (a
/// `memcmp` call per pair costs more than the comparison).
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
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

/// The length of the canonical entry `rest` starts with, when it is one
/// and ends at a comma or at the end: `host:port` with a host of name
/// characters, or `[v6]:port` with a host that has a colon; a port from 1
/// to 65535 without leading zeros.
fn canonical_entry_len(rest: &[u8]) -> Option<usize> {
    let name_byte = |i: usize| rest.get(i).is_some_and(|&b| NAME_BYTE[usize::from(b)]);
    let mut i = 0;
    let host_len = if rest.first() == Some(&b'[') {
        i = 1;
        let mut colon = false;
        while name_byte(i) || rest.get(i) == Some(&b':') {
            colon |= rest[i] == b':';
            i += 1;
        }
        if !colon || rest.get(i) != Some(&b']') {
            return None;
        }
        i += 1;
        i - 2
    } else {
        while name_byte(i) {
            i += 1;
        }
        i
    };
    if host_len == 0 || host_len > 253 || rest.get(i) != Some(&b':') {
        return None;
    }
    i += 1;
    let digits = i;
    let mut port = 0u32;
    while let Some(d) = rest.get(i).filter(|b| b.is_ascii_digit()) {
        port = port * 10 + u32::from(d - b'0');
        i += 1;
        if i - digits > 5 {
            return None;
        }
    }
    let ends = matches!(rest.get(i), None | Some(b','));
    (ends && rest.get(digits) != Some(&b'0') && i > digits && port <= 65535).then_some(i)
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
