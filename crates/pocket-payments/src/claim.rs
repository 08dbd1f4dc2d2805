//! Running the merchant's code under a claim: once per key, never past the lease, and never
//! leaving the claim held when the code fails, panics or is cancelled.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tracing::Instrument;

use crate::store::{Claim, ClaimToken, PaymentStore};
use crate::{HandlerError, Outcome};

/// A held claim. Completing or releasing it consumes it; dropping it unconsumed (a panic, a
/// cancelled task) releases it in the background.
struct ClaimGuard {
    store: Arc<dyn PaymentStore>,
    key: String,
    token: Option<ClaimToken>,
}

impl ClaimGuard {
    async fn complete(mut self) {
        let Some(token) = self.token.take() else { return };
        // One retry: a store blip here would otherwise leave a finished payment looking unfinished
        // until the lease lapses.
        for attempt in 1..=2 {
            match self.store.complete(&self.key, &token).await {
                Ok(true) => return,
                Ok(false) => {
                    tracing::error!(
                        key = %self.key,
                        "the claim lapsed before the handler's success was recorded; another delivery may run it again"
                    );
                    return;
                }
                Err(error) if attempt == 2 => {
                    tracing::error!(key = %self.key, %error, "the payment store could not record a processed payment");
                }
                Err(_) => {}
            }
        }
    }

    async fn release(mut self) {
        let Some(token) = self.token.take() else { return };
        if let Err(error) = self.store.release(&self.key, &token).await {
            tracing::error!(key = %self.key, %error, "the payment store could not release a claim; it lapses with its lease");
        }
    }
}

impl Drop for ClaimGuard {
    fn drop(&mut self) {
        let Some(token) = self.token.take() else { return };
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

/// Claims `key` for `lease` and runs `work` under `timeout` in a task of its own, so that the
/// caller going away (a dropped connection) neither cancels the merchant's code half-way nor
/// leaves the claim held. `done` is the outcome when `work` succeeds.
pub(crate) async fn run_once<F, Fut>(
    store: &Arc<dyn PaymentStore>,
    key: String,
    lease: Duration,
    timeout: Duration,
    done: Outcome,
    work: F,
) -> Outcome
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = Result<(), HandlerError>> + Send + 'static,
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
    let guard = ClaimGuard { store: store.clone(), key, token: Some(token) };
    let task = tokio::spawn(
        async move {
            match tokio::time::timeout(timeout, work()).await {
                Ok(Ok(())) => {
                    guard.complete().await;
                    true
                }
                Ok(Err(error)) => {
                    tracing::error!(%error, "the payment handler failed; the payment will be tried again");
                    guard.release().await;
                    false
                }
                Err(_) => {
                    tracing::error!(?timeout, "the payment handler ran out of time; the payment will be tried again");
                    guard.release().await;
                    false
                }
            }
        }
        .in_current_span(),
    );
    match task.await {
        Ok(true) => done,
        Ok(false) => Outcome::HandlerFailed,
        Err(_) => {
            // The panic's message is the merchant's and may hold anything: it is not logged here.
            tracing::error!("the payment handler panicked; its claim was released and the payment will be tried again");
            Outcome::HandlerFailed
        }
    }
}
