//! JSON body → `ProfileUpdate` (a JSON merge patch over the config) →
//! `ProfileService::update` of a saved Postgres profile: never a panic; a
//! refused update changes nothing; an accepted one bumps the version by one.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use patchbay::{NewProfile, Profile, ProfileUpdate};
use patchbay_fuzz::{assert_input_error, service};

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

fuzz_target!(|data: &[u8]| {
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
                rt.block_on(service.update(id, restore)).expect("restore name");
            }
        }
        Err(e) => {
            assert_input_error(&e);
            let now = rt.block_on(service.get(id)).expect("get");
            assert_eq!(now, before, "a refused update changed the profile");
        }
    }
});
