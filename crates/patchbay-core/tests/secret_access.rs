//! `SecretAccess` and `EnvFileResolver`: references are refused unless the
//! host allows them, files are judged where they really are, and every
//! unusable file answers with the same message (no existence oracle).

use std::path::Path;
use std::time::Duration;

use patchbay_core::secrecy::ExposeSecret;
use patchbay_core::{EnvFileResolver, SecretAccess, SecretRef, SecretResolver};

fn reference(text: &str) -> SecretRef {
    SecretRef::parse(text)
        .expect("a reference")
        .expect("well formed")
}

fn file_ref(path: &Path) -> SecretRef {
    reference(&format!("{{{{ file:{} }}}}", path.display()))
}

async fn resolve(resolver: &EnvFileResolver, r: &SecretRef) -> Result<String, String> {
    // Bounded: a resolver that blocks on a FIFO or reads /dev/zero fails here.
    tokio::time::timeout(Duration::from_secs(10), resolver.resolve(r))
        .await
        .expect("resolution returned")
        .map(|s| s.expose_secret().to_owned())
        .map_err(|e| e.0)
}

#[tokio::test]
async fn the_default_allows_no_reference() {
    let resolver = EnvFileResolver::default();
    std::env::set_var("PATCHBAY_ACCESS_TEST_DEFAULT", "value");
    for text in [
        "{{ env:PATCHBAY_ACCESS_TEST_DEFAULT }}",
        "{{ file:/etc/hostname }}",
    ] {
        let r = reference(text);
        let why = resolver.permits(&r).unwrap_err().0;
        assert!(why.contains("not enabled"), "{text}: {why}");
        assert!(resolve(&resolver, &r).await.is_err(), "{text}");
    }
}

#[tokio::test]
async fn env_names_by_prefix_or_list_never_forbidden_ones() {
    std::env::set_var("PBTEST_OK_ONE", "one");
    std::env::set_var("PBTEST_LISTED", "listed");
    std::env::set_var("PBTEST_OK_KEY", "the sealing key");
    std::env::set_var("PBTEST_OTHER", "other");
    let resolver = EnvFileResolver::new(
        SecretAccess::none()
            .allow_env_prefix("PBTEST_OK_")
            .allow_env("PBTEST_LISTED")
            .forbid_env("PBTEST_OK_KEY"),
    );
    for (name, value) in [("PBTEST_OK_ONE", "one"), ("PBTEST_LISTED", "listed")] {
        let r = reference(&format!("{{{{ env:{name} }}}}"));
        resolver.permits(&r).unwrap();
        assert_eq!(resolve(&resolver, &r).await.unwrap(), value);
    }
    for name in [
        "PBTEST_OK_KEY",
        "PBTEST_OTHER",
        "PBTEST_OK_A=B",
        "pbtest_ok_one",
    ] {
        let r = reference(&format!("{{{{ env:{name} }}}}"));
        assert!(resolver.permits(&r).is_err(), "{name}");
        let why = resolve(&resolver, &r).await.unwrap_err();
        assert!(!why.contains("other") && !why.contains("sealing"), "{why}");
    }
    // Allowed but unset: the same message as not allowed.
    let unset = reference("{{ env:PBTEST_OK_UNSET }}");
    resolver.permits(&unset).unwrap();
    assert_eq!(
        resolve(&resolver, &unset).await.unwrap_err(),
        resolve(&resolver, &reference("{{ env:PBTEST_OTHER }}"))
            .await
            .unwrap_err()
    );
}

#[tokio::test]
async fn files_inside_allowed_directories_resolve() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pw"), "from-file\r\n").unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::write(dir.path().join("sub/pw"), "nested").unwrap();
    let resolver = EnvFileResolver::new(SecretAccess::none().allow_dir(dir.path()));
    assert_eq!(
        resolve(&resolver, &file_ref(&dir.path().join("pw")))
            .await
            .unwrap(),
        "from-file"
    );
    assert_eq!(
        resolve(&resolver, &file_ref(&dir.path().join("sub/pw")))
            .await
            .unwrap(),
        "nested"
    );
}

#[tokio::test]
async fn paths_are_judged_by_text_when_saved() {
    let dir = tempfile::tempdir().unwrap();
    let resolver = EnvFileResolver::new(SecretAccess::none().allow_dir(dir.path()));
    let d = dir.path().display();
    for text in [
        format!("{{{{ file:{d}/../etc/passwd }}}}"),
        format!("{{{{ file:{d}/sub/../../etc/passwd }}}}"),
        "{{ file:relative/pw }}".to_owned(),
        "{{ file:/etc/passwd }}".to_owned(),
        "{{ file:/proc/self/environ }}".to_owned(),
    ] {
        assert!(resolver.permits(&reference(&text)).is_err(), "{text}");
        assert!(
            resolve(&resolver, &reference(&text)).await.is_err(),
            "{text}"
        );
    }
}

#[tokio::test]
async fn every_unusable_file_gets_the_same_answer_within_the_deadline() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret"), "outside-secret").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::fs::write(p.join("patchbay.key"), "the-sealing-key").unwrap();
    std::fs::create_dir(p.join("db")).unwrap();
    std::fs::write(p.join("db/profiles.db"), "database").unwrap();
    std::os::unix::fs::symlink(outside.path().join("secret"), p.join("escape")).unwrap();
    std::os::unix::fs::symlink(p.join("patchbay.key"), p.join("key-link")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", p.join("zero")).unwrap();
    std::os::unix::fs::symlink("/proc/self/environ", p.join("environ")).unwrap();
    std::fs::create_dir(p.join("a-directory")).unwrap();
    let fifo = p.join("fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    let resolver = EnvFileResolver::new(
        SecretAccess::none()
            .allow_dir(p)
            .forbid_path(p.join("patchbay.key"))
            .forbid_path(p.join("db")),
    );
    let mut answers = Vec::new();
    for name in [
        "missing",
        "patchbay.key",
        "key-link",
        "db/profiles.db",
        "escape",
        "zero",
        "environ",
        "fifo",
        "a-directory",
    ] {
        let r = file_ref(&p.join(name));
        resolver
            .permits(&r)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let why = resolve(&resolver, &r).await.unwrap_err();
        for value in ["outside-secret", "the-sealing-key", "database"] {
            assert!(!why.contains(value), "{name}: {why}");
        }
        answers.push(why);
    }
    answers.dedup();
    assert_eq!(answers.len(), 1, "no existence oracle: {answers:?}");
}

#[tokio::test]
async fn files_are_bounded_in_size() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("big"), "x".repeat(101)).unwrap();
    std::fs::write(dir.path().join("fits"), "y".repeat(100)).unwrap();
    let resolver = EnvFileResolver::new(
        SecretAccess::none()
            .allow_dir(dir.path())
            .max_file_bytes(100),
    );
    let why = resolve(&resolver, &file_ref(&dir.path().join("big")))
        .await
        .unwrap_err();
    assert!(why.contains("larger than 100 bytes"), "{why}");
    assert_eq!(
        resolve(&resolver, &file_ref(&dir.path().join("fits")))
            .await
            .unwrap()
            .len(),
        100
    );
}
