//! Probes: network policy, deadline, concurrency limit, secret scrubbing.

use std::future::Future;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;
use serde_json::{Map, Value};
use tokio::time::{timeout_at, Instant};

use super::config::{scrub, PlainSecrets};
use super::ProfileService;
use crate::audit::AuditAction;
use crate::connector::{
    AutocompleteQuery, Endpoint, ResolvedConfig, Suggestion, TestReport, MAX_SUGGESTION_LIMIT,
};
use crate::error::{Error, FailureReason, FieldError, Result, ValidationErrors};
use crate::input::check_line;
use crate::profile::{NewProfile, ProfileId};
use crate::registry::Registered;

fn elapsed_ms(start: Instant) -> u64 {
    u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX)
}

impl ProfileService {
    /// Tests an unsaved config. `timeout` defaults to the service's probe
    /// timeout and is capped at its maximum.
    ///
    /// # Errors
    /// `UnknownConnector`; `Validation`; `TargetForbidden`; `ConnectionFailed`
    /// with a classified reason (`timeout` at the deadline).
    pub async fn test_config(
        &self,
        new: &NewProfile,
        timeout: Option<Duration>,
    ) -> Result<TestReport> {
        let reg = self.inner.registry.get(&new.connector)?;
        let mut errors = Vec::new();
        if !new.name.is_empty() {
            errors.extend(crate::profile::validate_name(&new.name).err());
        }
        let mut config = new.config.clone();
        crate::input::integral_numbers(&mut config);
        self.check_config(reg, &config, &mut errors);
        ValidationErrors(errors).into_result()?;
        let (public, secrets) = Self::split(reg, config);
        let connector = &reg.connector;
        self.probe(
            reg,
            &public,
            secrets,
            timeout,
            |config, deadline| async move { connector.test(&config, deadline).await },
        )
        .await
    }

    /// Tests a saved profile.
    ///
    /// # Errors
    /// As [`test_config`](Self::test_config), plus `NotFound`.
    pub async fn test_profile(
        &self,
        id: &ProfileId,
        timeout: Option<Duration>,
    ) -> Result<TestReport> {
        let profile = match self.inner.repo.get(&self.tenant, id).await {
            Ok(p) => p,
            Err(e) => {
                self.audit_failure(AuditAction::Test, Some(id), None, &e)
                    .await;
                return Err(e);
            }
        };
        let reg = self.inner.registry.get(&profile.connector)?;
        self.audit(&profile, "test", "test").await?;
        let secrets = self.open(&profile)?;
        let connector = &reg.connector;
        self.probe(
            reg,
            &profile.config,
            secrets,
            timeout,
            |config, deadline| async move { connector.test(&config, deadline).await },
        )
        .await
    }

    /// Suggestions (schemas, tables, topics…) from a saved profile's system.
    ///
    /// # Errors
    /// `NotFound`; `Unsupported` for a type the connector does not serve;
    /// `Validation` for a limit outside 1..=1000; probe errors as for tests.
    pub async fn autocomplete(
        &self,
        id: &ProfileId,
        query: &AutocompleteQuery,
    ) -> Result<Vec<Suggestion>> {
        let mut errors = Vec::new();
        if query.limit == 0 || query.limit > MAX_SUGGESTION_LIMIT {
            errors.push(FieldError::new("/limit", "must be between 1 and 1000"));
        }
        let params = [
            ("/type", Some(&query.kind)),
            ("/parent", query.parent.as_ref()),
            ("/prefix", query.prefix.as_ref()),
        ];
        for (path, value) in params {
            if let Some(value) = value {
                errors.extend(check_line(path, value).err());
            }
        }
        ValidationErrors(errors).into_result()?;
        let profile = match self.inner.repo.get(&self.tenant, id).await {
            Ok(p) => p,
            Err(e) => {
                self.audit_failure(AuditAction::Autocomplete, Some(id), None, &e)
                    .await;
                return Err(e);
            }
        };
        let reg = self.inner.registry.get(&profile.connector)?;
        let types = reg.connector.autocomplete_types();
        if !types.contains(&query.kind.as_str()) {
            return Err(Error::Unsupported(if types.is_empty() {
                format!("the {} connector offers no autocomplete", profile.connector)
            } else {
                format!(
                    "the {} connector offers autocomplete of type {}, not {:?}",
                    profile.connector,
                    types.join(", "),
                    query.kind
                )
            }));
        }
        self.audit(&profile, "autocomplete", &query.kind).await?;
        let secrets = self.open(&profile)?;
        let connector = &reg.connector;
        self.probe(reg, &profile.config, secrets, None, |config, deadline| async move {
            connector.autocomplete(&config, query, deadline).await
        })
        .await
    }

    /// Runs one probe, in this order so that every step is bounded by the
    /// deadline and by the number of probe slots: take a slot → resolve
    /// secret references → the connector's endpoints → DNS and the network
    /// policy → run `op` with the checked addresses until the deadline.
    async fn probe<'a, T, F, Fut>(
        &'a self,
        reg: &'a Registered,
        public: &Map<String, Value>,
        secrets: PlainSecrets,
        timeout: Option<Duration>,
        op: F,
    ) -> Result<T>
    where
        F: FnOnce(ResolvedConfig, Instant) -> Fut,
        Fut: Future<Output = Result<T>> + 'a,
    {
        let start = Instant::now();
        let budget = timeout
            .unwrap_or(self.inner.probe_timeout)
            .min(self.inner.max_probe_timeout);
        let deadline = start + budget;
        let kind = reg.connector.kind();
        let mut plain = Vec::new();
        let result = async {
            let _permit = timeout_at(deadline, self.inner.probes.acquire())
                .await
                .map_err(|_| {
                    timeout_error(format!(
                        "no probe slot became free within {} ms",
                        budget.as_millis()
                    ))
                })?
                .expect("the semaphore is never closed");
            let mut config = self
                .resolve_secrets(public, secrets, deadline, &mut plain)
                .await?;
            let endpoints = reg.connector.endpoints(&config)?;
            for (endpoint, addrs) in self.check_policy(endpoints, deadline, budget).await? {
                config = config.with_checked_addrs(endpoint, addrs);
            }
            // A little grace so the connector's own, more precise, timeout
            // message wins the race against this hard cut.
            let cut = deadline + budget / 20;
            match timeout_at(cut, op(config, deadline)).await {
                Ok(r) => r,
                Err(_) => Err(timeout_error(format!(
                    "no answer within {} ms",
                    budget.as_millis()
                ))),
            }
        }
        .await;
        finish(result, kind, start, &plain)
    }

    /// Resolves every endpoint and checks each address; returns what each
    /// endpoint resolved to. DNS failures are classified `dns`.
    async fn check_policy(
        &self,
        endpoints: Vec<Endpoint>,
        deadline: Instant,
        budget: Duration,
    ) -> Result<Vec<(Endpoint, Vec<SocketAddr>)>> {
        let mut checked = Vec::with_capacity(endpoints.len());
        for ep in endpoints {
            let target = ep.to_string();
            if !self.inner.policy.permits_host(&ep.host) {
                tracing::warn!(%target, "probe host name forbidden");
                return Err(Error::TargetForbidden {
                    address: ep.host.clone(),
                    target,
                });
            }
            let addrs = self.lookup(&ep, deadline, budget).await?;
            for addr in &addrs {
                if !self.inner.policy.permits(addr.ip(), addr.port()) {
                    tracing::warn!(%target, address = %addr.ip(), "probe target forbidden");
                    return Err(Error::TargetForbidden {
                        target,
                        address: addr.ip().to_string(),
                    });
                }
            }
            checked.push((ep, addrs));
        }
        Ok(checked)
    }

    /// The addresses of `ep`, by the deadline. An IP literal needs no lookup;
    /// a name is resolved on a blocking thread that keeps a lookup permit
    /// until `getaddrinfo` returns, even after the probe gave up on it.
    async fn lookup(
        &self,
        ep: &Endpoint,
        deadline: Instant,
        budget: Duration,
    ) -> Result<Vec<SocketAddr>> {
        if let Ok(ip) = ep.host.parse::<IpAddr>() {
            return Ok(vec![SocketAddr::new(ip, ep.port)]);
        }
        let late = || {
            timeout_error(format!(
                "resolving {} took longer than {} ms",
                ep.host,
                budget.as_millis()
            ))
        };
        let permit = timeout_at(deadline, Arc::clone(&self.inner.lookups).acquire_owned())
            .await
            .map_err(|_| late())?
            .expect("the semaphore is never closed");
        let target = (ep.host.clone(), ep.port);
        let lookup = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            target.to_socket_addrs().map(|a| a.collect::<Vec<_>>())
        });
        let addrs = timeout_at(deadline, lookup)
            .await
            .map_err(|_| late())?
            .map_err(|_| late())?
            .map_err(|e| {
                Error::connection_failed(
                    FailureReason::Dns,
                    format!("cannot resolve {}: {e}", ep.host),
                )
            })?;
        if addrs.is_empty() {
            return Err(Error::connection_failed(
                FailureReason::Dns,
                format!("{} resolves to no address", ep.host),
            ));
        }
        Ok(addrs)
    }
}

fn timeout_error(message: String) -> Error {
    Error::connection_failed(FailureReason::Timeout, message)
}

/// Stamps latency on failures, scrubs secrets out of every message, logs.
fn finish<T>(result: Result<T>, kind: &str, start: Instant, secrets: &[SecretString]) -> Result<T> {
    let ms = elapsed_ms(start);
    match result {
        Ok(v) => {
            tracing::debug!(connector = kind, latency_ms = ms, "probe succeeded");
            Ok(v)
        }
        Err(Error::ConnectionFailed(mut f)) => {
            f.message = scrub(&f.message, secrets);
            f.latency_ms.get_or_insert(ms);
            tracing::info!(connector = kind, reason = f.reason.as_str(), latency_ms = ms, message = %f.message, "probe failed");
            Err(Error::ConnectionFailed(f))
        }
        Err(Error::Unsupported(m)) => Err(Error::Unsupported(scrub(&m, secrets))),
        Err(Error::SecretUnavailable {
            field,
            kind: scheme,
            message,
        }) => {
            let message = scrub(&message, secrets);
            tracing::info!(connector = kind, %field, reference = %scheme, %message, "secret unavailable");
            Err(Error::SecretUnavailable {
                field,
                kind: scheme,
                message,
            })
        }
        // The source is logged by adapters: it is scrubbed too (as text).
        Err(Error::Storage { message, source }) => Err(Error::Storage {
            message: scrub(&message, secrets),
            source: source.map(|s| scrub(&chain(&*s), secrets).into()),
        }),
        Err(Error::Validation(mut v)) => {
            for e in &mut v.0 {
                e.message = scrub(&e.message, secrets);
            }
            Err(Error::Validation(v))
        }
        Err(e) => Err(e),
    }
}

/// An error and its sources as one line.
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut next = error.source();
    while let Some(e) = next {
        text.push_str(": ");
        text.push_str(&e.to_string());
        next = e.source();
    }
    text
}
