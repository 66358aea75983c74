//! Literal prefixes for SQL `LIKE`.

/// The escape character used in every `LIKE … ESCAPE '!'` clause.
///
/// Not the backslash: MySQL also treats `\` as a string-literal escape
/// unless `NO_BACKSLASH_ESCAPES` is set, so its meaning in SQL text depends
/// on the server's `sql_mode`. `!` means the same everywhere.
pub const LIKE_ESCAPE: char = '!';

/// A `LIKE` pattern matching names that start with `prefix`, taken
/// literally: `%`, `_` and the escape character itself are escaped (a
/// backslash needs nothing, as it is not the escape character). `None` and
/// the empty prefix match everything. Bind the result as a parameter.
pub fn like_prefix(prefix: Option<&str>) -> String {
    let prefix = prefix.unwrap_or_default();
    let mut pattern = String::with_capacity(prefix.len() + 1);
    for c in prefix.chars() {
        if matches!(c, '%' | '_') || c == LIKE_ESCAPE {
            pattern.push(LIKE_ESCAPE);
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

#[cfg(test)]
mod tests {
    use super::like_prefix;

    #[test]
    fn escapes_wildcards_and_the_escape() {
        assert_eq!(like_prefix(None), "%");
        assert_eq!(like_prefix(Some("")), "%");
        assert_eq!(like_prefix(Some("users")), "users%");
        assert_eq!(like_prefix(Some("a_b%c")), "a!_b!%c%");
        assert_eq!(like_prefix(Some("x!y")), "x!!y%");
        assert_eq!(like_prefix(Some(r"back\slash")), r"back\slash%");
        assert_eq!(like_prefix(Some("it's \"q\"")), "it's \"q\"%");
        assert_eq!(like_prefix(Some("café_ü")), "café!_ü%");
    }
}
