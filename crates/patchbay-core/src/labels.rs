//! Labels: small key/value tags on a profile (`{"env": "prod"}`), set on
//! create and update, filtered on in lists (every filter must match).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::error::FieldError;

/// Most labels one profile holds, and most filters one list applies.
pub const MAX_LABELS: usize = 16;
/// Longest label key, in bytes (keys are ASCII).
pub const MAX_LABEL_KEY_LEN: usize = 63;
/// Longest label value, in characters.
pub const MAX_LABEL_VALUE_LEN: usize = 63;

/// A profile's labels, sorted by key.
pub type Labels = BTreeMap<String, String>;

/// The JSON Pointer of a label (`/labels/team~1owner`); a key that is not
/// printable is not quoted, the field is `/labels` then.
fn path(key: &str) -> String {
    if key.chars().any(char::is_control) {
        "/labels".to_owned()
    } else {
        format!("/labels/{}", key.replace('~', "~0").replace('/', "~1"))
    }
}

/// Checks a key: 1–63 of `a-z`, `0-9`, `_`, `.`, `-`, `/`.
pub fn check_key(key: &str) -> Result<(), FieldError> {
    let ok = !key.is_empty()
        && key.len() <= MAX_LABEL_KEY_LEN
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.-/".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(FieldError::new(
            path(key),
            "a label key is 1 to 63 of a-z, 0-9, '_', '.', '-' and '/'",
        ))
    }
}

/// Checks a value: at most 63 characters, none a control character.
pub fn check_value(key: &str, value: &str) -> Result<(), FieldError> {
    if value.chars().count() > MAX_LABEL_VALUE_LEN {
        return Err(FieldError::new(
            path(key),
            "a label value is at most 63 characters",
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(FieldError::new(
            path(key),
            "must not contain control characters",
        ));
    }
    Ok(())
}

/// Every problem of `labels`, pushed to `errors`.
pub fn validate_labels(labels: &Labels, errors: &mut Vec<FieldError>) {
    if labels.len() > MAX_LABELS {
        errors.push(FieldError::new("/labels", "at most 16 labels"));
    }
    for (key, value) in labels {
        match check_key(key) {
            Ok(()) => errors.extend(check_value(key, value).err()),
            Err(e) => errors.push(e),
        }
    }
}

/// `current` with a JSON merge patch applied: a string sets a label, `null`
/// removes it, absent keys stay. Problems (a patch that is not an object, a
/// value neither string nor null) are pushed to `errors`; validation of the
/// result is [`validate_labels`]'s.
pub fn patch_labels(current: &Labels, patch: &Value, errors: &mut Vec<FieldError>) -> Labels {
    let mut next = current.clone();
    let Some(patch) = patch.as_object() else {
        errors.push(FieldError::new(
            "/labels",
            "must be an object (a JSON merge patch)",
        ));
        return next;
    };
    for (key, value) in patch {
        match value {
            Value::Null => {
                next.remove(key);
            }
            Value::String(v) => {
                next.insert(key.clone(), v.clone());
            }
            _ => errors.push(FieldError::new(path(key), "must be a string or null")),
        }
    }
    next
}

/// Parses a list filter `key:value` (the key holds no `:`).
///
/// # Errors
/// A [`FieldError`] on `/label`.
pub fn parse_filter(filter: &str) -> Result<(String, String), FieldError> {
    let bad = |m: &str| FieldError::new("/label", m);
    let (key, value) = filter
        .split_once(':')
        .ok_or_else(|| bad("must be key:value"))?;
    check_key(key).map_err(|e| bad(&e.message))?;
    check_value(key, value).map_err(|e| bad(&e.message))?;
    Ok((key.to_owned(), value.to_owned()))
}

/// Whether `labels` hold every `(key, value)` of `filters`.
pub fn matches(labels: &Labels, filters: &[(String, String)]) -> bool {
    filters.iter().all(|(k, v)| labels.get(k) == Some(v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_values_and_counts_are_bounded() {
        let mut errors = Vec::new();
        let ok: Labels = [("env", "prod"), ("team/owner", "payments")]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .into();
        validate_labels(&ok, &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        for bad in ["", "Env", "a b", "é", "a:b", &"k".repeat(64)] {
            assert!(check_key(bad).is_err(), "{bad:?}");
        }
        assert!(check_value("k", &"v".repeat(63)).is_ok());
        assert!(check_value("k", &"v".repeat(64)).is_err());
        assert_eq!(
            check_value("team/x", "a\nb").unwrap_err().path,
            "/labels/team~1x"
        );
        assert_eq!(check_key("a\u{0}").unwrap_err().path, "/labels");
        let many: Labels = (0..17).map(|i| (format!("k{i}"), "v".to_owned())).collect();
        validate_labels(&many, &mut errors);
        assert_eq!(errors.len(), 1);
    }

    #[test]
    fn patches_merge() {
        let current: Labels = [("a", "1"), ("b", "2")]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .into();
        let mut errors = Vec::new();
        let next = patch_labels(&current, &json!({"a": null, "c": "3"}), &mut errors);
        assert!(errors.is_empty());
        assert_eq!(
            next.into_iter().collect::<Vec<_>>(),
            [
                ("b".to_owned(), "2".to_owned()),
                ("c".to_owned(), "3".to_owned())
            ]
        );
        patch_labels(&current, &json!({"a": 1}), &mut errors);
        assert_eq!(errors[0].path, "/labels/a");
    }

    #[test]
    fn filters() {
        assert_eq!(
            parse_filter("env:prod:eu").unwrap(),
            ("env".into(), "prod:eu".into())
        );
        assert_eq!(parse_filter("env:").unwrap(), ("env".into(), String::new()));
        assert!(parse_filter("env").is_err());
        assert!(parse_filter("Env:x").is_err());
    }
}
