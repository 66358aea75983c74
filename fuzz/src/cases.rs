//! The fuzz cases: each takes the fuzzer's bytes and panics on a finding. The
//! fuzz targets call them, and the main suite replays every saved input
//! through them (`tests/fuzz_replay.rs`), so they compile and run in CI.
//! One service over the memory store with every connector, on a
//! current-thread runtime, built once per process.

use std::sync::{Arc, OnceLock};

use patchbay::connectors::{kafka, mqtt, mysql, nats, postgres, rabbitmq, redis};
use patchbay::memory::MemoryStore;
use patchbay::repository::{decode_cursor, encode_cursor};
use patchbay::{
    Connector, Endpoint, Error, ListQuery, NewProfile, Profile, ProfileService, ProfileUpdate,
    TenantId,
};

/// Codes an input may legitimately produce; anything else is a finding.
pub const INPUT_ERRORS: &[&str] = &[
    "VALIDATION_FAILED",
    "UNKNOWN_CONNECTOR",
    "ALREADY_EXISTS",
    "VERSION_CONFLICT",
    "NOT_FOUND",
];

/// Every connector the facade ships.
pub fn connectors() -> Vec<Arc<dyn Connector>> {
    vec![
        Arc::new(kafka::KafkaConnector),
        Arc::new(postgres::PostgresConnector),
        Arc::new(mysql::MySqlConnector),
        Arc::new(redis::RedisConnector),
        Arc::new(nats::NatsConnector),
        Arc::new(mqtt::MqttConnector),
        Arc::new(rabbitmq::RabbitMqConnector),
    ]
}

/// The shared runtime and service.
pub fn service() -> &'static (tokio::runtime::Runtime, ProfileService) {
    static CELL: OnceLock<(tokio::runtime::Runtime, ProfileService)> = OnceLock::new();
    CELL.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let mut builder = ProfileService::builder(Arc::new(MemoryStore::new()));
        for c in connectors() {
            builder = builder.connector_arc(c);
        }
        (rt, builder.build().expect("service"))
    })
}

/// Panics unless `e` is an error an input may cause.
pub fn assert_input_error(e: &Error) {
    assert!(
        INPUT_ERRORS.contains(&e.code()),
        "unexpected error for an input: {} ({e})",
        e.code()
    );
}

fn saved() -> &'static Profile {
    static CELL: OnceLock<Profile> = OnceLock::new();
    CELL.get_or_init(|| {
        let (rt, service) = service();
        rt.block_on(service.create(NewProfile {
            name: "fuzz-target".into(),
            connector: "postgres".into(),
            description: None,
            config: serde_json::json!({"host": "127.0.0.1", "port": 5432, "database": "test",
                "username": "postgres", "password": "fuzz-secret"}),
            labels: Default::default(),
        }))
        .expect("create")
    })
}

/// JSON body → `NewProfile` → `ProfileService::create`: no panic, only input
/// errors, no secret field left in the public config.
pub fn new_profile(data: &[u8]) {
    let Ok(new) = serde_json::from_slice::<NewProfile>(data) else {
        return;
    };
    let (rt, service) = service();
    match rt.block_on(service.create(new)) {
        Ok(profile) => {
            for field in profile.secret_fields() {
                assert!(
                    !profile.config.contains_key(&field),
                    "secret {field} in config"
                );
            }
            rt.block_on(service.delete(&profile.id)).expect("delete");
        }
        Err(e) => assert_input_error(&e),
    }
}

/// JSON body → `ProfileUpdate` (a JSON merge patch over the config) →
/// `update` of a saved Postgres profile: a refused update changes nothing, an
/// accepted one bumps the version by one.
pub fn profile_update(data: &[u8]) {
    let Ok(update) = serde_json::from_slice::<ProfileUpdate>(data) else {
        return;
    };
    let (rt, service) = service();
    let id = &saved().id;
    let before = rt.block_on(service.get(id)).expect("get");
    match rt.block_on(service.update(id, update)) {
        Ok(after) => {
            assert_eq!(after.version, before.version + 1);
            // Put it back so every input starts from the same profile.
            let restore = ProfileUpdate {
                name: Some(before.name.clone()),
                ..ProfileUpdate::default()
            };
            if after.name != before.name {
                rt.block_on(service.update(id, restore))
                    .expect("restore name");
            }
        }
        Err(e) => {
            assert_input_error(&e);
            let now = rt.block_on(service.get(id)).expect("get");
            assert_eq!(now, before, "a refused update changed the profile");
        }
    }
}

/// Text → `decode_cursor` and a list call with it: a bad cursor is an input error.
pub fn cursor(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let tenant = TenantId::default();
    if let Ok(key) = decode_cursor(&tenant, text) {
        assert_eq!(
            decode_cursor(&tenant, &encode_cursor(&tenant, &key)).ok(),
            Some(key)
        );
    }
    let (rt, service) = service();
    let query = ListQuery {
        after: Some(text.to_owned()),
        ..ListQuery::default()
    };
    if let Err(e) = rt.block_on(service.list(&query)) {
        assert_input_error(&e);
    }
}

/// Text → `Endpoint::parse`: what parses prints back to the same endpoint.
pub fn endpoint(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for default in [None, Some(9092)] {
        if let Some(ep) = Endpoint::parse(text, default) {
            assert!(ep.port > 0);
            let again = Endpoint::parse(&ep.to_string(), None);
            assert_eq!(again.as_ref(), Some(&ep), "{text:?} -> {ep}");
        }
    }
}

/// Connector pick + JSON config → `Connector::check` and `create`: only input errors.
pub fn connector_check(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let Ok(config) = serde_json::from_slice::<serde_json::Value>(rest) else {
        return;
    };
    let all = connectors();
    let connector = &all[usize::from(pick) % all.len()];
    let _ = connector.check(&config);
    // create validates, seals and stores; it never probes.
    let (rt, service) = service();
    let new = NewProfile {
        name: "fuzz".into(),
        connector: connector.kind().into(),
        description: None,
        config,
        labels: Default::default(),
    };
    if let Err(e) = rt.block_on(service.create(new)) {
        assert_input_error(&e);
    } else {
        let p = rt
            .block_on(service.get_by_name("fuzz"))
            .expect("created profile is readable");
        rt.block_on(service.delete(&p.id)).expect("delete");
    }
}
