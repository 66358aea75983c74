//! Shared setup for the service tests: a service over the memory store with
//! the scripted fake connector.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use patchbay::memory::MemoryStore;
use patchbay::testkit::fake::FakeConnector;
use patchbay::{NetworkPolicy, NewProfile, ProfileService, ProfileServiceBuilder};
use serde_json::{json, Value};

pub fn builder(fake: &FakeConnector) -> ProfileServiceBuilder {
    ProfileService::builder(Arc::new(MemoryStore::new()))
        .connector(fake.clone())
        .probe_timeout(Duration::from_secs(5))
}

pub fn service() -> (ProfileService, FakeConnector) {
    let fake = FakeConnector::default();
    (builder(&fake).build().expect("service"), fake)
}

pub fn strict_service() -> (ProfileService, FakeConnector) {
    let fake = FakeConnector::default();
    let svc = builder(&fake)
        .network_policy(NetworkPolicy::default().deny_private_networks())
        .build()
        .expect("service");
    (svc, fake)
}

pub fn new_profile(name: &str, config: Value) -> NewProfile {
    NewProfile {
        name: name.to_owned(),
        connector: "fake".to_owned(),
        description: Some("test profile".to_owned()),
        config,
        labels: Default::default(),
    }
}

pub fn ok_config(password: &str) -> Value {
    json!({ "host": "127.0.0.1", "port": 9, "password": password })
}
