//! Capturing what a test's code logs, to assert on it (or on what it must never contain).
//!
//! One subscriber serves the whole test process, installed as the global default on first use:
//! it writes each event to the capture installed on the thread that logs it, and drops events
//! on threads without one. Scoped subscribers (`set_default`) would be simpler, but with many
//! tests in one binary, tracing's per-callsite interest — cached process-wide — can leave a
//! test's spans unrecorded when other tests install and drop theirs at the same time.

use std::cell::RefCell;
use std::io::Write;
use std::sync::{Arc, Once};

use parking_lot::Mutex;

use tracing_subscriber::fmt::MakeWriter;

/// Everything logged on this thread, as plain text, while the capture's guard lives.
///
/// ```ignore
/// let logs = LogCapture::new();
/// let _guard = logs.install();
/// // … run the code …
/// assert!(!logs.text().contains("secret"));
/// ```
#[derive(Clone, Default)]
pub struct LogCapture(Arc<Mutex<Vec<u8>>>);

thread_local! {
    /// The capture of this thread, if one is installed.
    static CURRENT: RefCell<Option<LogCapture>> = const { RefCell::new(None) };
}

/// Until dropped, what this thread logs goes to its capture.
pub struct CaptureGuard {
    previous: Option<LogCapture>,
}

impl Drop for CaptureGuard {
    fn drop(&mut self) {
        let previous = self.previous.take();
        CURRENT.with(|current| *current.borrow_mut() = previous);
    }
}

/// Installs the process's one subscriber (unless something else already set a global one).
fn install_global_subscriber() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // No filter at all: a per-thread filter would make every callsite's interest dynamic,
        // and per-layer filtering then lost spans; formatting what no thread captures is cheap.
        let subscriber = tracing_subscriber::fmt()
            .with_writer(ToCurrent)
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .finish();
        if tracing::subscriber::set_global_default(subscriber).is_err() {
            eprintln!("LogCapture: a global subscriber was already set; captures may miss events");
        }
    });
}

impl LogCapture {
    /// An empty capture.
    pub fn new() -> LogCapture {
        LogCapture::default()
    }

    /// Makes this capture the thread's, at every level, until the guard is dropped.
    pub fn install(&self) -> CaptureGuard {
        install_global_subscriber();
        let previous = CURRENT.with(|current| current.borrow_mut().replace(self.clone()));
        CaptureGuard { previous }
    }

    /// What has been logged so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock()).into_owned()
    }
}

impl Write for LogCapture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Writes to the capture of the thread that logs (nowhere if it has none).
struct ToCurrent;

/// One event's writer: the logging thread's capture, if any.
struct CurrentWriter(Option<LogCapture>);

impl Write for CurrentWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        match &mut self.0 {
            Some(capture) => capture.write(bytes),
            None => Ok(bytes.len()),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for ToCurrent {
    type Writer = CurrentWriter;

    fn make_writer(&'a self) -> CurrentWriter {
        CurrentWriter(CURRENT.with(|current| current.borrow().clone()))
    }
}
