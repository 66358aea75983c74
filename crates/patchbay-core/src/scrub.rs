//! Takes secret values out of text a driver produced (error messages, log
//! lines) before it becomes an error, a response or a log line.
//!
//! Drivers rarely quote a secret verbatim: a URL percent-encodes it, a JSON
//! body or a `Debug` string escapes its quotes and backslashes, some tools
//! escape every non-ASCII character. So a secret matches in any mix of raw,
//! percent-encoded (`%40`, any hex case, `+` for a space) and
//! backslash-escaped (`\"`, `\\`, `\n`, `\u00e9`, `\u{e9}`, `\x40`, surrogate
//! pairs, nested escaping) characters.

use secrecy::{ExposeSecret, SecretString};

/// What a secret becomes.
pub const MASK: &str = "****";

/// Secrets shorter than this (in bytes) are not scrubbed: masking every `a`
/// in a message hides nothing and destroys the message.
pub const MIN_SCRUBBED_LEN: usize = 3;

/// Replaces every occurrence of every secret in `text`, in any encoding
/// listed in the module docs, by [`MASK`].
pub fn scrub(text: &str, secrets: &[SecretString]) -> String {
    let secrets: Vec<Vec<char>> = secrets
        .iter()
        .map(|s| s.expose_secret())
        .filter(|s| s.len() >= MIN_SCRUBBED_LEN)
        .map(|s| s.chars().collect())
        .collect();
    if secrets.is_empty() {
        return text.to_owned();
    }
    let t = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < t.len() {
        // The longest match at i, so one secret inside another goes whole.
        let end = secrets.iter().filter_map(|s| matches(t, i, s)).max();
        match end {
            Some(end) => {
                out.push_str(MASK);
                i = end;
            }
            None => {
                let c = text[i..].chars().next().expect("on a char boundary");
                out.push(c);
                i += c.len_utf8();
            }
        }
    }
    out
}

/// Where a match of `secret` starting at `i` ends, if one does.
fn matches(t: &[u8], i: usize, secret: &[char]) -> Option<usize> {
    let Some((&c, rest)) = secret.split_first() else {
        return Some(i);
    };
    ends(t, i, c)
        .into_iter()
        .flatten()
        .find_map(|end| matches(t, end, rest))
}

/// Every way `c` can be spelled at `i`: where each spelling ends. Every
/// spelling is raw UTF-8 or ASCII, so ends stay on char boundaries.
fn ends(t: &[u8], i: usize, c: char) -> [Option<usize>; 10] {
    let mut buf = [0; 4];
    let raw = c.encode_utf8(&mut buf).as_bytes();
    let mut found = [None; 10];
    found[0] = t[i..].starts_with(raw).then_some(i + raw.len());
    found[1] = (c == ' ' && t.get(i) == Some(&b'+')).then_some(i + 1);
    found[2] = percent(t, i, raw);
    // A run of backslashes, then an escape: each run length may be the
    // escaping of one layer or several.
    let run = t[i..].iter().take(8).take_while(|&&b| b == b'\\').count();
    for k in 1..=run.min(7) {
        found[2 + k] = escape(t, i + k, k, c);
    }
    found
}

/// `%HH` for every byte of `raw`, hex in any case.
fn percent(t: &[u8], mut i: usize, raw: &[u8]) -> Option<usize> {
    for &b in raw {
        if t.get(i) != Some(&b'%') {
            return None;
        }
        if hex(t.get(i + 1..i + 3)?)? != u32::from(b) {
            return None;
        }
        i += 3;
    }
    Some(i)
}

/// The body of a backslash escape at `j` (after `k` backslashes) spelling `c`.
fn escape(t: &[u8], j: usize, k: usize, c: char) -> Option<usize> {
    let body = *t.get(j)?;
    let simple = match body {
        b'n' => Some('\n'),
        b'r' => Some('\r'),
        b't' => Some('\t'),
        b'0' => Some('\0'),
        b'"' | b'\'' | b'/' | b'\\' => Some(char::from(body)),
        _ => None,
    };
    if simple == Some(c) {
        return Some(j + 1);
    }
    match body {
        b'x' => (hex(t.get(j + 1..j + 3)?)? == u32::from(c)).then_some(j + 3),
        b'u' if t.get(j + 1) == Some(&b'{') => {
            let close = t[j + 2..].iter().take(7).position(|&b| b == b'}')?;
            (hex(&t[j + 2..j + 2 + close])? == u32::from(c)).then_some(j + 3 + close)
        }
        b'u' => {
            let unit = hex(t.get(j + 1..j + 5)?)?;
            if unit == u32::from(c) {
                return Some(j + 5);
            }
            // A surrogate pair: the low half follows with the same escaping.
            let low_at = j + 5 + k;
            let low = (t.get(j + 5..low_at)?.iter().all(|&b| b == b'\\')
                && t.get(low_at) == Some(&b'u'))
            .then(|| hex(t.get(low_at + 1..low_at + 5)?))??;
            let pair = char::decode_utf16([unit as u16, low as u16]).next()?.ok()?;
            (unit <= 0xffff && low <= 0xffff && pair == c).then_some(low_at + 5)
        }
        _ => None,
    }
}

/// Hex digits (any case) as a number; `None` for anything else or nothing.
fn hex(digits: &[u8]) -> Option<u32> {
    if digits.is_empty() || digits.len() > 6 {
        return None;
    }
    digits
        .iter()
        .try_fold(0u32, |n, &b| Some(n * 16 + char::from(b).to_digit(16)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str, secret: &str) -> String {
        scrub(text, &[SecretString::from(secret)])
    }

    #[test]
    fn every_spelling_goes() {
        let secret = "p@ss w\"ö/\\☃😀";
        for spelled in [
            "p@ss w\"ö/\\☃😀",
            "p%40ss%20w%22%C3%B6%2F%5C%E2%98%83%F0%9F%98%80",
            "p%40ss+w%22%c3%b6%2f%5c%e2%98%83%f0%9f%98%80",
            "p@ss w\\\"ö\\/\\\\☃😀",
            "p@ss w\\\"\\u00f6/\\\\\\u2603\\ud83d\\ude00",
            "p@ss w\\\"\\u{f6}/\\\\\\u{2603}\\u{1f600}",
            "p@ss w\\\\\\\"ö/\\\\\\\\☃😀",
            "p\\x40ss w\"ö/\\☃😀",
        ] {
            let out = s(&format!("before {spelled} after"), secret);
            assert_eq!(out, "before **** after", "{spelled}");
        }
    }

    #[test]
    fn other_text_is_kept() {
        assert_eq!(s("no secret here: p@s", "p@ss"), "no secret here: p@s");
        assert_eq!(s("ab ab", "ab"), "ab ab", "too short to scrub");
        assert_eq!(s("x%4", "x@y"), "x%4");
        assert_eq!(s("ünï p@ss ünï", "p@ss"), "ünï **** ünï");
        assert_eq!(s("\\", "abc"), "\\");
    }
}
