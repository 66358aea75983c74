//! Secret references (`{{ env:NAME }}`, `{{ file:/path }}`) and their resolution.

use async_trait::async_trait;
use secrecy::SecretString;

/// A reference to a secret kept elsewhere, written `{{ scheme:argument }}` in
/// a secret field. Resolved only when a probe needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretRef {
    /// `env`, `file`, or a host-defined scheme such as `vault`.
    pub scheme: String,
    /// The variable name, path, or key.
    pub argument: String,
}

impl SecretRef {
    /// Parses a field value. `None` means it is a plain secret, not a
    /// reference; `Some(Err)` means it looks like a reference but is malformed.
    pub fn parse(value: &str) -> Option<Result<Self, String>> {
        let inner = value
            .trim()
            .strip_prefix("{{")?
            .strip_suffix("}}")
            .map(str::trim);
        let Some(inner) = inner else {
            return Some(Err(
                "a reference must be written {{ scheme:argument }}".into()
            ));
        };
        let Some((scheme, argument)) = inner.split_once(':') else {
            return Some(Err(
                "a reference must be written {{ scheme:argument }}".into()
            ));
        };
        let (scheme, argument) = (scheme.trim(), argument.trim());
        if scheme.is_empty()
            || !scheme.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
            || argument.is_empty()
        {
            return Some(Err(
                "a reference needs a lowercase scheme and an argument, like {{ env:NAME }}".into(),
            ));
        }
        Some(Ok(Self {
            scheme: scheme.to_owned(),
            argument: argument.to_owned(),
        }))
    }
}

/// Why a reference could not be resolved. Never contains the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ResolveError(pub String);

/// Turns references into secret values at probe time. Hosts implement this
/// for Vault, a KMS, etc., and may fall back to
/// [`EnvFileResolver`](crate::EnvFileResolver).
///
/// References are a privilege of the host, not of API callers: a resolver
/// refuses, in [`permits`](Self::permits), every reference the host has not
/// allowed, and the service calls it both when a profile is saved and again
/// before each resolution. The service calls [`resolve`](Self::resolve) only
/// after a probe slot is taken, and cuts it off at the probe's deadline.
#[async_trait]
pub trait SecretResolver: Send + Sync + 'static {
    /// Whether `scheme` is understood at all.
    fn supports(&self, scheme: &str) -> bool;

    /// Whether this host lets profiles use `reference`; judged on the
    /// reference's text alone, without reading what it names. The default
    /// allows every reference of a [supported](Self::supports) scheme.
    ///
    /// # Errors
    /// Why the reference is refused, never a secret.
    fn permits(&self, reference: &SecretRef) -> Result<(), ResolveError> {
        if self.supports(&reference.scheme) {
            Ok(())
        } else {
            Err(ResolveError(format!(
                "unknown secret reference scheme {:?}",
                reference.scheme
            )))
        }
    }

    /// The secret behind `reference`.
    ///
    /// # Errors
    /// A message naming what is missing, never the secret.
    async fn resolve(&self, reference: &SecretRef) -> Result<SecretString, ResolveError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_references() {
        assert_eq!(SecretRef::parse("hunter2"), None);
        let r = SecretRef::parse("{{ env:PG_PASS }}").unwrap().unwrap();
        assert_eq!((r.scheme.as_str(), r.argument.as_str()), ("env", "PG_PASS"));
        let r = SecretRef::parse("{{file:/run/secrets/x}}")
            .unwrap()
            .unwrap();
        assert_eq!(r.argument, "/run/secrets/x");
        assert!(SecretRef::parse("{{ nope }}").unwrap().is_err());
        assert!(SecretRef::parse("{{ env: }}").unwrap().is_err());
        assert!(SecretRef::parse("{{ env:X").unwrap().is_err());
    }
}

/// A secret field of a connector's typed config: deserializes from a string,
/// publishes `{"type": "string", "writeOnly": true}` in the schema, and hides
/// its value from `Debug`. Use it instead of `String` for passwords and tokens.
#[derive(Clone, serde::Deserialize)]
#[serde(transparent)]
pub struct Secret(SecretString);

impl Secret {
    /// The value, for handing to a client library.
    pub fn expose(&self) -> &str {
        use secrecy::ExposeSecret;
        self.0.expose_secret()
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Self(SecretString::from(s))
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl schemars::JsonSchema for Secret {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Secret".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "string", "writeOnly": true })
    }
}
