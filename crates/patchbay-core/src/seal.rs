//! Secrets sealed at rest: AES-256-GCM envelopes with a key id, and a keyring
//! for rotation.

use std::fmt;
use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit, OsRng, Payload};
use aes_gcm::{AeadCore, Aes256Gcm, Nonce};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::key_check::{KeyCheck, KeyCheckStatus};
use crate::profile::ProfileId;

pub(crate) const PREFIX: &str = "pbs1";

/// Encrypts secret fields before they reach a repository and decrypts them
/// when a probe needs them. The envelope is bound to the profile id and
/// field name, so it cannot be moved to another profile or field.
pub trait Sealer: Send + Sync + 'static {
    /// Seals `secret` for `field` of `profile`.
    ///
    /// # Errors
    /// `Storage` if encryption fails.
    fn seal(&self, profile: &ProfileId, field: &str, secret: &SecretString) -> Result<String>;

    /// Opens an envelope made by [`seal`](Self::seal).
    ///
    /// # Errors
    /// `SecretUnavailable` (kind `sealed`, field `/config/<field>`, the
    /// message naming the profile and key id) when the key is unknown or the
    /// envelope does not authenticate (wrong key, tampering, moved envelope).
    fn open(&self, profile: &ProfileId, field: &str, envelope: &str) -> Result<SecretString>;

    /// Whether the envelope is sealed with a key other than the active one.
    fn needs_reseal(&self, envelope: &str) -> bool;

    /// The id of the key that sealed `envelope`, `None` when it is not an
    /// envelope of this sealer. Used to find what a key still seals.
    fn key_id_of<'a>(&self, envelope: &'a str) -> Option<&'a str>;

    /// The id of the key that seals.
    fn active_key_id(&self) -> &str;

    /// The ids of every key that opens, the active one first.
    fn key_ids(&self) -> Vec<String>;

    /// A [`KeyCheck`] for the held key `key_id`: proof, storable beside the
    /// sealed secrets, that a later keyring holds the same key.
    ///
    /// # Errors
    /// `Validation` on `/key_id` when this sealer holds no such key.
    fn key_check(&self, key_id: &str) -> Result<KeyCheck>;

    /// Whether this sealer holds the key that made `check`.
    fn verify_key_check(&self, check: &KeyCheck) -> KeyCheckStatus;
}

/// A 256-bit key. `Debug` shows only its id.
#[derive(Clone)]
pub struct Key {
    pub(crate) id: String,
    pub(crate) bytes: Zeroizing<[u8; 32]>,
}

impl Key {
    /// A key from 32 raw bytes. Its id is a key check value: derived from the
    /// key, so the same key always has the same id and ids reveal nothing.
    ///
    /// # Errors
    /// `Validation` when `bytes` is not 32 bytes long.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let arr: [u8; 32] = bytes
            .try_into()
            .map_err(|_| Error::invalid("/key", "an AES-256 key must be exactly 32 bytes"))?;
        let cipher = Aes256Gcm::new(&arr.into());
        let check = cipher
            .encrypt(&Nonce::default(), b"".as_slice())
            .expect("encrypting nothing cannot fail");
        let id = check[..4].iter().map(|b| format!("{b:02x}")).collect();
        Ok(Self {
            id,
            bytes: Zeroizing::new(arr),
        })
    }

    /// A fresh random key.
    pub fn generate() -> Self {
        let key = Aes256Gcm::generate_key(&mut OsRng);
        Self::from_bytes(key.as_slice()).expect("32 bytes")
    }

    /// A key from base64 text (standard alphabet, 32 bytes decoded).
    ///
    /// # Errors
    /// `Validation` when the text is not base64 of 32 bytes.
    pub fn from_base64(text: &str) -> Result<Self> {
        let bytes = Zeroizing::new(
            STANDARD
                .decode(text.trim())
                .map_err(|_| Error::invalid("/key", "the key is not valid base64"))?,
        );
        Self::from_bytes(&bytes)
    }

    /// A key from an environment variable holding base64.
    ///
    /// # Errors
    /// `Validation` when unset or malformed (the message names the variable).
    pub fn from_env(var: &str) -> Result<Self> {
        let text = Zeroizing::new(std::env::var(var).map_err(|_| {
            Error::invalid("/key", format!("environment variable {var} is not set"))
        })?);
        Self::from_base64(&text)
            .map_err(|_| Error::invalid("/key", format!("{var} must hold base64 of 32 bytes")))
    }

    /// A key from a file holding base64 text (as written by [`Key::to_base64`]).
    ///
    /// # Errors
    /// `Storage` when unreadable, `Validation` when malformed.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text =
            Zeroizing::new(std::fs::read_to_string(path).map_err(|e| {
                Error::storage(format!("cannot read key file {}", path.display()), e)
            })?);
        Self::from_base64(&text).map_err(|_| {
            Error::invalid(
                "/key",
                format!("{} must hold base64 of 32 bytes", path.display()),
            )
        })
    }

    /// The key as base64 text, for writing a key file.
    pub fn to_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(STANDARD.encode(*self.bytes))
    }

    /// The key id stored in every envelope.
    pub fn id(&self) -> &str {
        &self.id
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Key")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// One active key that seals, and older keys that can still open.
#[derive(Clone, Debug)]
pub struct Keyring {
    active: Key,
    older: Vec<Key>,
}

impl Keyring {
    /// A keyring sealing with `active`.
    pub fn new(active: Key) -> Self {
        Self {
            active,
            older: Vec::new(),
        }
    }

    /// A keyring with a random key that lives only in this process: enough
    /// for the memory store, useless for a durable one.
    pub fn ephemeral() -> Self {
        Self::new(Key::generate())
    }

    /// Adds a retired key that can still open envelopes.
    pub fn with_older(mut self, key: Key) -> Self {
        if key.id != self.active.id && !self.older.iter().any(|k| k.id == key.id) {
            self.older.push(key);
        }
        self
    }

    /// The id of the key that seals.
    pub fn active_id(&self) -> &str {
        &self.active.id
    }

    pub(crate) fn key(&self, id: &str) -> Option<&Key> {
        std::iter::once(&self.active)
            .chain(&self.older)
            .find(|k| k.id == id)
    }
}

fn aad(profile: &ProfileId, field: &str) -> Vec<u8> {
    format!("{profile}/{field}").into_bytes()
}

pub(crate) fn split(envelope: &str) -> Option<(&str, &str)> {
    let mut parts = envelope.splitn(3, '.');
    (parts.next()? == PREFIX).then_some(())?;
    Some((parts.next()?, parts.next()?))
}

impl Sealer for Keyring {
    fn seal(&self, profile: &ProfileId, field: &str, secret: &SecretString) -> Result<String> {
        let cipher = Aes256Gcm::new(self.active.bytes.as_ref().into());
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let aad = aad(profile, field);
        let payload = Payload {
            msg: secret.expose_secret().as_bytes(),
            aad: &aad,
        };
        let ciphertext = cipher
            .encrypt(&nonce, payload)
            .map_err(|_| Error::Storage {
                message: format!("cannot seal field {field} of profile {profile}"),
                source: None,
            })?;
        let mut blob = nonce.to_vec();
        blob.extend_from_slice(&ciphertext);
        Ok(format!(
            "{PREFIX}.{}.{}",
            self.active.id,
            URL_SAFE_NO_PAD.encode(blob)
        ))
    }

    fn open(&self, profile: &ProfileId, field: &str, envelope: &str) -> Result<SecretString> {
        let fail = |why: String| Error::SecretUnavailable {
            field: format!("/config/{field}"),
            kind: "sealed".to_owned(),
            message: format!("profile {profile}: {why}"),
        };
        let (kid, data) = split(envelope).ok_or_else(|| fail("not a sealed envelope".into()))?;
        let key = self
            .key(kid)
            .ok_or_else(|| fail(format!("key {kid} is not in the keyring")))?;
        let blob = URL_SAFE_NO_PAD
            .decode(data)
            .map_err(|_| fail("the envelope is corrupt".into()))?;
        if blob.len() < 12 + 16 {
            return Err(fail("the envelope is truncated".into()));
        }
        let (nonce, ciphertext) = blob.split_at(12);
        let cipher = Aes256Gcm::new(key.bytes.as_ref().into());
        let aad = aad(profile, field);
        let plain = Zeroizing::new(
            cipher
                .decrypt(
                    Nonce::from_slice(nonce),
                    Payload {
                        msg: ciphertext,
                        aad: &aad,
                    },
                )
                .map_err(|_| fail(format!("the envelope does not authenticate with key {kid}")))?,
        );
        let text = std::str::from_utf8(&plain).map_err(|_| fail("not UTF-8".into()))?;
        Ok(SecretString::from(text))
    }

    fn needs_reseal(&self, envelope: &str) -> bool {
        split(envelope).is_none_or(|(kid, _)| kid != self.active.id)
    }

    fn key_id_of<'a>(&self, envelope: &'a str) -> Option<&'a str> {
        split(envelope).map(|(kid, _)| kid)
    }

    fn active_key_id(&self) -> &str {
        &self.active.id
    }

    fn key_ids(&self) -> Vec<String> {
        std::iter::once(&self.active)
            .chain(&self.older)
            .map(|k| k.id.clone())
            .collect()
    }

    fn key_check(&self, key_id: &str) -> Result<KeyCheck> {
        let key = self.key(key_id).ok_or_else(|| {
            Error::invalid("/key_id", format!("key {key_id} is not in the keyring"))
        })?;
        Ok(KeyCheck::make(key))
    }

    fn verify_key_check(&self, check: &KeyCheck) -> KeyCheckStatus {
        match self.key(&check.key_id) {
            None => KeyCheckStatus::Missing,
            Some(key) => check.verify(key),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_rotate() {
        let id = ProfileId::generate();
        let old = Keyring::ephemeral();
        let env = old.seal(&id, "password", &"s3cret".into()).unwrap();
        assert!(!env.contains("s3cret"));
        assert_eq!(
            old.open(&id, "password", &env).unwrap().expose_secret(),
            "s3cret"
        );
        // Bound to profile and field.
        assert!(old.open(&id, "other", &env).is_err());
        assert!(old.open(&ProfileId::generate(), "password", &env).is_err());
        // Rotation: a new keyring with the old key retired still opens.
        let new = Keyring::ephemeral().with_older(old.active.clone());
        assert!(new.needs_reseal(&env));
        assert_eq!(
            new.open(&id, "password", &env).unwrap().expose_secret(),
            "s3cret"
        );
        // A keyring without the key: SECRET_UNAVAILABLE naming the profile,
        // field and key id, and no secret.
        let err = Keyring::ephemeral()
            .open(&id, "password", &env)
            .unwrap_err();
        assert_eq!(err.code(), "SECRET_UNAVAILABLE");
        assert_eq!(
            err.details(),
            serde_json::json!({"field": "/config/password", "kind": "sealed"})
        );
        let err = err.to_string();
        assert!(
            err.contains(id.as_str()) && err.contains(old.active_id()),
            "{err}"
        );
        assert!(!err.contains("s3cret"));
    }

    #[test]
    fn key_ids_are_stable() {
        let k = Key::generate();
        let again = Key::from_base64(&k.to_base64()).unwrap();
        assert_eq!(k.id(), again.id());
        assert!(!format!("{k:?}").contains(k.to_base64().as_str()));
    }
}
