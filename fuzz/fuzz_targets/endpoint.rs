//! `host:port` text → `Endpoint::parse`: never a panic; what parses prints
//! back to something that parses to the same endpoint.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| patchbay_fuzz::cases::endpoint(data));
