//! First byte picks a connector, the rest is a JSON config: the connector's
//! own `check` and the service's validation of an unsaved config never panic
//! and never fail with anything but an input error.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| patchbay_fuzz::cases::connector_check(data));
