//! Replays every saved fuzz input (`fuzz/seeds/<target>/`, and the crashes
//! found, `fuzz/regressions/<target>/`) through the fuzz cases, so each
//! finding stays fixed and the cases compile and run in CI (fuzz/README.md).

#[path = "../fuzz/src/cases.rs"]
mod cases;

use std::path::Path;

type Case = fn(&[u8]);

const TARGETS: &[(&str, Case)] = &[
    ("new_profile", cases::new_profile),
    ("profile_update", cases::profile_update),
    ("cursor", cases::cursor),
    ("endpoint", cases::endpoint),
    ("connector_check", cases::connector_check),
];

/// Runs `case` on every file under `fuzz/<kind>/<target>/`; returns how many.
fn replay(kind: &str, target: &str, case: Case) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz")
        .join(kind)
        .join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return 0;
    };
    let mut n = 0;
    for entry in entries {
        let path = entry.expect("dir entry").path();
        let data = std::fs::read(&path).expect("read input");
        let name = path.display().to_string();
        if std::panic::catch_unwind(|| case(&data)).is_err() {
            panic!("fuzz input {name} fails its case");
        }
        n += 1;
    }
    n
}

// One test, in sequence: the cases share one service (as in a fuzz process).
#[test]
fn every_saved_fuzz_input_passes_its_case() {
    for (target, case) in TARGETS {
        let seeds = replay("seeds", target, *case);
        assert!(seeds > 0, "no seeds for {target}: fuzz/seeds/{target}/");
        replay("regressions", target, *case);
    }
}
