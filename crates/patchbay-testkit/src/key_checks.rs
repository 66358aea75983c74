//! Conformance case for the key check values a store records
//! ([`ProfileRepository::key_checks`] and friends).

use patchbay_core::{Key, KeyCheck, Keyring, ProfileRepository, Sealer};

/// Checks are recorded once per key id (the first stays), listed sorted by
/// key id with their value intact, and removed once. Uses fresh random keys,
/// so it may share a store with other cases.
pub async fn key_checks_round_trip(repo: &dyn ProfileRepository) {
    let keys = [Key::generate(), Key::generate(), Key::generate()];
    let ring = keys[1..]
        .iter()
        .fold(Keyring::new(keys[0].clone()), |r, k| {
            r.with_older(k.clone())
        });
    let checks: Vec<KeyCheck> = keys
        .iter()
        .map(|k| ring.key_check(k.id()).expect("check of a held key"))
        .collect();
    let ours = |all: Vec<KeyCheck>| -> Vec<KeyCheck> {
        all.into_iter()
            .filter(|c| checks.iter().any(|o| o.key_id == c.key_id))
            .collect()
    };
    assert!(ours(repo.key_checks().await.expect("list")).is_empty());
    for c in &checks {
        assert!(repo.add_key_check(c).await.expect("add"), "{}", c.key_id);
    }
    // A second check for a recorded id does not replace the first.
    let again = ring.key_check(keys[0].id()).expect("check");
    assert_ne!(
        again.value, checks[0].value,
        "check values use fresh nonces"
    );
    assert!(!repo.add_key_check(&again).await.expect("add again"));

    let all = repo.key_checks().await.expect("list");
    let ids: Vec<&str> = all.iter().map(|c| c.key_id.as_str()).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    assert_eq!(ids, sorted, "key checks are listed by key id");
    let mut expected = checks.clone();
    expected.sort_by(|a, b| a.key_id.cmp(&b.key_id));
    let listed = ours(all);
    assert_eq!(listed, expected);
    for c in &listed {
        assert_eq!(
            ring.verify_key_check(c),
            patchbay_core::KeyCheckStatus::Holds
        );
    }

    assert!(repo.remove_key_check(keys[1].id()).await.expect("remove"));
    assert!(!repo
        .remove_key_check(keys[1].id())
        .await
        .expect("remove again"));
    assert!(!repo
        .remove_key_check("never-recorded")
        .await
        .expect("remove unknown"));
    let left = ours(repo.key_checks().await.expect("list"));
    assert_eq!(left.len(), 2);
    assert!(left.iter().all(|c| c.key_id != keys[1].id()));
}
