//! JSON body → `NewProfile` → `ProfileService::create`: never a panic, never
//! an error other than an input error, and a stored profile's public config
//! holds none of its secret fields.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| patchbay_fuzz::cases::new_profile(data));
