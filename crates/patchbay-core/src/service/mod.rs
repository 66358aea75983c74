//! [`ProfileService`]: the one entry point over a repository and connectors.

mod audit;
mod compare;
mod config;
mod crud;
mod keys;
mod managed;
mod named;
mod probe;
mod resolve;
mod uri;
mod watch;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

pub use compare::CheckedProfile;
pub use keys::{ResealReport, SkippedProfile};
pub use managed::{MANAGED_BY_LABEL, RESERVED_LABEL_PREFIX};

use crate::connector::Connector;
use crate::error::Result;
use crate::policy::NetworkPolicy;
use crate::registry::ConnectorRegistry;
use crate::repository::ProfileRepository;
use crate::seal::{Keyring, Sealer};
use crate::secret::SecretResolver;
use crate::secret_access::{EnvFileResolver, SecretAccess};
use crate::tenant::TenantId;

/// Probe deadline when the caller gives none.
pub const DEFAULT_PROBE_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest deadline a caller may ask for.
pub const DEFAULT_MAX_PROBE_TIMEOUT: Duration = Duration::from_secs(60);
/// Probes running at once before further ones wait.
pub const DEFAULT_MAX_CONCURRENT_PROBES: usize = 32;

/// Validates, seals, stores, probes. Cheap to clone (shared inside).
///
/// Every operation a host offers its users goes through here; the HTTP
/// adapter only parses and renders.
///
/// A service works within one tenant: the default one from
/// [`build`](ProfileServiceBuilder::build), another from
/// [`tenant`](Self::tenant) (a cheap clone sharing everything else).
#[derive(Clone)]
pub struct ProfileService {
    inner: Arc<Inner>,
    tenant: TenantId,
    /// The actor recorded in audit events ([`acting_as`](Self::acting_as)).
    principal: Option<Arc<str>>,
    /// Acting as a provisioning source ([`provisioner`](Self::provisioner)).
    provisioning: bool,
}

struct Inner {
    repo: Arc<dyn ProfileRepository>,
    registry: ConnectorRegistry,
    sealer: Arc<dyn Sealer>,
    resolver: Arc<dyn SecretResolver>,
    policy: Arc<NetworkPolicy>,
    probe_timeout: Duration,
    max_probe_timeout: Duration,
    probes: Semaphore,
    on_secret_access: Option<resolve::AccessHook>,
    /// DNS lookups in flight, each holding a permit until `getaddrinfo`
    /// really returns (a lookup cut off at the deadline still holds a
    /// blocking thread), so slow resolvers cannot exhaust the blocking pool.
    lookups: Arc<Semaphore>,
    /// API edits of provisioned profiles are allowed (they drift from their source).
    allow_drift: bool,
}

impl std::fmt::Debug for ProfileService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProfileService")
            .field("tenant", &self.tenant)
            .field("connectors", &self.inner.registry.kinds())
            .field("policy", &self.inner.policy)
            .field("probe_timeout", &self.inner.probe_timeout)
            .finish_non_exhaustive()
    }
}

impl ProfileService {
    /// Starts building a service over `repo`.
    pub fn builder(repo: Arc<dyn ProfileRepository>) -> ProfileServiceBuilder {
        ProfileServiceBuilder {
            repo,
            registry: ConnectorRegistry::new(),
            connectors: Vec::new(),
            sealer: None,
            resolver: Arc::new(EnvFileResolver::default()),
            policy: NetworkPolicy::default(),
            probe_timeout: DEFAULT_PROBE_TIMEOUT,
            max_probe_timeout: DEFAULT_MAX_PROBE_TIMEOUT,
            max_concurrent_probes: DEFAULT_MAX_CONCURRENT_PROBES,
            on_secret_access: None,
            allow_drift: false,
        }
    }

    /// The same service scoped to `tenant`: every read, write, probe,
    /// resolve and watch sees only that tenant's profiles. Cheap (shares the
    /// store, connectors, keys and probe slots).
    pub fn tenant(&self, tenant: TenantId) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
            tenant,
            principal: self.principal.clone(),
            provisioning: self.provisioning,
        }
    }

    /// The tenant this service works within.
    pub fn tenant_id(&self) -> &TenantId {
        &self.tenant
    }

    /// The repository behind the service.
    pub fn repository(&self) -> &Arc<dyn ProfileRepository> {
        &self.inner.repo
    }

    /// The repository's [revision](ProfileRepository::revision): while it is
    /// `Some` and unchanged, what the service returned for a read is still
    /// true. Adapters use it to reuse rendered responses.
    pub fn revision(&self) -> Option<u64> {
        self.inner.repo.revision()
    }
}

/// Configures a [`ProfileService`].
pub struct ProfileServiceBuilder {
    repo: Arc<dyn ProfileRepository>,
    registry: ConnectorRegistry,
    connectors: Vec<Arc<dyn Connector>>,
    sealer: Option<Arc<dyn Sealer>>,
    resolver: Arc<dyn SecretResolver>,
    policy: NetworkPolicy,
    probe_timeout: Duration,
    max_probe_timeout: Duration,
    max_concurrent_probes: usize,
    on_secret_access: Option<resolve::AccessHook>,
    allow_drift: bool,
}

impl ProfileServiceBuilder {
    /// Registers a connector.
    pub fn connector(mut self, connector: impl Connector) -> Self {
        self.connectors.push(Arc::new(connector));
        self
    }

    /// Registers a shared connector.
    pub fn connector_arc(mut self, connector: Arc<dyn Connector>) -> Self {
        self.connectors.push(connector);
        self
    }

    /// Seals secrets with this (default: an ephemeral in-process keyring,
    /// fine for the memory store only).
    pub fn sealer(mut self, sealer: impl Sealer) -> Self {
        self.sealer = Some(Arc::new(sealer));
        self
    }

    /// Resolves secret references (default: an [`EnvFileResolver`] that
    /// allows none). The resolver decides which references profiles may
    /// hold; the service calls it only inside a probe's slot and deadline.
    pub fn resolver(mut self, resolver: impl SecretResolver) -> Self {
        self.resolver = Arc::new(resolver);
        self
    }

    /// Resolves `{{ env:… }}` / `{{ file:… }}` references within `access`
    /// (shorthand for `.resolver(EnvFileResolver::new(access))`).
    pub fn secret_access(self, access: SecretAccess) -> Self {
        self.resolver(EnvFileResolver::new(access))
    }

    /// Which addresses probes may contact (default: [`NetworkPolicy::default`]).
    pub fn network_policy(mut self, policy: NetworkPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Probe deadline when the caller gives none (default 10 s).
    pub fn probe_timeout(mut self, timeout: Duration) -> Self {
        self.probe_timeout = timeout;
        self
    }

    /// Hard cap on any probe deadline (default 60 s).
    pub fn max_probe_timeout(mut self, timeout: Duration) -> Self {
        self.max_probe_timeout = timeout;
        self
    }

    /// Probes running at once (default 32); more wait, within their deadline.
    pub fn max_concurrent_probes(mut self, n: usize) -> Self {
        self.max_concurrent_probes = n.max(1);
        self
    }

    /// Let API callers edit and delete profiles a provisioning source
    /// manages (default: refused with `PROFILE_MANAGED`); the next apply of
    /// the source puts them back.
    pub fn allow_drift(mut self, allow: bool) -> Self {
        self.allow_drift = allow;
        self
    }

    /// Builds the service.
    ///
    /// # Errors
    /// `Validation` when a connector's schema does not compile.
    pub fn build(mut self) -> Result<ProfileService> {
        for c in self.connectors {
            self.registry.register(c)?;
        }
        let max = self.max_probe_timeout;
        Ok(ProfileService {
            inner: Arc::new(Inner {
                repo: self.repo,
                registry: self.registry,
                sealer: self
                    .sealer
                    .unwrap_or_else(|| Arc::new(Keyring::ephemeral())),
                resolver: self.resolver,
                policy: Arc::new(self.policy),
                probe_timeout: self.probe_timeout.min(max),
                max_probe_timeout: max,
                probes: Semaphore::new(self.max_concurrent_probes),
                on_secret_access: self.on_secret_access,
                lookups: Arc::new(Semaphore::new(self.max_concurrent_probes)),
                allow_drift: self.allow_drift,
            }),
            tenant: TenantId::default(),
            principal: None,
            provisioning: false,
        })
    }

    /// Builds the service and checks its keyring against the store
    /// ([`ProfileService::verify_keyring`]): what a host calls at startup.
    ///
    /// # Errors
    /// As [`build`](Self::build); `SecretUnavailable` on `/keyring` naming
    /// the key ids when the keyring cannot open the stored secrets;
    /// `Storage`; `Unsupported` for a store that records no key checks.
    pub async fn build_checked(self) -> Result<ProfileService> {
        let service = self.build()?;
        service.verify_keyring().await?;
        Ok(service)
    }
}
