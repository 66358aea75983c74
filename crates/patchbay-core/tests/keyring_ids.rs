//! A keyring lists every key it holds, older ones too: rotation, retiring
//! and the startup key check rely on it (a mutation listing only the
//! active key passed every other core test).

use patchbay_core::{Key, Keyring, Sealer};

#[test]
fn key_ids_list_the_active_key_then_the_older_ones() {
    let (a, b, c) = (Key::generate(), Key::generate(), Key::generate());
    let ids = [a.id().to_owned(), b.id().to_owned(), c.id().to_owned()];
    let ring = Keyring::new(a).with_older(b).with_older(c);
    assert_eq!(ring.key_ids(), ids);
    assert_eq!(ring.active_key_id(), ids[0]);
}
