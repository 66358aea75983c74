//! A wrongly typed field is named by its JSON Pointer and line, and its
//! value is never quoted: it may be a password.

use patchbay_provision::{env, Format, ProvisionFile};

const SENTINEL: &str = "S3NTINEL-shape";

fn problems(text: &str, format: Format) -> patchbay_provision::Problems {
    ProvisionFile::parse(text, format).expect_err("the shape is wrong")
}

fn assert_no_sentinel(p: &patchbay_provision::Problems) {
    let shown = format!("{p} {p:?}");
    assert!(!shown.contains(SENTINEL), "{shown}");
}

#[test]
fn wrongly_typed_fields_are_named_never_quoted() {
    let yaml = format!(
        r#"
profiles:
  - name: orders-db
    connector: postgres
    labels: "postgres://app:{SENTINEL}@db.internal/orders"
  - name: cache
    uri: ["redis://:{SENTINEL}@cache:6379"]
    description: {{ password: {SENTINEL} }}
  - name: other
    labels: {{ env: [{SENTINEL}] }}
    password: {SENTINEL}
  - {{ name: {{ secret: {SENTINEL} }}, connector: redis }}
  - "postgres://app:{SENTINEL}@db.internal/orders"
"#
    );
    let p = problems(&yaml, Format::Yaml);
    assert_no_sentinel(&p);
    let mut found: Vec<(&str, Option<usize>, &str)> =
        p.0.iter()
            .map(|p| (p.path.as_str(), p.line, p.message.as_str()))
            .collect();
    found.sort();
    assert_eq!(
        found,
        [
            (
                "/profiles/0/labels",
                Some(3),
                "must be a mapping of strings"
            ),
            ("/profiles/1/description", Some(6), "must be a string"),
            ("/profiles/1/uri", Some(6), "must be a string"),
            ("/profiles/2/labels/env", Some(9), "must be a string"),
            ("/profiles/2/password", Some(9), "unknown key"),
            ("/profiles/3/name", None, "must be a string"),
            ("/profiles/4", None, "must be a mapping"),
        ]
    );
}

#[test]
fn the_same_in_json_and_toml() {
    let json = format!(
        r#"{{"profiles": [{{"name": "a", "connector": "postgres", "labels": "{SENTINEL}"}}],
            "extra": "{SENTINEL}"}}"#
    );
    let p = problems(&json, Format::Json);
    assert_no_sentinel(&p);
    let paths: Vec<&str> = p.0.iter().map(|p| p.path.as_str()).collect();
    assert_eq!(paths, ["/extra", "/profiles/0/labels"]);

    let toml = format!(
        "[[profiles]]\nname = \"a\"\nuri = [\"redis://:{SENTINEL}@cache\"]\n\"a/b~c\" = \"{SENTINEL}\"\n"
    );
    let p = problems(&toml, Format::Toml);
    assert_no_sentinel(&p);
    let mut paths: Vec<&str> = p.0.iter().map(|p| p.path.as_str()).collect();
    paths.sort();
    assert_eq!(paths, ["/profiles/0/a~1b~0c", "/profiles/0/uri"]);
    assert!(p.0.iter().all(|p| p.line == Some(2)), "{p:?}");
}

#[test]
fn env_json_entries_too() {
    let value = format!(r#"{{"connector": "redis", "uri": {{"password": "{SENTINEL}"}}}}"#);
    let p = env::from_vars([("PATCHBAY_CONN_CACHE".to_owned(), value)]).unwrap_err();
    assert_no_sentinel(&p);
    assert_eq!(p.0.len(), 1);
    assert_eq!(p.0[0].path, "/env/PATCHBAY_CONN_CACHE/uri");
    assert_eq!(p.0[0].message, "must be a string");
}

#[test]
fn null_optional_fields_are_absent() {
    let file = ProvisionFile::parse(
        "profiles:\n  - name: a\n    uri: redis://cache\n    description: null\n    labels: null\n    config: null\n",
        Format::Yaml,
    )
    .unwrap();
    assert_eq!(file.profiles[0].description, None);
    assert_eq!(file.profiles[0].config, None);
    assert_eq!(file.lines, [Some(2)]);
}
