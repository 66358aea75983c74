//! Cursor text → `decode_cursor` and a list call with it: never a panic; a
//! bad cursor is a validation error on `/cursor`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| patchbay_fuzz::cases::cursor(data));
