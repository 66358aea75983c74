//! Tenants: the namespace every profile lives in.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

/// An opaque tenant id: 1–64 ASCII letters, digits, `.`, `_` or `-`, starting
/// with a letter or digit. Compared exactly (case-sensitive). The default
/// tenant is `default`.
///
/// Every profile belongs to one tenant; the repository contract scopes every
/// read and write by it. Never contains `/` (cursors use it as a separator).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TenantId(Arc<str>);

/// The longest tenant id.
pub const MAX_TENANT_LEN: usize = 64;

/// A tenant id that breaks the rules of [`TenantId`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "a tenant id is 1-64 ASCII letters, digits, '.', '_' or '-', starting with a letter or digit"
)]
pub struct InvalidTenant;

impl TenantId {
    /// The tenant of single-tenant use.
    pub const DEFAULT: &'static str = "default";

    /// Checks `id` against the rules.
    pub fn new(id: &str) -> Result<Self, InvalidTenant> {
        let mut chars = id.chars();
        let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
        let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if first_ok && rest_ok && id.len() <= MAX_TENANT_LEN {
            Ok(Self(Arc::from(id)))
        } else {
            Err(InvalidTenant)
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for TenantId {
    fn default() -> Self {
        Self(Arc::from(Self::DEFAULT))
    }
}

impl FromStr for TenantId {
    type Err = InvalidTenant;
    fn from_str(s: &str) -> Result<Self, InvalidTenant> {
        Self::new(s)
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TenantId({:?})", &*self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_ids_are_checked() {
        for ok in ["default", "a", "Org-1.team_2", &"x".repeat(64)] {
            assert_eq!(TenantId::new(ok).unwrap().as_str(), ok);
        }
        for bad in ["", "-a", ".a", "a b", "a/b", "a\0", "é", &"x".repeat(65)] {
            assert_eq!(TenantId::new(bad), Err(InvalidTenant), "{bad:?}");
        }
        assert_eq!(TenantId::default().as_str(), "default");
    }
}
