//! Running code that is not ours (the merchant's callbacks, and anything that calls them) with
//! its panics caught and its time bounded.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// How a run of the merchant's code (or of anything that calls it) ended, when not by itself.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Abnormal {
    Panicked,
    TimedOut,
}

/// Runs `future` with its panics caught and its time bounded by `timeout`: the one way every
/// callback — handler, order check, `unresolved`, a whole poll — is run.
pub(crate) async fn guarded<T>(timeout: Duration, future: impl Future<Output = T>) -> Result<T, Abnormal> {
    let future = std::pin::pin!(future);
    match tokio::time::timeout(timeout, CatchPanic(future)).await {
        Ok(Ok(output)) => Ok(output),
        Ok(Err(())) => Err(Abnormal::Panicked),
        Err(_) => Err(Abnormal::TimedOut),
    }
}

/// A future that turns a panic while polling the future it holds (pinned where the caller put
/// it, not boxed) into `Err(())`.
struct CatchPanic<'a, F>(Pin<&'a mut F>);

impl<F: Future> Future for CatchPanic<'_, F> {
    type Output = Result<F::Output, ()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.0.as_mut();
        // The merchant's future is never polled again after a panic, so no broken state is seen.
        match std::panic::catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(_) => Poll::Ready(Err(())),
        }
    }
}
