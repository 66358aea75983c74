//! What a sealed envelope promises, each checked so that losing it fails a
//! test: authenticated (tamper, truncation, corruption, wrong key are refused
//! with a `Storage` error naming profile and field, never the value), a fresh
//! nonce per seal, and additional data that binds profile id and field.

use std::collections::HashSet;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use patchbay_core::secrecy::{ExposeSecret, SecretString};
use patchbay_core::{Error, Key, Keyring, ProfileId, Sealer};

const SECRET: &str = "p@ss%2F\"wörd/☃";

fn sealed() -> (Keyring, ProfileId, String) {
    let ring = Keyring::ephemeral();
    let id = ProfileId::generate();
    let env = ring
        .seal(&id, "password", &SecretString::from(SECRET))
        .expect("seal");
    (ring, id, env)
}

/// `pbs1`, key id, base64 data: the parts of an envelope.
fn parts(env: &str) -> (String, String, Vec<u8>) {
    let mut it = env.splitn(3, '.');
    let (p, kid, data) = (it.next().unwrap(), it.next().unwrap(), it.next().unwrap());
    (
        p.to_owned(),
        kid.to_owned(),
        URL_SAFE_NO_PAD.decode(data).expect("base64 data"),
    )
}

fn join(prefix: &str, kid: &str, blob: &[u8]) -> String {
    format!("{prefix}.{kid}.{}", URL_SAFE_NO_PAD.encode(blob))
}

/// The envelope must not open, and the error must be `Storage`, name the
/// profile and the field, and quote neither the secret nor the envelope.
fn refused(ring: &Keyring, id: &ProfileId, field: &str, env: &str, why: &str) {
    match ring.open(id, field, env) {
        Ok(v) => panic!("{why}: opened to {:?}", v.expose_secret()),
        Err(e @ Error::SecretUnavailable { .. }) => {
            let text = format!("{e} {e:?}");
            assert!(text.contains(id.as_str()), "{why}: {text}");
            assert!(text.contains(field), "{why}: {text}");
            assert!(!text.contains(SECRET), "{why}: {text}");
            if env.len() > 20 {
                assert!(!text.contains(env), "{why}: envelope quoted: {text}");
            }
        }
        Err(other) => panic!("{why}: expected SecretUnavailable, got {other:?}"),
    }
}

#[test]
fn the_envelope_opens_to_the_value_and_hides_it() {
    let (ring, id, env) = sealed();
    assert_eq!(
        ring.open(&id, "password", &env).unwrap().expose_secret(),
        SECRET
    );
    assert!(env.starts_with(&format!("pbs1.{}.", ring.active_id())));
    let (_, _, blob) = parts(&env);
    // 12-byte nonce, the ciphertext, a 16-byte tag: nothing in clear.
    assert_eq!(blob.len(), 12 + SECRET.len() + 16);
    assert!(!blob
        .windows(4)
        .any(|w| SECRET.as_bytes().windows(4).any(|s| s == w)));
}

#[test]
fn every_flipped_bit_is_refused() {
    let (ring, id, env) = sealed();
    let (prefix, kid, blob) = parts(&env);
    // Nonce, ciphertext and tag: a flip anywhere must fail authentication.
    for byte in 0..blob.len() {
        for bit in [0, 3, 7] {
            let mut bad = blob.clone();
            bad[byte] ^= 1 << bit;
            let tampered = join(&prefix, &kid, &bad);
            refused(
                &ring,
                &id,
                "password",
                &tampered,
                &format!("byte {byte} bit {bit}"),
            );
        }
    }
}

#[test]
fn truncated_and_extended_envelopes_are_refused() {
    let (ring, id, env) = sealed();
    let (prefix, kid, blob) = parts(&env);
    for len in 0..blob.len() {
        refused(
            &ring,
            &id,
            "password",
            &join(&prefix, &kid, &blob[..len]),
            &format!("blob cut to {len} bytes"),
        );
    }
    for cut in 1..env.len() {
        refused(
            &ring,
            &id,
            "password",
            &env[..cut],
            &format!("text cut to {cut}"),
        );
    }
    let mut longer = blob.clone();
    longer.push(0);
    refused(
        &ring,
        &id,
        "password",
        &join(&prefix, &kid, &longer),
        "one byte appended",
    );
}

#[test]
fn corrupt_envelopes_are_refused() {
    let (ring, id, env) = sealed();
    let (_, kid, blob) = parts(&env);
    let data = URL_SAFE_NO_PAD.encode(&blob);
    for bad in [
        String::new(),
        "pbs1".to_owned(),
        format!("pbs1.{kid}"),
        format!("pbs1.{kid}."),
        format!("pbs2.{kid}.{data}"),
        format!("PBS1.{kid}.{data}"),
        format!("pbs1.{kid}.{data}="),
        format!(
            "pbs1.{kid}.{}",
            data.replace(|c: char| c.is_ascii_alphabetic(), "!")
        ),
        format!("pbs1.{kid}.{SECRET}"),
        format!(" {env}"),
        format!("{env}\n"),
        SECRET.to_owned(),
    ] {
        refused(&ring, &id, "password", &bad, &format!("corrupt {bad:?}"));
    }
}

#[test]
fn a_wrong_or_unknown_key_id_is_refused() {
    let (ring, id, env) = sealed();
    let (prefix, kid, blob) = parts(&env);
    let other = Key::generate();
    assert_ne!(other.id(), kid);
    // An unknown id, and the id of a key the ring does not hold.
    refused(
        &ring,
        &id,
        "password",
        &join(&prefix, "00000000", &blob),
        "unknown id",
    );
    refused(
        &ring,
        &id,
        "password",
        &join(&prefix, other.id(), &blob),
        "foreign id",
    );
    // The ring holds the other key, but the data was not sealed with it.
    let both = Keyring::new(other.clone()).with_older(Key::generate());
    let relabelled = join(&prefix, other.id(), &blob);
    refused(
        &both,
        &id,
        "password",
        &relabelled,
        "data under another key's id",
    );
    // And a ring without the sealing key refuses the genuine envelope.
    refused(
        &Keyring::new(other),
        &id,
        "password",
        &env,
        "key not in ring",
    );
}

#[test]
fn nonces_never_repeat() {
    let ring = Keyring::ephemeral();
    let id = ProfileId::generate();
    let value = SecretString::from(SECRET);
    let mut envelopes = HashSet::new();
    let mut nonces = HashSet::new();
    for _ in 0..2000 {
        let env = ring.seal(&id, "password", &value).expect("seal");
        let (_, _, blob) = parts(&env);
        assert!(nonces.insert(blob[..12].to_vec()), "a nonce repeated");
        assert!(envelopes.insert(env), "an envelope repeated");
    }
    // Two keyrings with different keys, same value: different ciphertexts too.
    let other = Keyring::ephemeral()
        .seal(&id, "password", &value)
        .expect("seal");
    assert!(!envelopes.contains(&other));
}

#[test]
fn an_envelope_moved_to_another_profile_or_field_does_not_open() {
    let ring = Keyring::ephemeral();
    let (a, b) = (ProfileId::generate(), ProfileId::generate());
    let value = SecretString::from(SECRET);
    let env = ring.seal(&a, "password", &value).expect("seal");
    refused(&ring, &b, "password", &env, "moved to another profile");
    refused(&ring, &a, "sasl_password", &env, "moved to another field");
    refused(&ring, &a, "Password", &env, "field case changed");
    refused(&ring, &a, "", &env, "empty field");
    refused(&ring, &b, "sasl_password", &env, "moved to both");
    // The binding must not be ambiguous: `id` + `a/b` and `id/a` + `b` differ.
    let env = ring.seal(&a, "x/y", &value).expect("seal");
    refused(&ring, &a, "x", &env, "field prefix");
    refused(&ring, &a, "y", &env, "field suffix");
    assert_eq!(
        ring.open(&a, "x/y", &env).unwrap().expose_secret(),
        SECRET,
        "the right place still opens"
    );
}

#[test]
fn needs_reseal_follows_the_key_id() {
    let old = Keyring::ephemeral();
    let id = ProfileId::generate();
    let env = old
        .seal(&id, "password", &SecretString::from(SECRET))
        .unwrap();
    assert!(!old.needs_reseal(&env));
    assert!(Keyring::ephemeral().needs_reseal(&env));
    assert!(old.needs_reseal("not an envelope"));
}
