//! How far a long operation has got (a reseal, an import), told to the host
//! so it can show a bar or log lines: the library itself writes nothing to a
//! terminal.

/// Receives the progress of a long operation. Called from the operation's
/// task, after each item, so keep it cheap (a renderer throttles itself).
pub trait Progress: Send + Sync {
    /// `done` of `total` items are finished. `total` is an estimate made at
    /// the start: concurrent writes may make `done` pass it.
    fn update(&self, done: usize, total: usize);
}

/// Reports nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn update(&self, _done: usize, _total: usize) {}
}

impl<F: Fn(usize, usize) + Send + Sync> Progress for F {
    fn update(&self, done: usize, total: usize) {
        self(done, total)
    }
}
