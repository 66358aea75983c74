//! Control characters in caller input.
//!
//! Every string an API caller sends is checked here, in core, so every store
//! and adapter gets the same rule: Postgres cannot hold NUL in `text` or
//! `jsonb` (today's alternative is a 500), and the other control characters
//! forge log lines and confuse terminals. Multi-line text (descriptions,
//! config strings such as PEM certificates) may keep tab, CR and LF.

use serde_json::Value;

use crate::error::FieldError;

/// The first control character of `value`, if any. `layout` allows tab, CR
/// and LF.
fn control_char(value: &str, layout: bool) -> Option<char> {
    value
        .chars()
        .find(|c| c.is_control() && !(layout && matches!(c, '\t' | '\n' | '\r')))
}

fn refused(path: &str, c: char) -> FieldError {
    // The character, never the value: the value may be a secret.
    FieldError::new(
        path,
        format!(
            "must not contain control characters (found U+{:04X})",
            u32::from(c)
        ),
    )
}

/// Checks a one-line value (query parameter, cursor, name, kind, id): no
/// control character at all.
///
/// # Errors
/// A [`FieldError`] at `path` naming the character, not the value.
pub fn check_line(path: &str, value: &str) -> Result<(), FieldError> {
    control_char(value, false).map_or(Ok(()), |c| Err(refused(path, c)))
}

/// Checks free text (a description, a config string): no control character
/// but tab, CR and LF.
///
/// # Errors
/// A [`FieldError`] at `path` naming the character, not the value.
pub fn check_text(path: &str, value: &str) -> Result<(), FieldError> {
    control_char(value, true).map_or(Ok(()), |c| Err(refused(path, c)))
}

/// Checks every string and every object key inside `value`, recursively;
/// each problem is pushed with its JSON Pointer under `path`.
pub fn check_json(value: &Value, path: &str, errors: &mut Vec<FieldError>) {
    match value {
        Value::String(s) => errors.extend(check_text(path, s).err()),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                check_json(item, &format!("{path}/{i}"), errors);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                if let Some(c) = control_char(key, false) {
                    // The key cannot be part of a readable pointer: name the object.
                    errors.push(FieldError::new(
                        path,
                        format!(
                            "has a key containing a control character (U+{:04X})",
                            u32::from(c)
                        ),
                    ));
                    continue;
                }
                check_json(item, &format!("{path}/{}", escape_pointer(key)), errors);
            }
        }
        _ => {}
    }
}

/// Escapes a key for a JSON Pointer (RFC 6901).
fn escape_pointer(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lines_refuse_every_control_character() {
        assert!(check_line("/prefix", "abc-É").is_ok());
        for bad in ["a\0b", "a\nb", "\u{1b}[31m", "x\u{7f}", "\u{85}"] {
            let e = check_line("/prefix", bad).unwrap_err();
            assert_eq!(e.path, "/prefix");
            assert!(e.message.contains("U+"), "{}", e.message);
        }
    }

    #[test]
    fn text_keeps_layout() {
        assert!(check_text("/description", "two\nlines\r\n\tand a tab").is_ok());
        let e = check_text("/description", "nul\0").unwrap_err();
        assert!(e.message.contains("U+0000"));
    }

    #[test]
    fn json_paths_point_at_the_string() {
        let mut errors = Vec::new();
        let v = json!({
            "ok": "fine\n",
            "a/b": ["x", "sec\0ret"],
            "nested": { "k\0": 1, "deep": { "v": "\u{7}" } },
        });
        check_json(&v, "/config", &mut errors);
        let mut paths: Vec<_> = errors.iter().map(|e| e.path.as_str()).collect();
        paths.sort_unstable();
        assert_eq!(
            paths,
            ["/config/a~1b/1", "/config/nested", "/config/nested/deep/v"]
        );
        assert!(errors.iter().all(|e| !e.message.contains("sec")));
    }
}

/// Whole numbers written with a fraction part (`5432.0`) become integers.
/// JSON Schema counts them as integers, so a config the schema accepts must
/// not be refused later by a connector's typed config.
pub fn integral_numbers(value: &mut Value) {
    match value {
        Value::Number(n) if n.is_f64() => {
            // Below 2^53 every whole f64 is exact, and fits an i64.
            if let Some(f) = n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15) {
                *value = Value::from(f as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_numbers),
        Value::Object(map) => map.values_mut().for_each(integral_numbers),
        _ => {}
    }
}

#[cfg(test)]
mod integral_tests {
    use super::integral_numbers;
    use serde_json::json;

    #[test]
    fn whole_floats_become_integers() {
        let mut v = json!({"port": 5432.0, "ratio": 0.5, "list": [1.0, -3.0], "big": 1e300});
        integral_numbers(&mut v);
        assert_eq!(
            v,
            json!({"port": 5432, "ratio": 0.5, "list": [1, -3], "big": 1e300})
        );
        assert!(v["port"].is_u64());
    }
}
