//! cargo-fuzz targets for patchbay; the cases live in `cases.rs`.

pub mod cases;
