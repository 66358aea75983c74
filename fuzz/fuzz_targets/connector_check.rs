//! First byte picks a connector, the rest is a JSON config: the connector's
//! own `check` and the service's validation of an unsaved config never panic
//! and never fail with anything but an input error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use patchbay::NewProfile;
use patchbay_fuzz::{assert_input_error, connectors, service};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let Ok(config) = serde_json::from_slice::<serde_json::Value>(rest) else {
        return;
    };
    let all = connectors();
    let connector = &all[usize::from(pick) % all.len()];
    let _ = connector.check(&config);
    // create validates, seals and stores; it never probes.
    let (rt, service) = service();
    let new = NewProfile {
        name: "fuzz".into(),
        connector: connector.kind().into(),
        description: None,
        config,
    };
    if let Err(e) = rt.block_on(service.create(new)) {
        assert_input_error(&e);
    } else {
        let p = rt
            .block_on(service.get_by_name("fuzz"))
            .expect("created profile is readable");
        rt.block_on(service.delete(&p.id)).expect("delete");
    }
});
