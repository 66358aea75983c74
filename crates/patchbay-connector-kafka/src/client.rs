//! The native client from a profile: the one builder the probe and hosts
//! share, and guarded client creation.

use std::ffi::{c_char, CStr};

use patchbay_core::{Error, Result, ValidationErrors};
use rdkafka::bindings as rd;
use rdkafka::client::{Client, ClientContext};
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::error::{KafkaError, KafkaResult};
use rdkafka::types::RDKafkaType;
use rdkafka::ClientConfig;

use crate::config::KafkaConfig;
use crate::guard::GuardedContext;

/// The librdkafka configuration of a profile: bootstrap servers, security
/// protocol, SASL, CA, and its allow-listed `properties`. Build any
/// producer or consumer from it (adding `group.id` and the like); the
/// connector's probe builds its client from exactly this.
///
/// The config is checked again here (a `KafkaConfig` is a plain struct a
/// host can fill in): a property off the allow-list — anything that reads a
/// local file such as `ssl.key.location`, loads code, or redirects traffic —
/// is refused, with every problem named by its JSON Pointer. A host that
/// builds several clients from one profile checks once with
/// [`CheckedKafkaConfig`] instead.
///
/// # Errors
/// `Validation` when the config has problems.
pub fn client_config(config: &KafkaConfig) -> Result<ClientConfig> {
    // One pass over the config: every check, and the bootstrap list.
    match config.checked() {
        (Some(servers), problems) if problems.is_empty() => Ok(build(config, &servers)),
        (_, problems) => Err(Error::Validation(ValidationErrors(problems))),
    }
}

/// A [`KafkaConfig`] that passed [`client_config`]'s checks, read-only from
/// then on: its [`client_config`](Self::client_config) builds without
/// checking again (as cheap as setting the same properties by hand).
///
/// ```
/// use patchbay_connector_kafka::{CheckedKafkaConfig, KafkaConfig};
/// let config: KafkaConfig =
///     serde_json::from_value(serde_json::json!({ "bootstrap_servers": "kafka-1:9092" })).unwrap();
/// // From a resolved profile: CheckedKafkaConfig::new(resolved.config()?)?
/// let checked = CheckedKafkaConfig::new(config).unwrap();
/// let producer_config = checked.client_config();
/// assert_eq!(producer_config.get("bootstrap.servers"), Some("kafka-1:9092"));
/// ```
#[derive(Debug, Clone)]
pub struct CheckedKafkaConfig {
    config: KafkaConfig,
    servers: String,
}

impl CheckedKafkaConfig {
    /// Checks `config` as [`client_config`] does.
    ///
    /// # Errors
    /// `Validation` naming every problem.
    pub fn new(config: KafkaConfig) -> Result<Self> {
        let servers = match config.checked() {
            (Some(servers), problems) if problems.is_empty() => servers.into_owned(),
            (_, problems) => return Err(Error::Validation(ValidationErrors(problems))),
        };
        Ok(Self { config, servers })
    }

    /// The same `ClientConfig` as [`client_config`], without the checks.
    pub fn client_config(&self) -> ClientConfig {
        build(&self.config, &self.servers)
    }

    /// The config that was checked.
    pub fn config(&self) -> &KafkaConfig {
        &self.config
    }
}

impl TryFrom<KafkaConfig> for CheckedKafkaConfig {
    type Error = Error;

    fn try_from(config: KafkaConfig) -> Result<Self> {
        Self::new(config)
    }
}

/// The map of a checked config; `servers` is its bootstrap list written out.
fn build(config: &KafkaConfig, servers: &str) -> ClientConfig {
    let sasl = config.security_protocol.uses_sasl();
    let pair = |k: &str, v: &str| (k.to_owned(), v.to_owned());
    let typed = [
        Some(pair("bootstrap.servers", servers)),
        Some(pair(
            "security.protocol",
            config.security_protocol.as_rdkafka(),
        )),
        (config.sasl_mechanism.filter(|_| sasl)).map(|m| pair("sasl.mechanism", m.as_rdkafka())),
        (config.sasl_username.as_deref().filter(|_| sasl)).map(|u| pair("sasl.username", u)),
        (config.sasl_password.as_ref().filter(|_| sasl)).map(|p| pair("sasl.password", p.expose())),
        config
            .ssl_ca_pem
            .as_deref()
            .map(|pem| pair("ssl.ca.pem", pem)),
    ];
    let len = config.properties.len() + typed.iter().flatten().count();
    let entries = (config.properties.iter())
        .map(|(name, value)| (name.clone(), value.clone()))
        .chain(typed.into_iter().flatten());
    // `extend` sizes the map by the iterator's size hint: one allocation,
    // where setting entries one by one grows (and rehashes) it twice.
    let mut cfg = ClientConfig::new();
    cfg.extend(Exact { entries, len });
    cfg
}

/// An iterator that knows its length (a `flatten` does not say).
struct Exact<I> {
    entries: I,
    len: usize,
}

impl<I: Iterator> Iterator for Exact<I> {
    type Item = I::Item;

    fn next(&mut self) -> Option<I::Item> {
        let next = self.entries.next()?;
        self.len = self.len.saturating_sub(1);
        Some(next)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.len, Some(self.len))
    }
}

/// Creates a client whose every broker address — bootstrap and advertised —
/// goes through `context`'s [`BrokerGuard`](crate::BrokerGuard): resolved
/// from checked addresses or a bounded lookup, checked against the network
/// policy, and checked again at `connect(2)`. A forbidden broker is never
/// contacted; the guard records it.
///
/// The client is a producer-type handle without a message queue in use:
/// metadata, watermarks, group lists. Its log and error events reach the
/// context only through [`serve_events`]; call it while waiting.
///
/// rdkafka 0.39's producers and consumers build their native config
/// internally, so they cannot carry these hooks; see the crate README.
///
/// # Errors
/// librdkafka's, when it refuses the configuration.
pub fn create_client<C: GuardedContext>(
    config: &ClientConfig,
    context: C,
) -> KafkaResult<Client<C>> {
    let native = config.create_native_config()?;
    // SAFETY: `native` becomes the config of the client created right here
    // with a context of type `C`, which rdkafka sets as the opaque.
    unsafe { crate::hooks::install::<C>(native.ptr()) };
    Client::new(config, native, RDKafkaType::RD_KAFKA_PRODUCER, context)
}

/// Serves the log and error events queued on `client`'s main queue to its
/// context, without waiting; returns how many there were (at most 1,000).
pub fn serve_events<C: ClientContext>(client: &Client<C>) -> usize {
    let context = client.context();
    let mut served = 0;
    // SAFETY: the client is alive; the queue handle is destroyed below and
    // each event after it is read.
    unsafe {
        let queue = rd::rd_kafka_queue_get_main(client.native_ptr());
        while served < 1000 {
            let event = rd::rd_kafka_queue_poll(queue, 0);
            if event.is_null() {
                break;
            }
            served += 1;
            match rd::rd_kafka_event_type(event) {
                rd::RD_KAFKA_EVENT_LOG => {
                    let (mut fac, mut text): (*const c_char, *const c_char) =
                        (std::ptr::null(), std::ptr::null());
                    let mut level = 0;
                    if rd::rd_kafka_event_log(event, &mut fac, &mut text, &mut level) == 0 {
                        let fac = CStr::from_ptr(fac).to_string_lossy();
                        let text = CStr::from_ptr(text).to_string_lossy();
                        context.log(log_level(level), fac.trim(), text.trim());
                    }
                }
                rd::RD_KAFKA_EVENT_ERROR => {
                    let code = rd::rd_kafka_event_error(event);
                    let reason =
                        CStr::from_ptr(rd::rd_kafka_event_error_string(event)).to_string_lossy();
                    context.error(KafkaError::Global(code.into()), reason.trim());
                }
                // Nothing else is queued: no messages, no stats, no OAUTHBEARER.
                _ => {}
            }
            rd::rd_kafka_event_destroy(event);
        }
        rd::rd_kafka_queue_destroy(queue);
    }
    served
}

fn log_level(level: i32) -> RDKafkaLogLevel {
    match level {
        0 => RDKafkaLogLevel::Emerg,
        1 => RDKafkaLogLevel::Alert,
        2 => RDKafkaLogLevel::Critical,
        3 => RDKafkaLogLevel::Error,
        4 => RDKafkaLogLevel::Warning,
        5 => RDKafkaLogLevel::Notice,
        6 => RDKafkaLogLevel::Info,
        _ => RDKafkaLogLevel::Debug,
    }
}
