//! Cursor text → `decode_cursor` and a list call with it: never a panic; a
//! bad cursor is a validation error on `/cursor`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use patchbay::repository::{decode_cursor, encode_cursor};
use patchbay::{ListQuery, TenantId};
use patchbay_fuzz::{assert_input_error, service};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let tenant = TenantId::default();
    if let Ok(key) = decode_cursor(&tenant, text) {
        assert_eq!(decode_cursor(&tenant, &encode_cursor(&tenant, &key)).ok(), Some(key));
    }
    let (rt, service) = service();
    let query = ListQuery {
        after: Some(text.to_owned()),
        ..ListQuery::default()
    };
    if let Err(e) = rt.block_on(service.list(&query)) {
        assert_input_error(&e);
    }
});
