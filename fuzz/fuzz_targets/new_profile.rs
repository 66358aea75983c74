//! JSON body → `NewProfile` → `ProfileService::create`: never a panic, never
//! an error other than an input error, and a stored profile's public config
//! holds none of its secret fields.
#![no_main]

use libfuzzer_sys::fuzz_target;
use patchbay::NewProfile;
use patchbay_fuzz::{assert_input_error, service};

fuzz_target!(|data: &[u8]| {
    let Ok(new) = serde_json::from_slice::<NewProfile>(data) else {
        return;
    };
    let (rt, service) = service();
    match rt.block_on(service.create(new)) {
        Ok(profile) => {
            for field in profile.secret_fields() {
                assert!(!profile.config.contains_key(&field), "secret {field} in config");
            }
            rt.block_on(service.delete(&profile.id)).expect("delete");
        }
        Err(e) => assert_input_error(&e),
    }
});
