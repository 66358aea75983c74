//! Bearer tokens kept as SHA-256 digests (a token file), checked in constant
//! time, and the middleware that turns a valid one into a [`Principal`].
//!
//! A token is 32 random bytes (`pbt_` + base64url), so a fast hash is enough
//! at rest: nobody can search a 256-bit space, so a slow password hash
//! (argon2, bcrypt) would add a cost to every request and no protection.

use std::collections::HashSet;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine as _;
use sha2::{Digest, Sha256};
use subtle::{Choice, ConditionallySelectable, ConstantTimeEq, CtOption};

use crate::principal::{Principal, Role, TenantId};

/// What every minted token starts with, so that one pasted into the token
/// file by mistake is recognised (and refused).
pub const TOKEN_PREFIX: &str = "pbt_";

type Digest32 = [u8; 32];

/// Bearer tokens and the principal each stands for, parsed from a token file.
///
/// One token a line: `sha256:<64 hex digits> <role> <tenant> [<name>]`;
/// blank lines and lines starting with `#` are skipped. The file holds
/// digests only: reading it gives nobody a token.
#[derive(Clone, Default)]
pub struct BearerTokens {
    entries: Vec<(Digest32, Principal)>,
}

/// A token file that cannot be used. Never quotes the file's content.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenFileError {
    /// The file could not be read.
    #[error("cannot read the token file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A line is not `sha256:<hex> <role> <tenant> [<name>]`.
    #[error("token file line {line}: {problem}")]
    Line {
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        problem: &'static str,
    },
}

impl BearerTokens {
    /// Reads a token file (at startup: this blocks).
    pub fn load(path: &Path) -> Result<Self, TokenFileError> {
        let text = std::fs::read_to_string(path).map_err(|source| TokenFileError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text)
    }

    /// Parses the text of a token file.
    pub fn parse(text: &str) -> Result<Self, TokenFileError> {
        let mut entries = Vec::new();
        let mut seen = HashSet::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = |problem| TokenFileError::Line {
                line: i + 1,
                problem,
            };
            let mut words = line.split_ascii_whitespace();
            let hash = words.next().unwrap_or_default();
            if hash.starts_with(TOKEN_PREFIX) {
                return Err(bad(
                    "this is a token, not its digest: store the line `server token new` prints",
                ));
            }
            let digest = hash
                .strip_prefix("sha256:")
                .and_then(|h| hex::decode(h).ok())
                .and_then(|d| Digest32::try_from(d).ok())
                .ok_or_else(|| bad("the first word must be sha256:<64 hex digits>"))?;
            let role: Role = words
                .next()
                .and_then(|r| r.parse().ok())
                .ok_or_else(|| bad("the second word must be a role: read, test, write or admin"))?;
            let tenant = words
                .next()
                .and_then(|t| TenantId::new(t).ok())
                .ok_or_else(|| bad("the third word must be a tenant id"))?;
            let name = words.next();
            if name.is_some_and(|n| TenantId::new(n).is_err()) {
                return Err(bad("a name is 1-64 ASCII letters, digits, '.', '_' or '-'"));
            }
            if words.next().is_some() {
                return Err(bad("too many words"));
            }
            if !seen.insert(digest) {
                return Err(bad("the same token is listed twice"));
            }
            let subject = match name {
                Some(n) => n.to_owned(),
                // A digest prefix names the token without revealing it.
                None => format!("sha256:{}", &hash[7..19]),
            };
            entries.push((digest, Principal::new(tenant, [role]).with_subject(subject)));
        }
        Ok(Self { entries })
    }

    /// How many tokens.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The principal `token` stands for. Every stored digest is compared, in
    /// full and in constant time, whichever matches: the time taken says
    /// nothing about which entry, or how much of one, matched. And what is
    /// compared is a digest, so not even a timing leak could reveal a
    /// token's prefix.
    pub fn verify(&self, token: &str) -> Option<Principal> {
        let digest: Digest32 = Sha256::digest(token.as_bytes()).into();
        let index: Option<usize> = self.find(&digest, |a, b| a.ct_eq(b)).into();
        index.map(|i| self.entries[i].1.clone())
    }

    /// The principal of the request's `Authorization: Bearer <token>`, if valid.
    pub fn authenticate(&self, headers: &HeaderMap) -> Option<Principal> {
        let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
        let (scheme, token) = value.split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return None;
        }
        self.verify(token.trim())
    }

    /// The index of the entry whose digest `eq` finds equal to `digest`,
    /// after calling `eq` on every entry (no early exit, no branch on a
    /// comparison's result).
    fn find(
        &self,
        digest: &Digest32,
        eq: impl Fn(&Digest32, &Digest32) -> Choice,
    ) -> CtOption<usize> {
        let mut found = Choice::from(0);
        let mut index = 0u64;
        for (i, (stored, _)) in self.entries.iter().enumerate() {
            let hit = eq(stored, digest);
            index.conditional_assign(&(i as u64), hit);
            found |= hit;
        }
        CtOption::new(index as usize, found)
    }
}

impl fmt::Debug for BearerTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BearerTokens")
            .field("tokens", &self.entries.len())
            .finish()
    }
}

/// Middleware: puts the [`Principal`] of a valid bearer token into the
/// request extensions, for the adapter's role checks. Adds nothing otherwise,
/// so a missing or wrong token meets the adapter's 401 (unless the API
/// [allows anonymous](crate::HttpApi::allow_anonymous) requests: do not
/// combine the two).
///
/// ```no_run
/// # fn demo(api: axum::Router, tokens: patchbay_http::BearerTokens) {
/// let app = api.layer(axum::middleware::from_fn_with_state(
///     std::sync::Arc::new(tokens),
///     patchbay_http::authenticate_bearer,
/// ));
/// # }
/// ```
pub async fn authenticate_bearer(
    State(tokens): State<Arc<BearerTokens>>,
    mut req: Request,
    next: Next,
) -> Response {
    if let Some(principal) = tokens.authenticate(req.headers()) {
        req.extensions_mut().insert(principal);
    }
    next.run(req).await
}

/// A fresh token and the token-file line for it.
pub struct MintedToken {
    token: String,
    line: String,
}

impl MintedToken {
    /// 32 random bytes from the OS for `role` in `tenant`, optionally named.
    pub fn new(role: Role, tenant: &TenantId, name: Option<&str>) -> Result<Self, String> {
        if name.is_some_and(|n| TenantId::new(n).is_err()) {
            return Err("a token name is 1-64 ASCII letters, digits, '.', '_' or '-'".into());
        }
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| format!("no randomness from the OS: {e}"))?;
        let token = format!(
            "{TOKEN_PREFIX}{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
        );
        let digest = hex::encode(Sha256::digest(token.as_bytes()));
        let mut line = format!("sha256:{digest} {role} {tenant}");
        if let Some(n) = name {
            line = format!("{line} {n}");
        }
        Ok(Self { token, line })
    }

    /// The token, to hand to its holder once. Not kept anywhere.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The line to append to the token file.
    pub fn line(&self) -> &str {
        &self.line
    }
}

impl fmt::Debug for MintedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MintedToken")
            .field("token", &"<redacted>")
            .field("line", &self.line)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    fn minted(role: Role, tenant: &str, name: Option<&str>) -> MintedToken {
        MintedToken::new(role, &TenantId::new(tenant).unwrap(), name).unwrap()
    }

    #[test]
    fn a_minted_token_verifies_and_its_line_holds_only_the_digest() {
        let a = minted(Role::Write, "acme", Some("ci"));
        let b = minted(Role::Read, "default", None);
        assert!(a.token().starts_with(TOKEN_PREFIX) && a.token().len() == 4 + 43);
        assert_ne!(a.token(), b.token());
        let file = format!("# tokens\n\n{}\n{}\n", a.line(), b.line());
        let body = &a.token()[TOKEN_PREFIX.len()..];
        assert!(!file.contains(body) && !file.contains(&body[..16]));
        assert!(!format!("{a:?}").contains(body));

        let tokens = BearerTokens::parse(&file).unwrap();
        assert_eq!(tokens.len(), 2);
        let p = tokens.verify(a.token()).expect("a is valid");
        assert_eq!(
            (p.tenant().as_str(), p.roles(), p.subject()),
            ("acme", &[Role::Write][..], Some("ci"))
        );
        let p = tokens.verify(b.token()).expect("b is valid");
        assert_eq!(p.roles(), [Role::Read]);
        assert!(p.subject().unwrap().starts_with("sha256:"));
        // A prefix, an extension, a one-character change: all refused.
        let t = a.token();
        for wrong in [
            &t[..t.len() - 1],
            &format!("{t}x"),
            &format!("{}A", &t[..t.len() - 1]),
            "",
            "pbt_",
        ] {
            assert!(tokens.verify(wrong).is_none(), "{wrong:?}");
        }
        assert!(!format!("{tokens:?}").contains(&a.line()[7..20]));
    }

    #[test]
    fn the_lookup_compares_every_entry_in_full_whatever_matches() {
        let lines: Vec<MintedToken> = (0..5)
            .map(|_| minted(Role::Read, "default", None))
            .collect();
        let file: String = lines.iter().map(|m| format!("{}\n", m.line())).collect();
        let tokens = BearerTokens::parse(&file).unwrap();
        let digest = |t: &str| -> Digest32 { Sha256::digest(t.as_bytes()).into() };
        for probe in [
            digest(lines[0].token()),
            digest(lines[4].token()),
            digest("nothing"),
        ] {
            let calls = Cell::new(0);
            let found = tokens.find(&probe, |a, b| {
                calls.set(calls.get() + 1);
                a.ct_eq(b)
            });
            // One full-width comparison per entry, for a first, a last and no match.
            assert_eq!(calls.get(), 5);
            let expected = lines.iter().position(|m| digest(m.token()) == probe);
            assert_eq!(Option::<usize>::from(found), expected);
        }
    }

    #[test]
    fn bad_lines_are_refused_by_number_without_quoting_them() {
        let ok = minted(Role::Admin, "default", None);
        let digest = ok.line().split(' ').next().unwrap().to_owned();
        let cases = [
            (ok.token().to_owned(), "this is a token"),
            (
                "sha256:abcd read default".to_owned(),
                "sha256:<64 hex digits>",
            ),
            (format!("{digest} root default"), "a role"),
            (format!("{digest} read"), "tenant id"),
            (format!("{digest} read ../x"), "tenant id"),
            (format!("{digest} read default n a"), "too many"),
            (format!("{digest} read default bad/name"), "a name"),
            (format!("{}\n{}", ok.line(), ok.line()), "twice"),
        ];
        for (text, problem) in cases {
            let e = BearerTokens::parse(&format!("# header\n{text}\n"))
                .unwrap_err()
                .to_string();
            let line = format!("line {}", 1 + text.lines().count());
            assert!(e.contains(&line) && e.contains(problem), "{e}");
            assert!(
                !e.contains(&ok.token()[4..]) && !e.contains(&digest[7..]),
                "{e}"
            );
        }
    }

    #[test]
    fn only_a_bearer_authorization_header_counts() {
        let m = minted(Role::Test, "default", None);
        let tokens = BearerTokens::parse(m.line()).unwrap();
        let with = |v: String| {
            let mut h = HeaderMap::new();
            h.insert(header::AUTHORIZATION, v.parse().unwrap());
            tokens.authenticate(&h)
        };
        assert!(with(format!("Bearer {}", m.token())).is_some());
        assert!(with(format!("bearer {}", m.token())).is_some());
        assert!(with(format!("Basic {}", m.token())).is_none());
        assert!(with(m.token().to_owned()).is_none());
        assert!(tokens.authenticate(&HeaderMap::new()).is_none());
    }
}
