//! Key check values: what a store records about the keys that sealed its
//! secrets, so that a process opening it with another keyring finds out at
//! startup, not on the first probe.
//!
//! A check value is a constant sealed under the key (AES-256-GCM, random
//! nonce, its own associated data), in the envelope format of secrets:
//! `pbs1.<key id>.<data>`. It proves possession of the whole key, not just
//! its 32-bit id, and reveals nothing about the key.

use aes_gcm::aead::{Aead, KeyInit, OsRng, Payload};
use aes_gcm::{AeadCore, Aes256Gcm, Nonce};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::seal::{split, Key, PREFIX};

/// The sealed constant; never a secret.
const PLAINTEXT: &[u8] = b"patchbay key check v1";
/// Binds the check to its purpose: it cannot pass for a sealed secret.
const AAD: &[u8] = b"patchbay/key-check";

/// The check value of one key, as a store records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyCheck {
    /// The key's id, as found in envelopes.
    pub key_id: String,
    /// The sealed constant (`pbs1.<key id>.<data>`).
    pub value: String,
}

/// What a keyring makes of a recorded [`KeyCheck`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyCheckStatus {
    /// The keyring holds the key.
    Holds,
    /// The keyring has no key with this id.
    Missing,
    /// The keyring has a key with this id, but not this key (or the value
    /// was tampered with).
    Mismatch,
}

impl KeyCheck {
    pub(crate) fn make(key: &Key) -> Self {
        let cipher = Aes256Gcm::new(key.bytes.as_ref().into());
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let sealed = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: PLAINTEXT,
                    aad: AAD,
                },
            )
            .expect("sealing a constant cannot fail");
        let mut blob = nonce.to_vec();
        blob.extend_from_slice(&sealed);
        Self {
            key_id: key.id.clone(),
            value: format!("{PREFIX}.{}.{}", key.id, URL_SAFE_NO_PAD.encode(blob)),
        }
    }

    pub(crate) fn verify(&self, key: &Key) -> KeyCheckStatus {
        let opens = || -> Option<bool> {
            let (kid, data) = split(&self.value)?;
            if kid != key.id || kid != self.key_id {
                return Some(false);
            }
            let blob = URL_SAFE_NO_PAD.decode(data).ok()?;
            if blob.len() < 12 + 16 {
                return Some(false);
            }
            let (nonce, sealed) = blob.split_at(12);
            let plain = Aes256Gcm::new(key.bytes.as_ref().into())
                .decrypt(
                    Nonce::from_slice(nonce),
                    Payload {
                        msg: sealed,
                        aad: AAD,
                    },
                )
                .ok()?;
            Some(plain == PLAINTEXT)
        };
        if opens().unwrap_or(false) {
            KeyCheckStatus::Holds
        } else {
            KeyCheckStatus::Mismatch
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seal::{Keyring, Sealer};

    #[test]
    fn checks_tell_keys_apart() {
        let old = Key::generate();
        let ring = Keyring::new(Key::generate()).with_older(old.clone());
        let check = ring.key_check(old.id()).unwrap();
        assert_eq!(check.key_id, old.id());
        assert!(!check.value.contains(old.to_base64().as_str()));
        assert_eq!(ring.verify_key_check(&check), KeyCheckStatus::Holds);
        assert_eq!(
            Keyring::ephemeral().verify_key_check(&check),
            KeyCheckStatus::Missing
        );
        // Same id, another key (as after a 32-bit id collision): a mismatch.
        let mut forged = KeyCheck::make(&Key::generate());
        forged.key_id = old.id().to_owned();
        forged.value = forged
            .value
            .replacen(forged.value.split('.').nth(1).unwrap(), old.id(), 1);
        assert_eq!(ring.verify_key_check(&forged), KeyCheckStatus::Mismatch);
        // A sealed secret cannot pass for a check value (other associated data).
        let id = crate::ProfileId::generate();
        let envelope = ring.seal(&id, "password", &"x".into()).unwrap();
        let fake = KeyCheck {
            key_id: ring.active_id().to_owned(),
            value: envelope,
        };
        assert_eq!(ring.verify_key_check(&fake), KeyCheckStatus::Mismatch);
        assert!(ring.key_check("nope").is_err());
    }
}
