//! Running the merchant's code under a claim: once per key, never past the lease, and never
//! leaving the claim held when the code fails, panics or is cancelled.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::store::{Claim, ClaimToken, PaymentStore};
use crate::{HandlerError, Outcome};

/// Called when a claim is abandoned (its delivery was cancelled mid-handler), so that someone
/// else — the reconciler — finishes the job.
pub(crate) type OnAbandon = Box<dyn FnOnce() + Send>;

/// A held claim. Completing or releasing it consumes it; dropping it unconsumed (a cancelled
/// delivery) releases it in the background and calls `on_abandon`.
struct ClaimGuard {
    store: Arc<dyn PaymentStore>,
    key: String,
    token: Option<ClaimToken>,
    on_abandon: Option<OnAbandon>,
}

impl ClaimGuard {
    /// Records the success. If the caller goes away meanwhile (a slow shared store, a sender
    /// that hung up), the recording carries on in the background: a payment whose handler
    /// succeeded must not look unfinished.
    async fn complete(mut self) {
        let Some(token) = self.token.take() else { return };
        let (store, key) = (self.store.clone(), std::mem::take(&mut self.key));
        Detached(Some(Box::pin(async move {
            // One retry: a store blip here would otherwise leave a finished payment looking
            // unfinished until the lease lapses.
            for attempt in 1..=2 {
                match store.complete(&key, &token).await {
                    Ok(true) => return,
                    Ok(false) => {
                        tracing::error!(
                            %key,
                            "the claim lapsed before the handler's success was recorded; another delivery may run it again"
                        );
                        return;
                    }
                    Err(error) if attempt == 2 => {
                        tracing::error!(%key, %error, "the payment store could not record a processed payment");
                    }
                    Err(_) => {}
                }
            }
        })))
        .await;
    }

    /// Gives the claim up, finishing in the background if the caller goes away meanwhile.
    async fn release(mut self) {
        let Some(token) = self.token.take() else { return };
        let (store, key) = (self.store.clone(), std::mem::take(&mut self.key));
        Detached(Some(Box::pin(async move {
            if let Err(error) = store.release(&key, &token).await {
                tracing::error!(%key, %error, "the payment store could not release a claim; it lapses with its lease");
            }
        })))
        .await;
    }
}

impl Drop for ClaimGuard {
    fn drop(&mut self) {
        let Some(token) = self.token.take() else { return };
        if let Some(on_abandon) = self.on_abandon.take() {
            on_abandon();
        }
        let (store, key) = (self.store.clone(), std::mem::take(&mut self.key));
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    if let Err(error) = store.release(&key, &token).await {
                        tracing::error!(%key, %error, "could not release an abandoned claim; it lapses with its lease");
                    }
                });
            }
            Err(_) => tracing::warn!(%key, "an abandoned claim lapses with its lease (no runtime to release it)"),
        }
    }
}

/// A future that finishes in a task of its own if it is dropped before it is done — without the
/// cost of a task when it finishes at once, as the in-memory store's calls do.
struct Detached(Option<Pin<Box<dyn Future<Output = ()> + Send>>>);

impl Future for Detached {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let Some(inner) = self.0.as_mut() else { return Poll::Ready(()) };
        match inner.as_mut().poll(cx) {
            Poll::Ready(()) => {
                self.0 = None;
                Poll::Ready(())
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl Drop for Detached {
    fn drop(&mut self) {
        if let Some(unfinished) = self.0.take()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(unfinished);
        }
    }
}

/// A future that turns a panic while polling `inner` into `Err(())`.
struct CatchPanic<F>(Pin<Box<F>>);

impl<F: Future> Future for CatchPanic<F> {
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

/// Claims `key` for `lease` and runs `work` under `timeout`; `done` is the outcome when it
/// succeeds. Failure, a panic or the timeout release the claim at once; a cancelled caller (a
/// sender that hung up) drops the guard, which releases the claim and calls `on_abandon`.
pub(crate) async fn run_once<F, Fut>(
    store: &Arc<dyn PaymentStore>,
    key: String,
    lease: Duration,
    timeout: Duration,
    done: Outcome,
    on_abandon: OnAbandon,
    work: F,
) -> Outcome
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<(), HandlerError>>,
{
    let token = match store.claim(&key, lease).await {
        Ok(Claim::Acquired(token)) => token,
        Ok(Claim::Done) => return Outcome::AlreadyProcessed,
        Ok(Claim::InProgress) => return Outcome::InProgress,
        Err(error) => {
            tracing::error!(%key, %error, "the payment store could not be used");
            return Outcome::StoreUnavailable;
        }
    };
    let guard = ClaimGuard { store: store.clone(), key, token: Some(token), on_abandon: Some(on_abandon) };
    match tokio::time::timeout(timeout, CatchPanic(Box::pin(work()))).await {
        Ok(Ok(Ok(()))) => {
            guard.complete().await;
            done
        }
        Ok(Ok(Err(error))) => {
            tracing::error!(%error, "the payment handler failed; the payment will be tried again");
            guard.release().await;
            Outcome::HandlerFailed
        }
        Ok(Err(())) => {
            // The panic's message is the merchant's and may hold anything: it is not logged here.
            tracing::error!("the payment handler panicked; its claim was released and the payment will be tried again");
            guard.release().await;
            Outcome::HandlerFailed
        }
        Err(_) => {
            tracing::error!(?timeout, "the payment handler ran out of time; the payment will be tried again");
            guard.release().await;
            Outcome::HandlerFailed
        }
    }
}
