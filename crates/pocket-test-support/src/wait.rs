//! Waiting for something another task or process does, with a deadline.

use std::time::Duration;

/// How often [`eventually`] looks again.
const LOOK_EVERY: Duration = Duration::from_millis(10);

/// Waits until `done` holds, looking every 10 ms; panics naming `what` if it still does not
/// after `within`.
pub async fn eventually(within: Duration, what: &str, done: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + within;
    while !done() {
        assert!(tokio::time::Instant::now() < deadline, "timed out after {within:?} waiting for: {what}");
        tokio::time::sleep(LOOK_EVERY).await;
    }
}
