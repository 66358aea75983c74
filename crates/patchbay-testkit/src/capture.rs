//! Everything `tracing` (and the `log` crate, through `tracing-log`) writes
//! in this process, from every thread: driver threads such as librdkafka's
//! log through the global subscriber, not a thread's default.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use tracing_subscriber::util::SubscriberInitExt;

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

static BUFFER: OnceLock<Buffer> = OnceLock::new();

/// The process's log text from the moment of [`Logs::start`].
#[derive(Debug)]
pub struct Logs {
    from: usize,
}

impl Logs {
    /// Installs the capturing global subscriber (TRACE, every target) on
    /// first use, and marks where this reader starts.
    ///
    /// # Panics
    /// When another global subscriber was installed first: the capture
    /// would see nothing, and a leak check on it could not fail.
    pub fn start() -> Self {
        let buffer = BUFFER.get_or_init(|| {
            let buffer = Buffer::default();
            let writer = buffer.clone();
            tracing_subscriber::fmt()
                .with_max_level(tracing::Level::TRACE)
                .with_ansi(false)
                .with_writer(move || writer.clone())
                .finish()
                .try_init()
                .expect("the testkit's log capture must be the global subscriber");
            buffer
        });
        Self {
            from: buffer.0.lock().unwrap_or_else(|e| e.into_inner()).len(),
        }
    }

    /// What was logged since [`start`](Self::start) (by any thread: tests
    /// running in parallel in one process add theirs).
    pub fn text(&self) -> String {
        let buffer = BUFFER.get().expect("started");
        let bytes = buffer.0.lock().unwrap_or_else(|e| e.into_inner());
        String::from_utf8_lossy(&bytes[self.from.min(bytes.len())..]).into_owned()
    }
}
