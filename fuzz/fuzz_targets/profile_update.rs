//! JSON body → `ProfileUpdate` (a JSON merge patch over the config) →
//! `ProfileService::update` of a saved Postgres profile: never a panic; a
//! refused update changes nothing; an accepted one bumps the version by one.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| patchbay_fuzz::cases::profile_update(data));
