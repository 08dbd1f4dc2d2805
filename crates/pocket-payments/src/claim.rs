//! Running the merchant's code under a claim: once per key, never past the lease, and never
//! leaving the claim held when the code fails, panics or is cancelled.
//!
//! The lease is counted from the moment the claim was *asked for*: the store grants it at some
//! moment after that, so the lease ends no earlier there than it does here, however slow the
//! store's reply. The handler gets what is left of it, less the time kept for recording its
//! success; recording keeps trying until the lease ends, and a success that could not be
//! recorded is never reported as processed.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::Instant;

use crate::backoff::Backoff;
use crate::counted::Store;
use crate::guard::{Abnormal, guarded};
use crate::store::{Claim, ClaimToken};
use crate::telemetry::{Callback, Meters, Ran, Started};
use crate::{HandlerError, Outcome};

/// Called when a claim is abandoned (its delivery was cancelled mid-handler), so that someone
/// else — the reconciler — finishes the job.
pub(crate) type OnAbandon = Box<dyn FnOnce() + Send>;

/// One run of the merchant's code under a claim on `key`.
pub(crate) struct Run<'a> {
    pub store: &'a Store,
    pub meters: &'a Meters,
    pub key: String,
    /// Which of the merchant's callbacks runs (for its metrics).
    pub callback: Callback,
    pub lease: Duration,
    /// The longest the code may run.
    pub timeout: Duration,
    /// Kept at the lease's end for recording the success.
    pub margin: Duration,
    /// The outcome when the code succeeds and that is recorded.
    pub done: Outcome,
    pub on_abandon: OnAbandon,
}

/// How long a delivery waits for its success to be recorded before it answers "come again"
/// (the recording carries on in the background until the lease ends).
const COMPLETION_WAIT: Duration = Duration::from_secs(10);

/// A held claim. Completing or releasing it consumes it; dropping it unconsumed (a cancelled
/// delivery) releases it in the background and calls `on_abandon`.
struct ClaimGuard {
    store: Store,
    key: String,
    token: Option<ClaimToken>,
    lease: Duration,
    lease_ends: Instant,
    on_abandon: Option<OnAbandon>,
}

/// What became of recording a success.
#[derive(Debug, PartialEq)]
enum Recorded {
    /// Done, in the store.
    Stored,
    /// Another claim holds the key now (our lease lapsed): that one decides.
    Taken,
    /// The store could not be reached before the lease ended.
    Unrecorded,
}

impl ClaimGuard {
    /// Records the success, trying until the lease ends. If the caller stops waiting (a slow
    /// shared store, a sender that hung up), the recording carries on in the background: a
    /// payment whose handler succeeded must not look unfinished while it can still be recorded.
    async fn complete(mut self) -> Option<Recorded> {
        let token = self.token.take()?;
        // The in-memory store answers at once: nothing to wait for or finish in the background
        // (a lapsed claim takes the full way below, which takes it again if nobody else has).
        if self.store.complete_at_once(&self.key, &token) == Some(true) {
            return Some(Recorded::Stored);
        }
        let (store, key, lease, lease_ends) =
            (self.store.clone(), std::mem::take(&mut self.key), self.lease, self.lease_ends);
        let mut recording = Detached::new(record(store, key, token, lease, lease_ends));
        tokio::time::timeout(COMPLETION_WAIT, &mut recording).await.ok()
    }

    /// Gives the claim up, finishing in the background if the caller goes away meanwhile.
    async fn release(mut self) {
        let Some(token) = self.token.take() else { return };
        let (store, key) = (self.store.clone(), std::mem::take(&mut self.key));
        Detached::new(async move {
            if let Err(error) = store.release(&key, &token).await {
                tracing::error!(%key, %error, "the payment store could not release a claim; it lapses with its lease");
            }
        })
        .await;
    }
}

/// Records `key` done under `token`, retrying store failures until `lease_ends`. A claim found
/// lapsed (a store that lost or expired it) is taken again and completed at once, so a success
/// is not lost to a clock or a restart when nobody else has the key.
async fn record(store: Store, key: String, token: ClaimToken, lease: Duration, lease_ends: Instant) -> Recorded {
    let mut token = token;
    let mut retry = Backoff::new(Duration::from_millis(25), Duration::from_secs(1));
    let mut retaken = false;
    loop {
        let attempt = tokio::time::timeout_at(lease_ends, store.complete(&key, &token)).await;
        match attempt {
            Ok(Ok(true)) => return Recorded::Stored,
            Ok(Ok(false)) if !retaken => {
                retaken = true;
                tracing::error!(%key, "the claim was gone before the handler's success was recorded; taking it again");
                match store.claim(&key, lease).await {
                    Ok(Claim::Acquired(again)) => token = again,
                    Ok(Claim::Done) => return Recorded::Stored,
                    Ok(Claim::InProgress) => return Recorded::Taken,
                    Err(error) => tracing::warn!(%key, %error, "the payment store failed; retrying"),
                }
                continue;
            }
            Ok(Ok(false)) => return Recorded::Taken,
            Ok(Err(error)) => tracing::warn!(%key, %error, "could not record a processed payment yet; retrying"),
            Err(_) => {}
        }
        if Instant::now() + retry.step() >= lease_ends {
            tracing::error!(
                %key,
                "the handler succeeded but the payment store could not record it before the claim's lease ended; another delivery may run it again"
            );
            return Recorded::Unrecorded;
        }
        tokio::time::sleep(retry.next_wait()).await;
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
pub(crate) struct Detached<T: Send + 'static>(Option<Pin<Box<dyn Future<Output = T> + Send>>>);

impl<T: Send + 'static> Detached<T> {
    pub(crate) fn new(future: impl Future<Output = T> + Send + 'static) -> Detached<T> {
        Detached(Some(Box::pin(future)))
    }
}

impl<T: Send + 'static> Future for Detached<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let Some(inner) = self.0.as_mut() else { return Poll::Pending };
        match inner.as_mut().poll(cx) {
            Poll::Ready(output) => {
                self.0 = None;
                Poll::Ready(output)
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T: Send + 'static> Drop for Detached<T> {
    fn drop(&mut self) {
        if let Some(unfinished) = self.0.take()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(async move {
                unfinished.await;
            });
        }
    }
}

/// Claims the run's key and runs `work` in what is left of the lease (at most the timeout);
/// `done` is the outcome when it succeeds and that is recorded. Failure, a panic or the timeout
/// release the claim at once; a cancelled caller (a sender that hung up) drops the guard, which
/// releases the claim and calls `on_abandon`.
pub(crate) async fn run_once<F, Fut>(run: Run<'_>, work: F) -> Outcome
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<(), HandlerError>>,
{
    let asked_at = Instant::now();
    let token = match run.store.claim(&run.key, run.lease).await {
        Ok(Claim::Acquired(token)) => token,
        Ok(Claim::Done) => return Outcome::AlreadyHandled,
        Ok(Claim::InProgress) => return Outcome::InProgress,
        Err(error) => {
            tracing::error!(key = %run.key, %error, "the payment store could not be used");
            return Outcome::StoreUnavailable;
        }
    };
    let lease_ends = asked_at + run.lease;
    let guard = ClaimGuard {
        store: run.store.clone(),
        key: run.key,
        token: Some(token),
        lease: run.lease,
        lease_ends,
        on_abandon: Some(run.on_abandon),
    };
    let left = lease_ends.saturating_duration_since(Instant::now()).saturating_sub(run.margin);
    let budget = run.timeout.min(left);
    if budget.is_zero() {
        tracing::error!(
            "the payment store granted the claim too late to run the handler within its lease; trying later"
        );
        guard.release().await;
        return Outcome::StoreUnavailable;
    }
    let started = Started::now();
    let ran = guarded(budget, work()).await;
    run.meters.callback_ran(run.callback, Ran::of(&ran), started);
    match ran {
        Ok(Ok(())) => match guard.complete().await {
            Some(Recorded::Stored) => run.done,
            Some(Recorded::Taken) => Outcome::InProgress,
            Some(Recorded::Unrecorded) | None => Outcome::StoreUnavailable,
        },
        Ok(Err(error)) => {
            tracing::error!(%error, "the payment handler failed; the payment will be tried again");
            guard.release().await;
            Outcome::HandlerFailed
        }
        Err(Abnormal::Panicked) => {
            // The panic's message is the merchant's and may hold anything: it is not logged here.
            tracing::error!("the payment handler panicked; its claim was released and the payment will be tried again");
            guard.release().await;
            Outcome::HandlerFailed
        }
        Err(Abnormal::TimedOut) => {
            tracing::error!(?budget, "the payment handler ran out of time; the payment will be tried again");
            guard.release().await;
            Outcome::HandlerFailed
        }
    }
}
