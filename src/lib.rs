#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub use patchbay_core::*;

/// The in-memory store (feature `memory`, on by default).
#[cfg(feature = "memory")]
pub use patchbay_store_memory as memory;

/// Conformance suites for stores and connectors (feature `testkit`).
#[cfg(feature = "testkit")]
pub use patchbay_testkit as testkit;
