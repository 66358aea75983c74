//! Probes: network policy, deadline, concurrency limit, secret scrubbing.

use std::future::Future;
use std::time::Duration;

use secrecy::SecretString;
use serde_json::{Map, Value};
use tokio::time::{timeout_at, Instant};

use super::config::{scrub, PlainSecrets};
use super::ProfileService;
use crate::connector::{
    AutocompleteQuery, Endpoint, ResolvedConfig, Suggestion, TestReport, MAX_SUGGESTION_LIMIT,
};
use crate::error::{Error, FailureReason, Result, ValidationErrors};
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
        self.check_config(reg, &new.config, &mut errors);
        ValidationErrors(errors).into_result()?;
        let (public, secrets) = Self::split(reg, new.config.clone());
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
        let profile = self.inner.repo.get(id).await?;
        let reg = self.inner.registry.get(&profile.connector)?;
        self.audit(&profile, "test", "test");
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
        if query.limit == 0 || query.limit > MAX_SUGGESTION_LIMIT {
            return Err(Error::invalid("/limit", "must be between 1 and 1000"));
        }
        let profile = self.inner.repo.get(id).await?;
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
        self.audit(&profile, "autocomplete", &query.kind);
        let secrets = self.open(&profile)?;
        let connector = &reg.connector;
        self.probe(reg, &profile.config, secrets, None, |config, deadline| async move {
            connector.autocomplete(&config, query, deadline).await
        })
        .await
    }

    /// Runs one probe: resolve secrets, check every endpoint against the
    /// network policy, wait for a probe slot, then run `op` until the deadline.
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
        let (config, plain) = self.resolve_secrets(public, secrets).await?;
        let result = async {
            let endpoints = reg.connector.endpoints(&config)?;
            self.check_policy(&endpoints, deadline, budget).await?;
            let _permit = timeout_at(deadline, self.inner.probes.acquire())
                .await
                .map_err(|_| {
                    timeout_error(format!(
                        "no probe slot became free within {} ms",
                        budget.as_millis()
                    ))
                })?
                .expect("the semaphore is never closed");
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

    /// Resolves every endpoint and checks each address; DNS failures are
    /// classified `dns`.
    async fn check_policy(
        &self,
        endpoints: &[Endpoint],
        deadline: Instant,
        budget: Duration,
    ) -> Result<()> {
        for ep in endpoints {
            let target = ep.to_string();
            if !self.inner.policy.permits_host(&ep.host) {
                tracing::warn!(%target, "probe host name forbidden");
                return Err(Error::TargetForbidden {
                    address: ep.host.clone(),
                    target,
                });
            }
            let lookup = tokio::net::lookup_host((ep.host.as_str(), ep.port));
            let addrs = timeout_at(deadline, lookup)
                .await
                .map_err(|_| {
                    timeout_error(format!(
                        "resolving {} took longer than {} ms",
                        ep.host,
                        budget.as_millis()
                    ))
                })?
                .map_err(|e| {
                    Error::connection_failed(
                        FailureReason::Dns,
                        format!("cannot resolve {}: {e}", ep.host),
                    )
                })?;
            for addr in addrs {
                if !self.inner.policy.permits(addr.ip(), addr.port()) {
                    tracing::warn!(%target, address = %addr.ip(), "probe target forbidden");
                    return Err(Error::TargetForbidden {
                        target,
                        address: addr.ip().to_string(),
                    });
                }
            }
        }
        Ok(())
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
        // The source is logged by adapters: it is scrubbed too (as text).
        Err(Error::Storage { message, source }) => Err(Error::Storage {
            message: scrub(&message, secrets),
            source: source.map(|s| scrub(&chain(&*s), secrets).into()),
        }),
        Err(Error::SecretUnavailable {
            field,
            kind,
            message,
        }) => Err(Error::SecretUnavailable {
            field,
            kind,
            message: scrub(&message, secrets),
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
