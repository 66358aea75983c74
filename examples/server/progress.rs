//! Progress of long CLI operations (import, apply, `key rotate`), told by the
//! library through `patchbay::Progress`: a bar on a terminal, a plain line
//! per tenth on stderr otherwise, nothing with `--json` or for fewer than
//! [`MIN_ITEMS`] items.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use indicatif::{ProgressBar, ProgressStyle};

/// Operations smaller than this finish too fast to need progress.
pub const MIN_ITEMS: usize = 100;

/// Renders one operation's progress on stderr.
pub struct Shown {
    what: &'static str,
    mode: Mode,
    bar: OnceLock<ProgressBar>,
    /// The last tenth printed as a plain line (`usize::MAX`: none yet).
    tenth: AtomicUsize,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Off,
    Bar,
    Lines,
}

impl Shown {
    /// `what` names the operation (`importing`); `json` output shows nothing.
    pub fn new(what: &'static str, json: bool) -> Self {
        let mode = if json {
            Mode::Off
        } else if std::io::stderr().is_terminal() {
            Mode::Bar
        } else {
            Mode::Lines
        };
        Self {
            what,
            mode,
            bar: OnceLock::new(),
            tenth: AtomicUsize::new(usize::MAX),
        }
    }

    /// Leaves the finished bar on the terminal.
    pub fn finish(&self) {
        if let Some(bar) = self.bar.get() {
            bar.finish();
        }
    }

    fn bar(&self, total: usize) -> &ProgressBar {
        self.bar.get_or_init(|| {
            let style = ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({eta} left)")
                .expect("valid template")
                .progress_chars("=> ");
            ProgressBar::new(total as u64)
                .with_style(style)
                .with_message(self.what)
        })
    }
}

impl patchbay::Progress for Shown {
    fn update(&self, done: usize, total: usize) {
        if total < MIN_ITEMS {
            return;
        }
        match self.mode {
            Mode::Off => {}
            Mode::Bar => {
                let bar = self.bar(total);
                bar.set_length(total.max(done) as u64);
                bar.set_position(done as u64);
            }
            Mode::Lines => {
                let tenth = done.min(total) * 10 / total;
                let last = self.tenth.swap(tenth, Ordering::Relaxed);
                if last == usize::MAX || tenth > last {
                    eprintln!("{}: {done}/{total}", self.what);
                }
            }
        }
    }
}
