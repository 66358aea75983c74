//! How a secret looks after a driver or a formatter had it: the forms a
//! leak check must search for, not the raw value alone.

/// Every spelling of `s` a driver or a formatter might produce: raw,
/// percent-encoded (upper and lower hex, and a URL user-info's set),
/// JSON-escaped (as is and ASCII-only with `\u` escapes), `Debug`-escaped,
/// `escape_default`, `escape_unicode`, and the JSON of its `Debug` string.
pub fn spellings(s: &str) -> Vec<String> {
    let percent = |keep: &[u8], upper: bool| {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || keep.contains(&b) {
                    char::from(b).to_string()
                } else if upper {
                    format!("%{b:02X}")
                } else {
                    format!("%{b:02x}")
                }
            })
            .collect::<String>()
    };
    let json = serde_json::to_string(s).expect("a string serializes");
    let json_ascii: String = s
        .encode_utf16()
        .map(|u| match char::from_u32(u32::from(u)) {
            Some(c) if c.is_ascii() => match c {
                '"' => "\\\"".to_owned(),
                '\\' => "\\\\".to_owned(),
                c => c.to_string(),
            },
            _ => format!("\\u{u:04x}"),
        })
        .collect();
    let debug = format!("{s:?}");
    vec![
        s.to_owned(),
        percent(b"-._~", true),
        percent(b"-._~", false),
        // What a URL's user-info keeps raw (the `url` crate's set).
        percent(b"-._~!$&'()*+,", true),
        json[1..json.len() - 1].to_owned(),
        json_ascii,
        debug[1..debug.len() - 1].to_owned(),
        s.escape_default().to_string(),
        s.escape_unicode().to_string(),
        // Escaped twice: the JSON of a Debug string.
        serde_json::to_string(&debug).expect("a string serializes"),
    ]
}

/// The alphanumeric runs of `s` of 8 characters or more: what survives of
/// a secret that a driver cut at its punctuation (a URL split at `@`).
pub fn fragments(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|run| run.len() >= 8)
        .map(str::to_owned)
        .collect()
}

/// Every spelling and fragment of `secret` found in `text`.
pub fn leaked(text: &str, secret: &str) -> Vec<String> {
    let mut forms = spellings(secret);
    forms.extend(fragments(secret));
    forms.dedup();
    forms
        .into_iter()
        .filter(|form| text.contains(form.as_str()))
        .collect()
}

/// Panics naming `what` and every form of `secret` found in `text`.
pub fn assert_clean(what: &str, text: &str, secret: &str) {
    let found = leaked(text, secret);
    assert!(
        found.is_empty(),
        "the secret leaked into {what} as {found:?}: {text}"
    );
}

/// Secret values that drivers escape or percent-encode, each with a
/// unique 12-character marker at both ends (so a cut-off part is found
/// too): `@ : / %` and a space; quotes and a backslash; 2-, 3- and 4-byte
/// UTF-8; all of them at once.
pub fn sentinels() -> Vec<String> {
    [
        "p@ss:w %2F/rd",
        "q'u\"o\\te`",
        "ünï-☃-😀",
        "p@ss %2F/w'o\"r\\d-ü☃😀",
    ]
    .iter()
    .map(|body| {
        let tag = &uuid::Uuid::new_v4().simple().to_string()[..8];
        format!("S3nt{tag}{body}Z{tag}E")
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_differs_from_the_raw_value() {
        // The checks are only as good as the spellings: for a value with
        // every kind of character, each must differ from the raw value, or
        // a scrubber of raw text alone would pass.
        let all_kinds = sentinels().pop().expect("sentinels");
        let all = spellings(&all_kinds);
        for s in &all[1..] {
            assert_ne!(s, &all_kinds);
            assert!(!s.contains(all_kinds.as_str()), "{s}");
        }
        for secret in sentinels() {
            assert_eq!(fragments(&secret).len(), 2, "{secret}");
        }
    }

    #[test]
    fn leaks_are_found_whole_encoded_or_cut() {
        let secret = &sentinels()[0];
        let (head, _) = secret.split_once('@').expect("has @");
        assert!(leaked("nothing here", secret).is_empty());
        assert!(!leaked(&format!("x {head} y"), secret).is_empty(), "cut");
        for s in spellings(secret) {
            assert!(!leaked(&format!("a {s} b"), secret).is_empty(), "{s}");
        }
    }
}
