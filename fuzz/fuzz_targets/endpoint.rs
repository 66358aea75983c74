//! `host:port` text → `Endpoint::parse`: never a panic; what parses prints
//! back to something that parses to the same endpoint.
#![no_main]

use libfuzzer_sys::fuzz_target;
use patchbay::Endpoint;

fuzz_target!(|data: &[u8]| {
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
});
