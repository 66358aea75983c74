//! Secrets that overlap: a secret inside a longer one goes whole, so no
//! tail of the longer one is left (a mutation picking the shortest match
//! left `-tail` in place and passed every other test).

use patchbay_core::scrub::{scrub, MASK};
use patchbay_core::secrecy::SecretString;

#[test]
fn a_secret_inside_another_goes_whole() {
    let secrets = [
        SecretString::from("p@ss"),
        SecretString::from("p@ss-word-tail"),
    ];
    for text in ["x p@ss-word-tail y", "x p%40ss-word-tail y"] {
        assert_eq!(scrub(text, &secrets), format!("x {MASK} y"), "{text}");
    }
    // Order does not matter.
    let reversed = [secrets[1].clone(), secrets[0].clone()];
    assert_eq!(scrub("p@ss-word-tail", &reversed), MASK);
}
