//! Who is calling: a [`Principal`] (tenant + roles) that the host's own
//! authentication puts into the request extensions, and the role lattice the
//! adapter checks it against.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

pub use patchbay_core::tenant::{InvalidTenant, TenantId, MAX_TENANT_LEN};

/// What a caller may do. The roles form a chain, each implying the ones
/// before it: `read` < `test` < `write` < `admin`.
///
/// - `read`: list and get profiles, dependents, connectors, the document.
/// - `test`: also test configs and profiles and run autocomplete — these open
///   stored secrets and make the server connect out, so reading is not enough.
/// - `write`: also create, update, delete, attach. A writer can already put
///   any config it likes into a profile and have it tested by whoever may,
///   so withholding `test` from it would protect nothing.
/// - `admin`: also the administrative routes to come (audit, key rotation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Read profiles and metadata.
    Read,
    /// Open secrets to test and autocomplete.
    Test,
    /// Change profiles.
    Write,
    /// Everything.
    Admin,
}

/// Text that names no role.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a role is one of read, test, write, admin")]
pub struct InvalidRole;

impl Role {
    /// Every role, weakest first.
    pub const ALL: [Role; 4] = [Role::Read, Role::Test, Role::Write, Role::Admin];

    /// `read`, `test`, `write` or `admin`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Read => "read",
            Role::Test => "test",
            Role::Write => "write",
            Role::Admin => "admin",
        }
    }

    /// Whether holding `self` allows what `needed` allows.
    pub fn implies(self, needed: Role) -> bool {
        self >= needed
    }
}

impl FromStr for Role {
    type Err = InvalidRole;
    fn from_str(s: &str) -> Result<Self, InvalidRole> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or(InvalidRole)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An authenticated caller: the tenant it acts in, the roles it holds, and
/// an optional subject (a token's name, a user id) for logs and the audit
/// trail to come — never a credential.
///
/// The host's authentication layer inserts it into the request extensions
/// (`req.extensions_mut().insert(principal)`); the adapter refuses a request
/// without one (401 `UNAUTHENTICATED`) unless the API was built with
/// [`HttpApi::allow_anonymous`](crate::HttpApi::allow_anonymous), and one
/// whose roles do not cover the route (403 `FORBIDDEN`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    tenant: TenantId,
    roles: Vec<Role>,
    subject: Option<Arc<str>>,
}

impl Principal {
    /// A principal of `tenant` holding `roles`.
    pub fn new(tenant: TenantId, roles: impl IntoIterator<Item = Role>) -> Self {
        let mut roles: Vec<Role> = roles.into_iter().collect();
        roles.sort_unstable();
        roles.dedup();
        Self {
            tenant,
            roles,
            subject: None,
        }
    }

    /// The `admin` of the default tenant: what a single-user host without
    /// authentication means by "anyone who reaches me".
    pub fn admin() -> Self {
        Self::new(TenantId::default(), [Role::Admin])
    }

    /// Names the caller (a token's name, a user id) for logs and audit.
    pub fn with_subject(mut self, subject: impl Into<Arc<str>>) -> Self {
        self.subject = Some(subject.into());
        self
    }

    /// The tenant the caller acts in.
    pub fn tenant(&self) -> &TenantId {
        &self.tenant
    }

    /// The roles held, weakest first, without duplicates.
    pub fn roles(&self) -> &[Role] {
        &self.roles
    }

    /// The subject, when the host named one.
    pub fn subject(&self) -> Option<&str> {
        self.subject.as_deref()
    }

    /// Whether some held role implies `needed`.
    pub fn allows(&self, needed: Role) -> bool {
        self.roles.iter().any(|r| r.implies(needed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_form_a_chain() {
        use Role::*;
        let allowed = |held: Role| -> Vec<Role> {
            Role::ALL.into_iter().filter(|n| held.implies(*n)).collect()
        };
        assert_eq!(allowed(Read), [Read]);
        assert_eq!(allowed(Test), [Read, Test]);
        assert_eq!(allowed(Write), [Read, Test, Write]);
        assert_eq!(allowed(Admin), [Read, Test, Write, Admin]);
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>(), Ok(r));
        }
        assert_eq!("Admin".parse::<Role>(), Err(InvalidRole));
    }

    #[test]
    fn a_principal_allows_what_its_strongest_role_implies() {
        let p = Principal::new(TenantId::default(), [Role::Test, Role::Read, Role::Test]);
        assert_eq!(p.roles(), [Role::Read, Role::Test]);
        assert!(p.allows(Role::Read) && p.allows(Role::Test));
        assert!(!p.allows(Role::Write) && !p.allows(Role::Admin));
        assert!(!Principal::new(TenantId::default(), Vec::new()).allows(Role::Read));
        assert!(Principal::admin().allows(Role::Admin));
        assert_eq!(Principal::admin().with_subject("ci").subject(), Some("ci"));
    }
}
